'use strict';
// Entity: a queue, subscription or dead-letter queue with its messages,
// locks, sessions, scheduled and deferred messages, and the consumers
// (receiver links) it delivers to.

const crypto = require('crypto');
const types = require('rhea/lib/types.js');
const codec = require('./codec.js');
const { Heap } = require('./heap.js');
const { Dedupe } = require('./dedupe.js');
const { BrokerError, lockLost, sessionLockLost } = require('./errors.js');
const { ruleMatches } = require('./rules.js');

const MAX_UINT = 0xffffffff;
const MAX_FORWARD_HOPS = 4; // as Service Bus: a chain of ForwardTo stops after 4 hops
const STATE_ACTIVE = 0;
const STATE_DEFERRED = 1;
const STATE_SCHEDULED = 2;

// Lock tokens: 8 random bytes then a counter, unique for the process.
const tokenPrefix = crypto.randomBytes(8);
let tokenCounter = 0n;
function newLockToken() {
  const b = Buffer.allocUnsafe(16);
  tokenPrefix.copy(b, 0);
  b.writeBigUInt64BE(++tokenCounter, 8);
  return b;
}

// Delivery tags carry the lock token in .NET GUID byte order: the first 4, 2
// and 2 bytes are swapped relative to the RFC 4122 form used on $management.
function swapGuid(u) {
  const t = Buffer.from(u);
  t[0] = u[3]; t[1] = u[2]; t[2] = u[1]; t[3] = u[0];
  t[4] = u[5]; t[5] = u[4];
  t[6] = u[7]; t[7] = u[6];
  return t;
}

const bySeq = (a, b) => a.seq < b.seq;
const byExpiry = (a, b) => a.expiresAt < b.expiresAt;

class Session {
  constructor(id) {
    this.id = id;
    this.available = new Heap(bySeq);
    this.count = 0; // active messages
    this.owner = null; // consumer holding the session lock
    this.lockedUntil = 0;
    this.state = null; // Buffer
    this.stateUpdatedAt = 0;
  }
}

// Entity is a queue, a subscription or a dead-letter queue: something messages
// are stored in and received from.
class Entity {
  constructor(broker, path, props, opts = {}) {
    this.broker = broker;
    this.path = path;
    this.name = opts.displayName || path;
    this.props = props;
    this.isDlq = Boolean(opts.isDlq);
    this.rules = opts.rules || [];
    this.seq = 0;
    this.messages = new Map(); // seq -> msg (insertion order = seq order)
    this.available = new Heap(bySeq);
    this.expiry = new Heap(byExpiry);
    this.sessions = new Map();
    this.lockedSessions = new Set(); // sessions with an owner: what sweep checks
    this.locks = new Map(); // lock hex -> msg, in lock order
    this.consumers = [];
    this.sessionWaiters = [];
    this.pumpQueued = false;
    this.rr = 0;
    this.journal = broker.store;
    this.dedupe = opts.dedupe ? new Dedupe(props.duplicateWindowMs, this.journal, path, (at) => broker.wake(at)) : null;
    this.dlq = this.isDlq ? null : new Entity(broker, `${path}/$DeadLetterQueue`,
      { ...props, requiresSession: false, defaultTtlMs: Infinity, maxDeliveryCount: Infinity, deadLetteringOnMessageExpiration: false },
      { isDlq: true, displayName: `${path}/$DeadLetterQueue` });
  }

  get requiresSession() {
    return this.props.requiresSession;
  }

  matches(parsed) {
    if (this.rules.length === 0) return true;
    return this.rules.some((r) => ruleMatches(r, parsed));
  }

  // accept stores a message sent by a client; returns false if it was a duplicate.
  accept(parsed, now, hops = 0) {
    if (this.dedupe && this.props.requiresDuplicateDetection && this.dedupe.duplicate(parsed.properties.message_id, now)) return false;
    this.store(parsed, now, { hops });
    return true;
  }

  checkSendable(parsed) {
    if (this.requiresSession && (parsed.properties.group_id === undefined || parsed.properties.group_id === null)) {
      throw new BrokerError(400, 'amqp:not-allowed',
        `The SessionId was not set on a message, and it cannot be sent to the entity ${this.path}. Entities that have session support enabled can only receive messages that have the SessionId set.`);
    }
  }

  // store enqueues a message here, or hands it to the ForwardTo entity; it
  // returns the stored message, or null when it was forwarded.
  store(parsed, now, extra = {}) {
    const hops = extra.hops || 0;
    if (!this.isDlq && this.props.forwardTo && hops < MAX_FORWARD_HOPS) {
      this.broker.forwardTarget(this.props.forwardTo).accept(parsed, now, hops + 1);
      return null;
    }
    const ttlHeader = parsed.header.ttl;
    let ttlMs = this.props.defaultTtlMs;
    if (typeof ttlHeader === 'number' && ttlHeader > 0 && ttlHeader < ttlMs) ttlMs = ttlHeader;
    if (extra.maxTtlMs !== undefined && extra.maxTtlMs < ttlMs) ttlMs = extra.maxTtlMs;
    if (extra.ttlMs !== undefined) ttlMs = extra.ttlMs;
    const msg = {
      entity: this,
      seq: ++this.seq,
      parsed,
      appRaw: extra.appRaw === undefined ? parsed.appRaw : extra.appRaw,
      sessionId: parsed.properties.group_id === undefined ? null : parsed.properties.group_id,
      enqueuedAt: now,
      ttlMs,
      expiresAt: now + ttlMs,
      deliveryCount: extra.deliveryCount || 0,
      state: 'pending', // stored, not yet committed: nobody receives it before it is durable
      deferred: false,
      lockHex: null,
      lockToken: null,
      lockedUntil: 0,
      owner: null,
      timer: null,
      scheduledAt: 0,
    };
    if (this.isDlq) msg.expiresAt = Infinity;
    this.messages.set(msg.seq, msg);
    const sched = codec.annotationValue(parsed, 'x-opt-scheduled-enqueue-time');
    const at = sched instanceof Date ? sched.getTime() : typeof sched === 'number' ? sched : 0;
    if (!extra.noSchedule && at > now) {
      msg.state = 'scheduled';
      msg.scheduledAt = at;
    }
    this.journal.insert(msg);
    this.journal.sequence(this.path, this.seq);
    this.arm(msg, now);
    return msg;
  }

  // arm makes a stored or recovered message receivable once it is durable,
  // or sets the timer of a scheduled one.
  arm(msg, now) {
    if (msg.state === 'scheduled') {
      msg.timer = setTimeout(() => this.activateScheduled(msg), Math.max(0, msg.scheduledAt - now));
      return;
    }
    if (msg.deferred) {
      msg.state = 'deferred';
      return;
    }
    this.journal.afterCommit(() => {
      if (msg.state === 'pending') this.makeAvailable(msg);
    });
  }

  // restore puts back a message read from the store after a restart.
  restore(row, now) {
    const parsed = codec.parse(row.raw);
    const msg = {
      entity: this,
      seq: row.seq,
      parsed,
      appRaw: row.app === null ? parsed.appRaw : row.app,
      sessionId: row.session_id,
      enqueuedAt: row.enqueued_at,
      ttlMs: row.ttl_ms,
      expiresAt: row.expires_at,
      deliveryCount: row.delivery_count,
      state: row.state === 'scheduled' ? 'scheduled' : 'pending',
      deferred: row.state === 'deferred',
      lockHex: null,
      lockToken: null,
      lockedUntil: 0,
      owner: null,
      timer: null,
      scheduledAt: row.scheduled_at,
    };
    this.messages.set(msg.seq, msg);
    if (msg.seq > this.seq) this.seq = msg.seq;
    this.arm(msg, now);
  }

  restoreSession(row) {
    const s = this.session(row.id);
    s.state = Buffer.from(row.state);
    s.stateUpdatedAt = row.updated_at;
  }

  setSessionState(s, state, now) {
    s.state = state;
    s.stateUpdatedAt = now;
    this.journal.saveSession(this.path, s.id, state, now);
  }

  activateScheduled(msg) {
    if (msg.state !== 'scheduled') return;
    msg.timer = null;
    const now = Date.now();
    msg.enqueuedAt = now;
    msg.expiresAt = this.isDlq ? Infinity : now + msg.ttlMs;
    this.makeAvailable(msg);
    this.journal.update(msg);
  }

  cancelScheduled(seq) {
    const msg = this.messages.get(seq);
    if (!msg || msg.state !== 'scheduled') return false;
    clearTimeout(msg.timer);
    this.remove(msg);
    return true;
  }

  session(id) {
    let s = this.sessions.get(id);
    if (!s) {
      s = new Session(id);
      this.sessions.set(id, s);
    }
    return s;
  }

  makeAvailable(msg) {
    msg.state = 'active';
    msg.owner = null;
    if (msg.deferred) {
      msg.state = 'deferred';
      return;
    }
    if (this.requiresSession && msg.sessionId !== null) {
      const s = this.session(msg.sessionId);
      s.available.push(msg);
      s.count++;
      if (this.sessionWaiters.length && !s.owner) this.serveWaiters();
    } else {
      this.available.push(msg);
    }
    if (msg.expiresAt !== Infinity) this.trackExpiry(msg);
    this.pump();
  }

  // leaveActive updates counters when an active message is taken or expired.
  leaveActive(msg, state) {
    if (msg.state === 'active' && this.requiresSession && msg.sessionId !== null) {
      const s = this.sessions.get(msg.sessionId);
      if (s) s.count--;
    }
    msg.state = state;
  }

  remove(msg) {
    if (msg.lockHex) this.locks.delete(msg.lockHex);
    this.leaveActive(msg, 'gone');
    msg.lockHex = null;
    this.messages.delete(msg.seq);
    this.journal.delete(msg);
    this.compactExpiry();
  }

  // nextFor pops the next deliverable message for a consumer.
  nextFor(consumer, now) {
    const heap = consumer.session ? consumer.session.available : this.available;
    for (;;) {
      const msg = heap.pop();
      if (!msg) return null;
      if (msg.state !== 'active') continue;
      if (msg.expiresAt <= now) {
        this.expire(msg);
        continue;
      }
      return msg;
    }
  }

  expire(msg) {
    if (this.props.deadLetteringOnMessageExpiration && this.dlq) {
      this.deadLetter(msg, 'TTLExpiredException', 'The message expired and was dead lettered.');
    } else {
      this.remove(msg);
    }
  }

  lock(msg, owner, now) {
    this.leaveActive(msg, 'locked');
    msg.deliveryCount++;
    msg.lockToken = newLockToken();
    msg.lockHex = msg.lockToken.toString('hex');
    msg.lockedUntil = now + this.props.lockDurationMs;
    msg.owner = owner;
    this.locks.set(msg.lockHex, msg);
    this.broker.wake(msg.lockedUntil);
    this.journal.update(msg);
  }

  lockedMessage(lockHex, consumer) {
    const msg = this.locks.get(lockHex);
    if (!msg || msg.state !== 'locked') throw lockLost();
    if (msg.owner && msg.owner.session) {
      const s = msg.owner.session;
      if (s.owner !== msg.owner) throw sessionLockLost(s.id);
    }
    if (consumer && consumer.session && msg.owner !== consumer) throw lockLost();
    return msg;
  }

  // settle applies a disposition to a locked message.
  settle(msg, status, opts = {}) {
    const now = Date.now();
    if (msg.lockedUntil <= now) throw lockLost();
    switch (status) {
      case 'completed':
        this.remove(msg);
        break;
      case 'abandoned':
        this.unlock(msg, opts.properties, true);
        break;
      case 'released':
        msg.deliveryCount = Math.max(0, msg.deliveryCount - 1);
        this.unlock(msg, null, false);
        break;
      case 'defered':
        msg.deferred = true;
        this.unlock(msg, opts.properties, false);
        break;
      case 'suspended':
        this.deadLetter(msg, opts.reason, opts.description, opts.properties);
        break;
      default:
        throw new BrokerError(400, 'amqp:invalid-field', `unknown disposition-status ${status}`);
    }
    this.pump();
  }

  // unlock returns a locked message to its entity (abandon or lock expiry).
  unlock(msg, properties, countDelivery) {
    if (msg.lockHex) this.locks.delete(msg.lockHex);
    msg.lockHex = null;
    msg.owner = null;
    if (properties && Object.keys(properties).length) {
      msg.appRaw = codec.withAppProperties(msg.appRaw, properties);
      this.journal.updateApp(msg);
    }
    if (countDelivery && !msg.deferred && msg.deliveryCount >= this.props.maxDeliveryCount) {
      this.deadLetter(msg, 'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.props.maxDeliveryCount} delivery attempts.`);
      return;
    }
    if (msg.deferred) {
      msg.state = 'deferred';
      this.journal.update(msg);
      return;
    }
    if (msg.expiresAt <= Date.now()) {
      this.expire(msg);
      return;
    }
    this.makeAvailable(msg);
    this.journal.update(msg);
  }

  deadLetter(msg, reason, description, properties) {
    this.remove(msg);
    if (!this.dlq) return; // dead-lettering from a DLQ completes the message
    const values = { ...(properties || {}) };
    if (reason !== undefined && reason !== null) values.DeadLetterReason = reason;
    if (description !== undefined && description !== null) values.DeadLetterErrorDescription = description;
    const appRaw = codec.withAppProperties(msg.appRaw, values);
    if (this.props.forwardDeadLetteredMessagesTo) {
      const annotations = new Map(msg.parsed.annotations);
      annotations.set('x-opt-deadletter-source', [types.wrap_symbol('x-opt-deadletter-source'), types.wrap_string(this.name)]);
      const parsed = { ...msg.parsed, appRaw, annotations, raw: null };
      this.broker.forwardTarget(this.props.forwardDeadLetteredMessagesTo).accept(parsed, Date.now(), 1);
      return;
    }
    this.dlq.store(msg.parsed, Date.now(), {
      appRaw, deliveryCount: msg.deliveryCount, noSchedule: true, ttlMs: msg.ttlMs,
    });
  }

  // receiveDeferred locks (peek-lock) or removes deferred messages by sequence number.
  receiveDeferred(seqs, peekLock, consumer) {
    const now = Date.now();
    const out = [];
    for (const seq of seqs) {
      const msg = this.messages.get(Number(seq));
      if (!msg || msg.state !== 'deferred') {
        throw new BrokerError(404, 'com.microsoft:message-not-found',
          `Failed to lock one or more specified messages. Either the message is already locked or it does not exist. Sequence number: ${seq}`);
      }
      if (consumer && consumer.session && msg.sessionId !== consumer.session.id) {
        throw new BrokerError(404, 'com.microsoft:message-not-found', `deferred message ${seq} is not in session ${consumer.session.id}`);
      }
      out.push(msg);
    }
    return out.map((msg) => {
      msg.deliveryCount++;
      if (peekLock) {
        msg.state = 'locked';
        msg.lockToken = newLockToken();
        msg.lockHex = msg.lockToken.toString('hex');
        msg.lockedUntil = now + this.props.lockDurationMs;
        msg.owner = consumer && consumer.session ? consumer : null;
        this.locks.set(msg.lockHex, msg);
        this.broker.wake(msg.lockedUntil);
        this.journal.update(msg);
        return { msg, payload: this.encode(msg, { lockedUntil: msg.lockedUntil, lockToken: msg.lockToken }) };
      }
      const payload = this.encode(msg, {});
      this.remove(msg);
      return { msg, payload };
    });
  }

  renewLock(lockHex, consumer) {
    const msg = this.lockedMessage(lockHex, consumer);
    const now = Date.now();
    if (msg.lockedUntil <= now) throw lockLost();
    msg.lockedUntil = now + this.props.lockDurationMs;
    this.locks.delete(lockHex);
    this.locks.set(lockHex, msg);
    return msg.lockedUntil;
  }

  // peek returns up to count messages from seq on (all states but locked-by-nobody matter).
  peek(fromSeq, count, session) {
    const out = [];
    const now = Date.now();
    for (const msg of this.messages.values()) {
      if (out.length >= count) break;
      if (msg.seq < fromSeq) continue;
      if (session && msg.sessionId !== session.id) continue;
      if (msg.state === 'active' && msg.expiresAt <= now) continue;
      out.push(msg);
    }
    return out;
  }

  encode(msg, opts) {
    const p = msg.parsed;
    const header = {
      durable: p.header.durable || false,
      priority: p.header.priority === undefined ? 4 : p.header.priority,
      ttl: Math.min(msg.ttlMs, MAX_UINT),
      first_acquirer: msg.deliveryCount <= 1,
      delivery_count: Math.max(0, msg.deliveryCount - 1),
    };
    const ann = [
      ['x-opt-sequence-number', types.wrap_long(msg.seq)],
      ['x-opt-enqueued-time', types.wrap_timestamp(msg.enqueuedAt)],
    ];
    if (opts.lockedUntil) ann.push(['x-opt-locked-until', types.wrap_timestamp(opts.lockedUntil)]);
    if (msg.state === 'deferred' || msg.deferred) ann.push(['x-opt-message-state', types.wrap_int(STATE_DEFERRED)]);
    else if (msg.state === 'scheduled') ann.push(['x-opt-message-state', types.wrap_int(STATE_SCHEDULED)]);
    else ann.push(['x-opt-message-state', types.wrap_int(STATE_ACTIVE)]);
    if (msg.state === 'scheduled') ann.push(['x-opt-scheduled-enqueue-time', types.wrap_timestamp(msg.scheduledAt)]);
    const da = opts.lockToken ? [['x-opt-lock-token', types.wrap_uuid(opts.lockToken)]] : null;
    return codec.encode(p, header, ann, da, msg.appRaw);
  }

  addConsumer(c) {
    this.consumers.push(c);
    this.pump();
  }

  removeConsumer(c) {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    if (c.session && c.session.owner === c) {
      c.session.owner = null;
      this.lockedSessions.delete(c.session);
      c.session.lockedUntil = 0;
      // a closed session receiver gives its locked messages back
      for (const msg of [...this.locks.values()]) {
        if (msg.owner === c) this.unlock(msg, null, false);
      }
      if (c.session.count === 0 && !c.session.state) this.sessions.delete(c.session.id);
      this.serveWaiters();
    }
  }

  // waitForSession queues an accept-next-session request until a session has
  // messages; returns a cancel function.
  waitForSession(c, resolve) {
    const w = { c, resolve };
    this.sessionWaiters.push(w);
    return () => {
      const i = this.sessionWaiters.indexOf(w);
      if (i >= 0) this.sessionWaiters.splice(i, 1);
    };
  }

  serveWaiters() {
    setImmediate(() => {
      while (this.sessionWaiters.length) {
        const w = this.sessionWaiters[0];
        const s = this.acquireSession(w.c, null, Date.now());
        if (!s) return;
        this.sessionWaiters.shift();
        w.resolve(s);
      }
    });
  }

  pump() {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.doPump();
    });
  }

  doPump() {
    const cs = this.consumers;
    const n = cs.length;
    if (n === 0) return;
    const now = Date.now();
    this.rr = (this.rr + 1) % n;
    let progress = true;
    while (progress) {
      progress = false;
      for (let k = 0; k < n; k++) {
        const c = cs[(this.rr + k) % n];
        if (!c.link.sendable()) continue;
        if (c.session && c.session.owner !== c) continue;
        const msg = this.nextFor(c, now);
        if (!msg) continue;
        this.deliver(c, msg, now);
        progress = true;
      }
    }
    for (const c of cs) {
      if (c.link._draining && c.link.credit > 0) c.link.set_drained(true);
    }
  }

  deliver(c, msg, now) {
    if (c.peekLock) {
      this.lock(msg, c, now);
      const payload = this.encode(msg, { lockedUntil: msg.lockedUntil });
      const d = c.link.send(payload, swapGuid(msg.lockToken), 0);
      d.msg = msg;
      d.lockHex = msg.lockHex;
      d.consumer = c;
    } else {
      this.leaveActive(msg, 'locked');
      msg.deliveryCount++;
      const payload = this.encode(msg, {});
      this.remove(msg);
      c.link.send(payload, newLockToken(), 0);
    }
  }

  // trackExpiry has the broker sweep when msg expires.
  trackExpiry(msg) {
    this.compactExpiry();
    this.expiry.push(msg);
    this.broker.wake(msg.expiresAt);
  }

  // compactExpiry drops the messages that are gone from the expiry heap
  // (which keeps them until they would expire) once they are most of it.
  compactExpiry() {
    if (this.expiry.size > 2 * this.messages.size + 1024) {
      this.expiry.rebuild((m) => m.state !== 'gone');
    }
  }

  // nextDeadline is the earliest time sweep has something to do here: the
  // oldest lock (locks are in lock order, of one duration), message expiry
  // or session lock.
  nextDeadline() {
    let at = Infinity;
    for (const msg of this.locks.values()) {
      at = msg.lockedUntil;
      break;
    }
    if (this.expiry.size) at = Math.min(at, this.expiry.peek().expiresAt);
    for (const s of this.lockedSessions) {
      if (s.owner) at = Math.min(at, s.lockedUntil);
    }
    return at;
  }

  // sweep expires locks, sessions and messages whose time has passed.
  sweep(now) {
    for (const [hex, msg] of this.locks) {
      if (msg.lockedUntil > now) break;
      this.locks.delete(hex);
      if (msg.state !== 'locked' || msg.lockHex !== hex) continue;
      this.unlock(msg, null, true);
    }
    while (this.expiry.size && this.expiry.peek().expiresAt <= now) {
      const msg = this.expiry.pop();
      if (msg.state === 'active' && msg.expiresAt <= now) this.expire(msg);
    }
    if (this.requiresSession) {
      // only sessions with an owner can expire: the others (one per order
      // ever sent, in the pipeline) are not walked at every sweep
      for (const s of [...this.lockedSessions]) {
        if (s.owner && s.lockedUntil <= now) {
          const c = s.owner;
          this.removeConsumer(c);
          c.lost(sessionLockLost(s.id));
        }
      }
    }
  }

  // acquireSession locks a named session, or the next one with messages, for c.
  acquireSession(c, id, now) {
    let s;
    if (id !== null && id !== undefined) {
      s = this.session(String(id));
      if (s.owner && s.lockedUntil > now) {
        throw new BrokerError(409, 'com.microsoft:session-cannot-be-locked',
          `The requested session '${id}' cannot be accepted. It may be locked by another receiver.`);
      }
    } else {
      for (const cand of this.sessions.values()) {
        if (cand.owner && cand.lockedUntil > now) continue;
        if (!cand.owner && cand.count === 0 && !cand.state) {
          this.sessions.delete(cand.id); // forget idle sessions so the scan stays short
          continue;
        }
        if (cand.count > 0) {
          s = cand;
          break;
        }
      }
      if (!s) return null;
    }
    if (s.owner && s.owner !== c) {
      const old = s.owner;
      this.removeConsumer(old);
      old.lost(sessionLockLost(s.id));
    }
    s.owner = c;
    this.lockedSessions.add(s);
    s.lockedUntil = now + this.props.lockDurationMs;
    this.broker.wake(s.lockedUntil);
    c.session = s;
    return s;
  }

  sessionFor(id, consumer) {
    const s = this.sessions.get(String(id));
    if (!s || !s.owner || (consumer && s.owner !== consumer)) throw sessionLockLost(id);
    if (s.lockedUntil <= Date.now()) throw sessionLockLost(id);
    return s;
  }
}

module.exports = { Entity };
