'use strict';
// AMQP 1.0 wiring: links to entities, $cbs and $management request/response
// links, settlement, sessions. Speaks what the azservicebus SDK expects.

const rhea = require('rhea');
const types = require('rhea/lib/types.js');
const rheaMessage = require('rhea/lib/message.js');
const terminus = require('rhea/lib/terminus.js');
const codec = require('./codec.js');
const { BrokerError, lockLost } = require('./errors.js');
const { handleRequest } = require('./management.js');
const { Faults } = require('./faults.js');

// rhea decodes every format-0 transfer; the broker wants the bytes, so the
// decode step hands them through and request links decode on demand.
const decodeMessage = codec.decode;
rheaMessage.decode = (buf) => ({ raw: buf });

const SESSION_FILTER = 'com.microsoft:session-filter';
const SESSION_FILTER_CODE = 0x137000000c;
const MAX_MESSAGE_SIZE = 1024 * 1024;
const DEFAULT_ACCEPT_SESSION_TIMEOUT_MS = 60_000;
const TICKS_AT_EPOCH = 621355968000000000n;

function ticks(ms) {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(Math.round(ms)) * 10000n + TICKS_AT_EPOCH);
  return types.Long(b);
}

function amqpError(err) {
  if (err instanceof BrokerError) return { condition: err.condition, description: err.message };
  return { condition: 'amqp:internal-error', description: String(err && err.message ? err.message : err) };
}

function connState(conn) {
  if (!conn.sb) {
    conn.sb = { replyLinks: new Map(), consumersByName: new Map(), consumers: new Set(), targets: new Set() };
  }
  return conn.sb;
}

function filterValue(source) {
  const f = source && source.filter;
  if (!f || typeof f !== 'object' || !(SESSION_FILTER in f)) return { present: false };
  let v = f[SESSION_FILTER];
  while (v && typeof v === 'object' && 'value' in v && !Buffer.isBuffer(v)) v = v.value;
  return { present: true, id: v === undefined || v === null ? null : String(v) };
}

// coalesceWrites batches the socket writes of one event-loop turn into one
// syscall: rhea writes every frame separately, and with TCP_NODELAY each
// would otherwise be its own packet.
function coalesceWrites(sock) {
  const write = sock.write.bind(sock);
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = (...args) => {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(uncork);
    }
    return write(...args);
  };
}

// settleDelivery sends the broker's settled reply to a client's disposition.
function settleDelivery(d, reply) {
  if (!d.remote_settled) {
    d.update(true, reply);
    // In receiver-settle-mode second the client treats our settled reply as
    // final and never settles again; without this rhea keeps the delivery
    // in the session's outgoing buffer forever and the link stalls.
    d.remote_settled = true;
  } else {
    d.settled = true;
  }
}

const NO_FAULT = { delayMs: 0, fail: null };

const FAULT_STATUS = { 'com.microsoft:server-busy': 503, 'amqp:internal-error': 500, 'com.microsoft:message-lock-lost': 410 };

function injectedFailure(condition) {
  return new BrokerError(FAULT_STATUS[condition] || 503, condition, 'fault injection: the settlement failed');
}

const DETACH_FORCED = () => new BrokerError(503, 'amqp:link:detach-forced', 'fault injection: links are detached');

function isRequestAddress(addr) {
  return addr === '$cbs' || /\/\$management$/i.test(addr) || addr === '$management';
}

class Server {
  constructor(broker, log) {
    this.broker = broker;
    this.log = log;
    const opts = {
      id: 'servicebus-emulator',
      autoaccept: false,
      treat_modified_as_released: false,
      container_id: 'servicebus-emulator',
      max_frame_size: 65536,
      // deliveries held by clients (prefetched, unsettled) stay in rhea's per-session
      // ring until settled; leave plenty of room.
      session_buffer_size: 1 << 16,
    };
    this.opts = opts;
    this.connections = new Set();
    this.sockets = new Set();
    this.faults = new Faults({ dropConnections: () => this.dropAllConnections(), detachLinks: () => this.detachAllLinks() });
    const c = rhea.create_container(opts);
    c.sasl_server_mechanisms.enable_anonymous();
    c.sasl_server_mechanisms.enable_plain(() => true);
    c.on('sender_open', (ctx) => this.guard(() => this.onSenderOpen(ctx), ctx.sender));
    c.on('receiver_open', (ctx) => this.guard(() => this.onReceiverOpen(ctx), ctx.receiver));
    c.on('message', (ctx) => this.guard(() => this.onMessage(ctx)));
    c.on('sender_flow', (ctx) => {
      const consumer = ctx.sender.consumer;
      if (consumer) consumer.entity.pump();
    });
    c.on('accepted', (ctx) => this.onOutcome(ctx, 'completed'));
    // released (the SDK's releaser returning prefetched messages it will not
    // hand out) is not a failed delivery: it does not count towards MaxDeliveryCount.
    c.on('released', (ctx) => this.onOutcome(ctx, 'released'));
    c.on('modified', (ctx) => {
      const st = ctx.delivery.remote_state || {};
      this.onOutcome(ctx, st.undeliverable_here ? 'defered' : 'abandoned', { properties: st.message_annotations });
    });
    c.on('rejected', (ctx) => {
      const err = (ctx.delivery.remote_state && ctx.delivery.remote_state.error) || {};
      const info = { ...(err.info || {}) };
      const reason = info.DeadLetterReason;
      const description = info.DeadLetterErrorDescription;
      delete info.DeadLetterReason;
      delete info.DeadLetterErrorDescription;
      this.onOutcome(ctx, 'suspended', { reason, description, properties: info });
    });
    c.on('sender_close', (ctx) => {
      const link = ctx.sender;
      if (link.replyAddress) {
        const st = connState(ctx.connection);
        if (st.replyLinks.get(link.replyAddress) === link) st.replyLinks.delete(link.replyAddress);
      }
      this.dropConsumer(link);
    });
    c.on('receiver_close', (ctx) => {
      if (ctx.connection.sb) ctx.connection.sb.targets.delete(ctx.receiver);
    });
    c.on('connection_open', (ctx) => this.connections.add(ctx.connection));
    c.on('sender_error', () => {});
    c.on('receiver_error', () => {});
    c.on('session_error', () => {});
    c.on('connection_error', () => {});
    c.on('disconnected', (ctx) => this.dropConnection(ctx.connection));
    c.on('connection_close', (ctx) => this.dropConnection(ctx.connection));
    c.on('error', (err) => this.log(`amqp error: ${err && err.message}`));
    this.container = c;
  }

  listen(host, port) {
    return new Promise((resolve, reject) => {
      const server = this.container.listen({ ...this.opts, host, port, noDelay: true });
      server.on('connection', (sock) => {
        if (this.faults.refusingConnections()) {
          sock.destroy();
          return;
        }
        this.sockets.add(sock);
        sock.once('close', () => this.sockets.delete(sock));
        sock.setNoDelay(true);
        coalesceWrites(sock);
      });
      server.once('error', reject);
      server.once('listening', () => resolve(server));
      this.server = server;
    });
  }

  guard(fn, link) {
    try {
      fn();
    } catch (err) {
      this.log(`error: ${err.stack || err}`);
      if (link) this.refuse(link, err);
    }
  }

  // refuse answers an attach with no terminus and detaches with the error, the
  // way Service Bus reports a failed link.
  refuse(link, err) {
    link.local.attach.source = null;
    link.local.attach.target = null;
    link.close(amqpError(err));
  }

  onSenderOpen(ctx) {
    const link = ctx.sender;
    const remote = link.remote.attach;
    const src = remote.source || {};
    const tgt = remote.target || {};
    const address = src.address || '';
    link.local.attach.snd_settle_mode = remote.snd_settle_mode;
    link.local.attach.rcv_settle_mode = remote.rcv_settle_mode;
    if (isRequestAddress(address)) {
      link.set_source({ address });
      link.set_target({ address: tgt.address });
      connState(ctx.connection).replyLinks.set(tgt.address, link);
      link.replyAddress = tgt.address;
      return;
    }
    if (this.faults.detachingLinks()) throw DETACH_FORCED();
    const { kind, entity } = this.broker.resolve(address);
    if (kind === 'topic') throw new BrokerError(400, 'amqp:not-allowed', `cannot receive from topic ${address}; receive from a subscription`);
    const filter = filterValue(src);
    if (entity.requiresSession && !filter.present) {
      throw new BrokerError(400, 'amqp:not-allowed',
        `It is not possible for an entity that requires sessions to create a non-sessionful message receiver (${address}).`);
    }
    if (!entity.requiresSession && filter.present) {
      throw new BrokerError(400, 'amqp:not-allowed', `The entity ${address} does not require sessions; a session receiver cannot be created.`);
    }
    const consumer = {
      link, entity, peekLock: remote.rcv_settle_mode === 1, session: null, closed: false, conn: ctx.connection,
      lost: (err) => {
        consumer.closed = true;
        if (link.is_open()) link.close(amqpError(err));
      },
    };
    const st = connState(ctx.connection);
    link.consumer = consumer;
    st.consumers.add(consumer);
    st.consumersByName.set(link.name, consumer);
    if (!filter.present) {
      link.set_source({ address });
      link.set_target({ address: tgt.address });
      entity.addConsumer(consumer);
      return;
    }
    const now = Date.now();
    const s = entity.acquireSession(consumer, filter.id, now);
    if (s) {
      this.openSessionLink(consumer, address, tgt.address);
      return;
    }
    // accept-next-session with nothing available: hold the attach until a
    // session has messages or the client's timeout passes.
    link.state.local_open = false;
    link.state.open_requests--;
    const props = remote.properties || {};
    let timeout = Number(props['com.microsoft:timeout']);
    if (!Number.isFinite(timeout) || timeout <= 0) timeout = DEFAULT_ACCEPT_SESSION_TIMEOUT_MS;
    // The SDK sends its own deadline; answer a little before it so the client
    // sees com.microsoft:timeout rather than its context expiring.
    timeout -= Math.min(1000, timeout / 4);
    const timer = setTimeout(() => {
      cancel();
      consumer.waiting = null;
      link.open();
      this.refuse(link, new BrokerError(408, 'com.microsoft:timeout', 'No sessions available to accept within the timeout.'));
    }, timeout);
    const cancel = entity.waitForSession(consumer, () => {
      clearTimeout(timer);
      consumer.waiting = null;
      if (consumer.closed) {
        entity.removeConsumer(consumer);
        return;
      }
      link.open();
      this.openSessionLink(consumer, address, tgt.address);
    });
    consumer.waiting = () => {
      clearTimeout(timer);
      cancel();
    };
  }

  openSessionLink(consumer, address, target) {
    const { link, entity, session } = consumer;
    link.local.attach.source = terminus.source({
      address,
      filter: { [SESSION_FILTER]: types.described(types.wrap_ulong(SESSION_FILTER_CODE), types.wrap_string(session.id)) },
    }).described();
    link.set_target({ address: target });
    link.local.attach.properties = { 'com.microsoft:locked-until-utc': ticks(session.lockedUntil) };
    link.connection._register();
    entity.addConsumer(consumer);
  }

  onReceiverOpen(ctx) {
    const link = ctx.receiver;
    const remote = link.remote.attach;
    const tgt = remote.target || {};
    const src = remote.source || {};
    const address = tgt.address || '';
    link.local.attach.rcv_settle_mode = 0;
    if (isRequestAddress(address)) {
      link.set_target({ address });
      link.set_source({ address: src.address });
      link.requestAddress = address;
      return;
    }
    if (this.faults.detachingLinks()) throw DETACH_FORCED();
    const { kind, entity } = this.broker.resolve(address);
    if (kind !== 'queue' && kind !== 'topic') {
      throw new BrokerError(400, 'amqp:not-allowed', `cannot send to ${address}`);
    }
    link.set_target({ address });
    link.set_source({ address: src.address });
    link.local.attach.max_message_size = MAX_MESSAGE_SIZE;
    link.local.attach.properties = { 'com.microsoft:max-message-batch-size': types.wrap_ulong(MAX_MESSAGE_SIZE) };
    link.sbTarget = entity;
    connState(ctx.connection).targets.add(link);
  }

  onMessage(ctx) {
    const link = ctx.receiver;
    if (link.requestAddress) {
      this.onRequest(ctx);
      return;
    }
    const target = link.sbTarget;
    const d = ctx.delivery;
    if (!target) {
      d.reject(link.sbDetached || { condition: 'amqp:not-found', description: 'link has no entity' });
      return;
    }
    let buffers;
    try {
      buffers = ctx.format === codec.BATCH_FORMAT ? codec.parseBatch(ctx.message) : [ctx.message.raw];
      const parsed = buffers.map(codec.parse);
      for (const p of parsed) target.checkSendable(p);
      const now = Date.now();
      for (const p of parsed) target.accept(p, now);
    } catch (err) {
      if (!(err instanceof BrokerError)) this.log(`send to ${link.sbTarget.path}: ${err.stack || err}`);
      d.reject(amqpError(err));
      return;
    }
    // acknowledged only once the messages (and their duplicate-detection ids) are durable
    this.broker.store.afterCommit(() => d.accept());
  }

  onOutcome(ctx, status, opts = {}) {
    const d = ctx.delivery;
    if (!d.msg || d.remote_settled_handled) return;
    d.remote_settled_handled = true;
    // a released delivery is the SDK handing back prefetched messages: never faulted
    const fault = status === 'released' ? NO_FAULT : this.faults.settlement();
    if (fault.delayMs) setTimeout(() => this.applyOutcome(d, status, opts, fault.fail), fault.delayMs);
    else this.applyOutcome(d, status, opts, fault.fail);
  }

  applyOutcome(d, status, opts, fail) {
    const msg = d.msg;
    const entity = msg.entity;
    let reply;
    try {
      if (fail) throw injectedFailure(fail);
      if (entity.locks.get(d.lockHex) !== msg) throw lockLost();
      entity.lockedMessage(d.lockHex, d.consumer);
      entity.settle(msg, status, opts);
      reply = status === 'completed' ? rheaMessage.accepted().described()
        : status === 'suspended' ? rheaMessage.rejected({}).described()
          : status === 'defered' ? rheaMessage.modified({ undeliverable_here: true }).described()
            : status === 'abandoned' ? rheaMessage.modified({}).described()
            : rheaMessage.released().described();
    } catch (err) {
      if (!(err instanceof BrokerError)) this.log(`settle: ${err.stack || err}`);
      reply = rheaMessage.rejected({ error: amqpError(err) }).described();
    }
    this.broker.store.afterCommit(() => settleDelivery(d, reply));
  }

  dropConsumer(link) {
    const c = link.consumer;
    if (!c || c.dropped) return;
    c.dropped = true;
    c.closed = true;
    if (c.waiting) c.waiting();
    c.entity.removeConsumer(c);
    const st = connState(c.conn);
    st.consumers.delete(c);
    if (st.consumersByName.get(link.name) === c) st.consumersByName.delete(link.name);
  }

  // dropAllConnections cuts every client's TCP connection (fault injection).
  dropAllConnections() {
    for (const sock of this.sockets) sock.destroy();
  }

  // detachAllLinks detaches every sender and receiver link on an entity, the
  // way Service Bus does when it moves an entity (fault injection).
  detachAllLinks() {
    const err = amqpError(DETACH_FORCED());
    for (const conn of this.connections) {
      const st = conn.sb;
      if (!st) continue;
      for (const c of [...st.consumers]) {
        const held = Boolean(c.waiting); // an accept-next-session attach not yet answered
        this.dropConsumer(c.link);
        if (held) {
          c.link.open();
          this.refuse(c.link, DETACH_FORCED());
        } else if (c.link.is_open()) {
          c.link.close(err);
        }
      }
      for (const link of [...st.targets]) {
        st.targets.delete(link);
        link.sbTarget = null;
        link.sbDetached = err; // for transfers the client sent before it saw the detach
        if (link.is_open()) link.close(err);
      }
    }
  }

  dropConnection(conn) {
    this.connections.delete(conn);
    const st = conn.sb;
    if (!st) return;
    for (const c of [...st.consumers]) this.dropConsumer(c.link);
    st.replyLinks.clear();
  }

  onRequest(ctx) {
    const link = ctx.receiver;
    ctx.delivery.accept();
    const req = decodeMessage(ctx.message.raw);
    const props = req;
    const app = req.application_properties || {};
    const st = connState(ctx.connection);
    const replyLink = st.replyLinks.get(props.reply_to);
    if (!replyLink) {
      this.log(`request on ${link.requestAddress} with unknown reply-to ${props.reply_to}`);
      return;
    }
    const fault = app.operation === 'com.microsoft:update-disposition' ? this.faults.settlement() : NO_FAULT;
    const answer = () => this.answer(link.requestAddress, req, st, replyLink, fault.fail);
    if (fault.delayMs) setTimeout(answer, fault.delayMs);
    else answer();
  }

  // answer runs a $cbs or $management request and replies once its changes are durable.
  answer(address, req, st, replyLink, fail) {
    const props = req;
    const app = req.application_properties || {};
    let status;
    let description = 'OK';
    let body;
    let condition;
    try {
      if (fail) throw injectedFailure(fail);
      const res = handleRequest(this.broker, address, app, req.body, st) || {};
      status = res.status || 200;
      if (status === 202) description = 'Accepted';
      if (status === 204) description = 'No Content';
      body = res.body;
    } catch (err) {
      if (!(err instanceof BrokerError)) this.log(`${app.operation}: ${err.stack || err}`);
      status = err instanceof BrokerError ? err.status : 500;
      description = err.message;
      condition = amqpError(err).condition;
    }
    const appProps = { 'status-code': types.wrap_int(status), 'status-description': description };
    if (condition) appProps['error-condition'] = types.wrap_symbol(condition);
    const reply = {
      message_id: `${props.message_id}-reply`,
      correlation_id: props.message_id,
      application_properties: appProps,
      body: body === undefined ? null : body,
    };
    this.broker.store.afterCommit(() => {
      if (replyLink.is_open()) replyLink.send(reply);
    });
  }
}

module.exports = { Server };
