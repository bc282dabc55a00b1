'use strict';

// Dedupe remembers message ids for a time window; the history is journalled
// so that it survives a restart. wake(at) asks for a prune at time at.
class Dedupe {
  constructor(windowMs, journal, entity, wake) {
    this.windowMs = windowMs;
    this.journal = journal;
    this.entity = entity;
    this.wake = wake;
    this.seen = new Map();
    this.prunedAt = 0;
    this.stale = false; // ids dropped from memory but maybe still on disk
  }

  // duplicate reports whether id was seen within the window, remembering it if not.
  duplicate(id, now) {
    this.dropExpired(now);
    if (id === undefined || id === null) return false;
    const key = Buffer.isBuffer(id) ? id.toString('hex') : String(id);
    const t = this.seen.get(key);
    if (t !== undefined && now - t < this.windowMs) return true;
    this.seen.delete(key); // re-inserted last, keeping the map in time order
    if (this.seen.size === 0) this.wake(now + this.windowMs);
    this.seen.set(key, now);
    this.journal.remember(this.entity, key, now);
    return false;
  }

  dropExpired(now) {
    for (const [k, t] of this.seen) {
      if (now - t < this.windowMs) break;
      this.seen.delete(k);
      this.stale = true;
    }
  }

  // prune forgets expired ids on disk too; the broker calls it about once a second.
  prune(now) {
    if (now - this.prunedAt < 1000) return;
    this.prunedAt = now;
    this.dropExpired(now);
    if (!this.stale) return;
    this.stale = false;
    this.journal.forget(this.entity, now - this.windowMs);
  }

  // nextDeadline is when prune next has something to do: the oldest id
  // leaves the window, or ids dropped from memory are still on disk; at most
  // once a second.
  nextDeadline() {
    let at = Infinity;
    if (this.stale) at = 0;
    else for (const t of this.seen.values()) {
      at = t + this.windowMs;
      break;
    }
    return Math.max(at, this.prunedAt + 1000);
  }

  // restore puts back an id read from the store (in time order).
  restore(key, at) {
    this.seen.delete(key);
    this.seen.set(key, at);
  }
}

module.exports = { Dedupe };
