'use strict';
// $cbs and $management request handling: the com.microsoft:* operations the
// azservicebus SDK sends on request/response links.

const types = require('rhea/lib/types.js');
const codec = require('./codec.js');
const { BrokerError } = require('./errors.js');

function handleRequest(broker, address, app, body, st) {
  const op = app.operation;
  if (address === '$cbs') {
    if (op !== 'put-token') throw new BrokerError(400, 'amqp:not-implemented', `unsupported $cbs operation ${op}`);
    return { status: 202 };
  }
  const entityPath = address.replace(/\/?\$management$/i, '');
  const { kind, entity } = broker.resolve(entityPath);
  const consumer = app['associated-link-name'] ? st.consumersByName.get(app['associated-link-name']) : undefined;
  const b = body || {};
  const now = Date.now();
  switch (op) {
    case 'com.microsoft:schedule-message':
      return schedule(kind, entity, b, now);
    case 'com.microsoft:cancel-scheduled-message':
      for (const seq of b['sequence-numbers'] || []) entity.cancelScheduled(Number(seq));
      return { status: 200, body: types.wrap_map({}) };
  }
  if (kind === 'topic') throw new BrokerError(400, 'amqp:not-allowed', `operation ${op} is not valid on topic ${entityPath}`);
  switch (op) {
    case 'com.microsoft:renew-lock': {
      const times = (b['lock-tokens'] || []).map((t) => entity.renewLock(Buffer.from(t).toString('hex'), consumer));
      return { body: types.wrap_map({ expirations: types.wrap_array(times, 0x83) }) };
    }
    case 'com.microsoft:peek-message': {
      const from = Number(b['from-sequence-number'] || 0);
      const count = Number(b['message-count'] || 1);
      const msgs = entity.peek(from, count, consumer && consumer.session);
      if (msgs.length === 0) return { status: 204 };
      return {
        body: types.wrap_map({
          messages: types.wrap_list(msgs.map((m) => types.wrap_map({ message: types.wrap_binary(entity.encode(m, {})) }))),
        }),
      };
    }
    case 'com.microsoft:receive-by-sequence-number': {
      const peekLock = Number(b['receiver-settle-mode']) === 1;
      const got = entity.receiveDeferred(b['sequence-numbers'] || [], peekLock, consumer);
      return {
        body: types.wrap_map({
          messages: types.wrap_list(got.map(({ msg, payload }) => {
            const item = { message: types.wrap_binary(payload) };
            if (peekLock) item['lock-token'] = types.wrap_uuid(msg.lockToken);
            return types.wrap_map(item);
          })),
        }),
      };
    }
    case 'com.microsoft:update-disposition': {
      const status = b['disposition-status'];
      for (const t of b['lock-tokens'] || []) {
        const msg = entity.lockedMessage(Buffer.from(t).toString('hex'), consumer);
        entity.settle(msg, status, {
          reason: b['deadletter-reason'], description: b['deadletter-description'], properties: b['properties-to-modify'],
        });
      }
      return { body: types.wrap_map({}) };
    }
    case 'com.microsoft:renew-session-lock': {
      const s = entity.sessionFor(b['session-id'], consumer);
      s.lockedUntil = now + entity.props.lockDurationMs;
      return { body: types.wrap_map({ expiration: types.wrap_timestamp(s.lockedUntil) }) };
    }
    case 'com.microsoft:get-session-state': {
      const s = entity.sessionFor(b['session-id'], consumer);
      return { body: types.wrap_map({ 'session-state': s.state ? types.wrap_binary(s.state) : null }) };
    }
    case 'com.microsoft:set-session-state': {
      const s = entity.sessionFor(b['session-id'], consumer);
      const v = b['session-state'];
      entity.setSessionState(s, v === undefined || v === null ? null : Buffer.from(v), now);
      return { body: types.wrap_map({}) };
    }
    case 'com.microsoft:get-message-sessions': {
      // A last-updated-time before year 10000 asks for sessions whose state
      // changed since then; otherwise sessions with messages or state.
      const since = b['last-updated-time'] instanceof Date ? b['last-updated-time'].getTime() : Infinity;
      const ids = [];
      for (const s of entity.sessions.values()) {
        if (since < 253402300800000 ? s.stateUpdatedAt > since : s.count > 0 || s.state) ids.push(s.id);
      }
      const skip = Number(b.skip || 0);
      const top = Number(b.top || 100);
      const page = ids.slice(skip, skip + top);
      if (page.length === 0) return { status: 204 };
      return { body: types.wrap_map({ skip: types.wrap_int(skip + page.length), 'sessions-ids': types.wrap_list(page) }) };
    }
    default:
      throw new BrokerError(501, 'com.microsoft:not-implemented', `operation ${op} is not supported by the emulator`);
  }
}

function schedule(kind, entity, b, now) {
  const seqs = [];
  for (const item of b.messages || []) {
    const parsed = codec.parse(Buffer.from(item.message));
    entity.checkSendable(parsed);
    const sched = codec.annotationValue(parsed, 'x-opt-scheduled-enqueue-time');
    const at = sched instanceof Date ? sched.getTime() : Number(sched || 0);
    if (kind === 'topic') {
      seqs.push(entity.schedule(parsed, at, now));
    } else {
      const stored = entity.store(parsed, now);
      seqs.push(stored ? stored.seq : 0); // 0: forwarded (ForwardTo)
    }
  }
  return { body: types.wrap_map({ 'sequence-numbers': types.wrap_array(seqs, 0x81) }) };
}

module.exports = { handleRequest };
