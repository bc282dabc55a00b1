'use strict';

// Dedupe remembers message ids for a time window.
class Dedupe {
  constructor(windowMs) {
    this.windowMs = windowMs;
    this.seen = new Map();
  }

  // duplicate reports whether id was seen within the window, remembering it if not.
  duplicate(id, now) {
    for (const [k, t] of this.seen) {
      if (now - t < this.windowMs) break;
      this.seen.delete(k);
    }
    if (id === undefined || id === null) return false;
    const key = Buffer.isBuffer(id) ? id.toString('hex') : String(id);
    const t = this.seen.get(key);
    if (t !== undefined && now - t < this.windowMs) return true;
    this.seen.set(key, now);
    return false;
  }
}

module.exports = { Dedupe };
