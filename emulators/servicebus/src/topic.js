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
    this.dedupe = new Dedupe(props.duplicateWindowMs);
    this.seq = 0;
    this.scheduled = new Map(); // topic seq -> {timer, parsed}
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
    const seq = ++this.seq;
    const timer = setTimeout(() => {
      this.scheduled.delete(seq);
      this.fanOut(parsed, Date.now());
    }, at - now);
    this.scheduled.set(seq, { timer, parsed });
    return seq;
  }

  cancelScheduled(seq) {
    const e = this.scheduled.get(seq);
    if (!e) return false;
    clearTimeout(e.timer);
    this.scheduled.delete(seq);
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
