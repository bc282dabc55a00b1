'use strict';
// Broker: the namespace's entities from the config and address resolution.

const { Entity } = require('./entity.js');
const { Topic } = require('./topic.js');
const { BrokerError } = require('./errors.js');
const { MemoryStore } = require('./store.js');

// The longest delay setTimeout takes; a deadline further off gets a sweep
// that finds nothing due and sets the timer again.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

class Broker {
  // store journals the broker's state (MemoryStore: nothing survives a restart).
  constructor(config, store = new MemoryStore()) {
    this.namespace = config.namespace;
    this.store = store;
    // One timer, set for the earliest lock, session lock, message expiry
    // or duplicate-detection prune due: an idle broker does not wake up.
    this.timer = null;
    this.wakeAt = Infinity;
    this.queues = new Map();
    this.topics = new Map();
    this.entities = []; // every receivable entity incl. DLQs
    for (const q of config.queues) {
      const e = new Entity(this, q.name, q.props, { dedupe: true });
      this.queues.set(q.name.toLowerCase(), e);
      this.entities.push(e, e.dlq);
    }
    for (const t of config.topics) {
      const topic = new Topic(this, t.name, t.props);
      for (const s of t.subscriptions) {
        const props = { ...s.props, requiresDuplicateDetection: false };
        const e = new Entity(this, `${t.name}/Subscriptions/${s.name}`, props, { rules: s.rules, displayName: s.name });
        topic.subscriptions.set(s.name.toLowerCase(), e);
        this.entities.push(e, e.dlq);
      }
      this.topics.set(t.name.toLowerCase(), topic);
    }
    for (const e of this.entities) {
      for (const [key, name] of [['forwardTo', 'ForwardTo'], ['forwardDeadLetteredMessagesTo', 'ForwardDeadLetteredMessagesTo']]) {
        if (!e.props[key]) continue;
        try {
          this.forwardTarget(e.props[key]);
        } catch (err) {
          throw new Error(`${e.path}: ${name} ${JSON.stringify(e.props[key])}: ${err.message}`, { cause: err });
        }
      }
    }
    this.wake(Date.now());
  }

  // wake has the broker sweep at time at (ms since the epoch), unless a
  // sweep is due earlier. Whatever sets a deadline calls it.
  wake(at) {
    if (at >= this.wakeAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.min(Math.max(0, at - Date.now()), MAX_TIMEOUT_MS));
    this.timer.unref();
  }

  // recover loads what the store kept from an earlier run and returns what
  // it found. Rows of entities no longer in the config stay on disk untouched.
  recover(now) {
    const state = this.store.load();
    const byPath = new Map();
    for (const e of this.entities) byPath.set(e.path, e);
    for (const t of this.topics.values()) byPath.set(t.path, t);
    const stats = { messages: 0, sessions: 0, ids: 0, unknown: 0 };
    for (const row of state.messages) {
      const owner = byPath.get(row.entity);
      if (!owner) {
        stats.unknown++;
        continue;
      }
      owner.restore(row, now);
      stats.messages++;
    }
    for (const row of state.sessions) {
      const e = byPath.get(row.entity);
      if (e && e.restoreSession) {
        e.restoreSession(row);
        stats.sessions++;
      }
    }
    for (const row of state.dedupe) {
      const owner = byPath.get(row.entity);
      if (owner && owner.dedupe) {
        owner.dedupe.restore(row.id, row.at);
        stats.ids++;
      }
    }
    for (const [path, seq] of state.sequences) {
      const owner = byPath.get(path);
      if (owner && seq > owner.seq) owner.seq = seq;
    }
    this.wake(now); // for the duplicate-detection ids read back
    return stats;
  }

  // stats counts each entity's messages by state, its receivers and its
  // pending accept-next-session requests (the control endpoint's /entities).
  stats() {
    const out = {};
    for (const e of this.entities) {
      const n = { messages: e.messages.size, active: 0, locked: 0, deferred: 0, scheduled: 0, receivers: e.consumers.length, sessionWaiters: e.sessionWaiters.length };
      for (const m of e.messages.values()) {
        if (m.state === 'locked') n.locked++;
        else if (m.state === 'scheduled') n.scheduled++;
        else if (m.state === 'deferred' || m.deferred) n.deferred++;
        else n.active++;
      }
      out[e.path] = n;
    }
    for (const t of this.topics.values()) out[t.path] = { scheduled: t.scheduled.size };
    return out;
  }

  // sweep expires what is due and sets the timer for what is due next.
  sweep() {
    const now = Date.now();
    this.timer = null;
    this.wakeAt = Infinity;
    let next = Infinity;
    for (const e of this.entities) {
      e.sweep(now);
      next = Math.min(next, e.nextDeadline());
      if (e.dedupe) {
        e.dedupe.prune(now);
        next = Math.min(next, e.dedupe.nextDeadline());
      }
    }
    for (const t of this.topics.values()) {
      t.dedupe.prune(now);
      next = Math.min(next, t.dedupe.nextDeadline());
    }
    this.wake(next);
  }

  // forwardTarget is the queue or topic a ForwardTo property names.
  forwardTarget(name) {
    const { kind, entity } = this.resolve(name);
    if (kind !== 'queue' && kind !== 'topic') throw new BrokerError(400, 'amqp:not-allowed', `cannot forward to ${name}: not a queue or topic`);
    return entity;
  }

  // resolve maps an entity path to {kind, entity}. kind is 'queue', 'topic',
  // 'subscription' or 'dlq'. Throws amqp:not-found for unknown paths.
  resolve(address) {
    let path = String(address || '');
    path = path.replace(/^(amqps?|sb):\/\/[^/]+\//i, '').replace(/^\/+|\/+$/g, '');
    const parts = path.split('/');
    const notFound = () => new BrokerError(404, 'amqp:not-found',
      `The messaging entity '${this.namespace}:${path}' could not be found.`);
    let dlq = false;
    if (parts.length > 1 && parts[parts.length - 1].toLowerCase() === '$deadletterqueue') {
      dlq = true;
      parts.pop();
    }
    let entity;
    let kind;
    if (parts.length === 1) {
      const q = this.queues.get(parts[0].toLowerCase());
      if (q) {
        entity = q;
        kind = 'queue';
      } else {
        const t = this.topics.get(parts[0].toLowerCase());
        if (!t || dlq) throw notFound();
        return { kind: 'topic', entity: t };
      }
    } else if (parts.length === 3 && parts[1].toLowerCase() === 'subscriptions') {
      const t = this.topics.get(parts[0].toLowerCase());
      entity = t && t.subscriptions.get(parts[2].toLowerCase());
      kind = 'subscription';
    }
    if (!entity) throw notFound();
    if (dlq) return { kind: 'dlq', entity: entity.dlq };
    return { kind, entity };
  }
}

module.exports = { Broker };
