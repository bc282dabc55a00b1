'use strict';
// Fault injection: refuse connections, detach links, delay or fail
// settlements, each for a number of seconds. Nothing is injected unless a
// client of the control endpoint (control.js) asks for it.

const KINDS = ['refuse-connections', 'detach-links', 'delay-settlements', 'fail-settlements'];
const MAX_SECONDS = 3600;
const MAX_DELAY_MS = 600_000;
const FAIL_CONDITIONS = ['com.microsoft:server-busy', 'amqp:internal-error', 'com.microsoft:message-lock-lost'];

class FaultError extends Error {}

function number(v, field, min, max) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new FaultError(`${field} must be a number from ${min} to ${max}`);
  }
  return v;
}

// parseFault validates a fault request body.
function parseFault(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new FaultError('body must be a JSON object');
  const known = new Set(['kind', 'seconds', 'delayMs', 'rate', 'condition']);
  for (const k of Object.keys(body)) if (!known.has(k)) throw new FaultError(`unknown field ${JSON.stringify(k)}`);
  if (!KINDS.includes(body.kind)) throw new FaultError(`kind must be one of ${KINDS.join(', ')}`);
  const f = { kind: body.kind, seconds: number(body.seconds, 'seconds', 0.001, MAX_SECONDS) };
  if (f.kind === 'delay-settlements') f.delayMs = number(body.delayMs, 'delayMs', 1, MAX_DELAY_MS);
  else if (body.delayMs !== undefined) throw new FaultError('delayMs is only for delay-settlements');
  if (f.kind === 'fail-settlements') {
    f.rate = body.rate === undefined ? 1 : number(body.rate, 'rate', 0, 1);
    f.condition = body.condition === undefined ? FAIL_CONDITIONS[0] : body.condition;
    if (!FAIL_CONDITIONS.includes(f.condition)) throw new FaultError(`condition must be one of ${FAIL_CONDITIONS.join(', ')}`);
  } else if (body.rate !== undefined || body.condition !== undefined) {
    throw new FaultError('rate and condition are only for fail-settlements');
  }
  return f;
}

// Faults holds the faults in force; each ends by itself when its time is up.
class Faults {
  constructor(hooks, random = Math.random) {
    this.hooks = hooks; // {dropConnections(), detachLinks()}
    this.random = random;
    this.active = new Map(); // kind -> fault with until
    this.injected = {}; // kind -> how many times it was injected
  }

  inject(f, now = Date.now()) {
    const fault = { ...f, until: now + f.seconds * 1000 };
    this.active.set(f.kind, fault);
    this.injected[f.kind] = (this.injected[f.kind] || 0) + 1;
    if (f.kind === 'refuse-connections') this.hooks.dropConnections();
    if (f.kind === 'detach-links') this.hooks.detachLinks();
    return fault;
  }

  clear() {
    this.active.clear();
  }

  current(kind, now = Date.now()) {
    const f = this.active.get(kind);
    if (!f) return null;
    if (f.until <= now) {
      this.active.delete(kind);
      return null;
    }
    return f;
  }

  list(now = Date.now()) {
    return KINDS.map((k) => this.current(k, now)).filter(Boolean);
  }

  refusingConnections() {
    return this.current('refuse-connections') !== null;
  }

  detachingLinks() {
    return this.current('detach-links') !== null;
  }

  // settlement says what to do with one settlement: {delayMs, fail}.
  settlement() {
    const delay = this.current('delay-settlements');
    const fail = this.current('fail-settlements');
    return {
      delayMs: delay ? delay.delayMs : 0,
      fail: fail && this.random() < fail.rate ? fail.condition : null,
    };
  }
}

module.exports = { Faults, FaultError, parseFault, KINDS };
