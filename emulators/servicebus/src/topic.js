'use strict';
// Topics fan messages out to their subscriptions; rules pick which.

const codec = require('./codec.js');
const { Dedupe } = require('./dedupe.js');

// Topic fans messages out to its subscriptions.
class Topic {
  constructor(broker, path, props) {
    this.broker = broker;
    this.path = path;
    this.props = props;
    this.subscriptions = new Map();
    this.journal = broker.store;
    this.dedupe = new Dedupe(props.duplicateWindowMs, this.journal, path, (at) => broker.wake(at));
    this.seq = 0;
    this.scheduled = new Map(); // topic seq -> scheduled message
  }

  checkSendable(parsed) {
    for (const s of this.subscriptions.values()) {
      if (s.requiresSession && s.matches(parsed)) s.checkSendable(parsed);
    }
  }

  accept(parsed, now, hops = 0) {
    if (this.props.requiresDuplicateDetection && this.dedupe.duplicate(parsed.properties.message_id, now)) return false;
    const sched = codec.annotationValue(parsed, 'x-opt-scheduled-enqueue-time');
    const at = sched instanceof Date ? sched.getTime() : typeof sched === 'number' ? sched : 0;
    if (at > now) {
      this.schedule(parsed, at, now);
      return true;
    }
    this.fanOut(parsed, now, hops);
    return true;
  }

  schedule(parsed, at, now) {
    const msg = {
      entity: this, seq: ++this.seq, parsed, appRaw: parsed.appRaw, sessionId: null, state: 'scheduled',
      enqueuedAt: now, ttlMs: Infinity, expiresAt: Infinity, deliveryCount: 0, scheduledAt: at, timer: null,
    };
    this.journal.insert(msg);
    this.journal.sequence(this.path, this.seq);
    this.arm(msg, now);
    return msg.seq;
  }

  arm(msg, now) {
    msg.timer = setTimeout(() => {
      this.scheduled.delete(msg.seq);
      this.journal.delete(msg);
      this.fanOut(msg.parsed, Date.now());
    }, Math.max(0, msg.scheduledAt - now));
    this.scheduled.set(msg.seq, msg);
  }

  // restore puts back a scheduled message read from the store.
  restore(row, now) {
    const parsed = codec.parse(row.raw);
    const msg = {
      entity: this, seq: row.seq, parsed, appRaw: parsed.appRaw, sessionId: null, state: 'scheduled',
      enqueuedAt: row.enqueued_at, ttlMs: Infinity, expiresAt: Infinity, deliveryCount: 0, scheduledAt: row.scheduled_at, timer: null,
    };
    if (msg.seq > this.seq) this.seq = msg.seq;
    this.arm(msg, now);
  }

  cancelScheduled(seq) {
    const msg = this.scheduled.get(seq);
    if (!msg) return false;
    clearTimeout(msg.timer);
    this.scheduled.delete(seq);
    this.journal.delete(msg);
    return true;
  }

  fanOut(parsed, now, hops = 0) {
    for (const s of this.subscriptions.values()) {
      if (!s.matches(parsed)) continue;
      if (s.requiresSession && (parsed.properties.group_id === undefined || parsed.properties.group_id === null)) continue;
      s.store(parsed, now, { noSchedule: true, maxTtlMs: this.props.defaultTtlMs, hops });
    }
  }
}

module.exports = { Topic };
