'use strict';
// Loads a Microsoft Service Bus emulator Config.json
// ({"UserConfig":{"Namespaces":[{"Name","Queues","Topics"}]}}) into plain entity definitions.

const fs = require('fs');
const { compile } = require('./sql.js');

const DEFAULTS = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  defaultTtlMs: 3600_000,
  deadLetteringOnMessageExpiration: false,
  requiresSession: false,
  requiresDuplicateDetection: false,
  duplicateWindowMs: 20_000,
  forwardTo: '',
  forwardDeadLetteredMessagesTo: '',
};

const DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

// parseDuration converts an ISO-8601 duration such as PT1M or P14D (or a .NET
// TimeSpan "hh:mm:ss") into milliseconds.
function parseDuration(value, field) {
  if (typeof value === 'number') return value * 1000;
  if (typeof value !== 'string' || value === '') throw new Error(`${field}: expected an ISO-8601 duration, got ${JSON.stringify(value)}`);
  const m = DURATION.exec(value.trim());
  if (m && value.trim().toUpperCase() !== 'P' && value.trim().toUpperCase() !== 'PT') {
    const [d, h, mi, s] = m.slice(1).map((x) => (x ? Number(x) : 0));
    return Math.round((((d * 24 + h) * 60 + mi) * 60 + s) * 1000);
  }
  const ts = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (ts) {
    const [d, h, mi, s] = [ts[1] || 0, ts[2], ts[3], ts[4]].map(Number);
    return Math.round((((d * 24 + h) * 60 + mi) * 60 + s) * 1000);
  }
  throw new Error(`${field}: invalid duration ${JSON.stringify(value)}`);
}

function bool(v, field, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${field}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function entityProps(raw, where, allowed) {
  const p = raw || {};
  const out = { ...DEFAULTS };
  const known = new Set(allowed);
  for (const k of Object.keys(p)) {
    if (!known.has(k)) process.stderr.write(`servicebus-emulator: ${where}: ignoring unsupported property ${k}\n`);
  }
  if (p.LockDuration !== undefined) out.lockDurationMs = parseDuration(p.LockDuration, `${where}.LockDuration`);
  if (p.MaxDeliveryCount !== undefined) {
    if (!Number.isInteger(p.MaxDeliveryCount) || p.MaxDeliveryCount < 1) throw new Error(`${where}.MaxDeliveryCount: expected a positive integer`);
    out.maxDeliveryCount = p.MaxDeliveryCount;
  }
  if (p.DefaultMessageTimeToLive !== undefined) out.defaultTtlMs = parseDuration(p.DefaultMessageTimeToLive, `${where}.DefaultMessageTimeToLive`);
  if (p.DuplicateDetectionHistoryTimeWindow !== undefined) out.duplicateWindowMs = parseDuration(p.DuplicateDetectionHistoryTimeWindow, `${where}.DuplicateDetectionHistoryTimeWindow`);
  out.deadLetteringOnMessageExpiration = bool(p.DeadLetteringOnMessageExpiration, `${where}.DeadLetteringOnMessageExpiration`, false);
  out.requiresSession = bool(p.RequiresSession, `${where}.RequiresSession`, false);
  out.requiresDuplicateDetection = bool(p.RequiresDuplicateDetection, `${where}.RequiresDuplicateDetection`, false);
  out.forwardTo = p.ForwardTo || '';
  out.forwardDeadLetteredMessagesTo = p.ForwardDeadLetteredMessagesTo || '';
  return out;
}

const QUEUE_PROPS = ['DeadLetteringOnMessageExpiration', 'DefaultMessageTimeToLive', 'DuplicateDetectionHistoryTimeWindow',
  'ForwardDeadLetteredMessagesTo', 'ForwardTo', 'LockDuration', 'MaxDeliveryCount', 'RequiresDuplicateDetection', 'RequiresSession'];
const TOPIC_PROPS = ['DefaultMessageTimeToLive', 'DuplicateDetectionHistoryTimeWindow', 'RequiresDuplicateDetection'];
const SUB_PROPS = ['DeadLetteringOnMessageExpiration', 'DefaultMessageTimeToLive', 'ForwardDeadLetteredMessagesTo', 'ForwardTo',
  'LockDuration', 'MaxDeliveryCount', 'RequiresSession'];

function parseRule(raw, where) {
  const p = (raw && raw.Properties) || {};
  const type = String(p.FilterType || '').toLowerCase();
  if (type === 'correlation') {
    const f = p.CorrelationFilter || {};
    return { name: raw.Name, type: 'correlation', filter: f };
  }
  if (type === 'sql') {
    const expr = String((p.SqlFilter && p.SqlFilter.SqlExpression) || '').trim();
    const action = String((p.Action && p.Action.SqlExpression) || '').trim();
    if (action) process.stderr.write(`servicebus-emulator: ${where}: rule action ${JSON.stringify(action)} is not supported and is ignored\n`);
    if (expr === '') return { name: raw.Name, type: 'true' };
    try {
      return { name: raw.Name, type: 'sql', fn: compile(expr) };
    } catch (err) {
      throw new Error(`${where}: SQL filter ${JSON.stringify(expr)}: ${err.message}`, { cause: err });
    }
  }
  throw new Error(`${where}: unknown FilterType ${JSON.stringify(p.FilterType)}`);
}

function requireName(raw, where) {
  if (!raw || typeof raw.Name !== 'string' || raw.Name === '') throw new Error(`${where}: missing Name`);
  if (/[/$]/.test(raw.Name)) throw new Error(`${where}: invalid entity name ${JSON.stringify(raw.Name)}`);
  return raw.Name;
}

// parseConfig returns {namespace, queues: [{name, props}], topics: [{name, props, subscriptions: [{name, props, rules}]}]}.
function parseConfig(doc) {
  const uc = doc && doc.UserConfig;
  if (!uc || !Array.isArray(uc.Namespaces) || uc.Namespaces.length === 0) throw new Error('config: UserConfig.Namespaces must be a non-empty array');
  if (uc.Namespaces.length > 1) process.stderr.write('servicebus-emulator: only the first namespace is served\n');
  const ns = uc.Namespaces[0];
  const out = { namespace: ns.Name || 'sbemulatorns', queues: [], topics: [] };
  const seen = new Set();
  const claim = (name, where) => {
    const k = name.toLowerCase();
    if (seen.has(k)) throw new Error(`${where}: duplicate entity name ${name}`);
    seen.add(k);
  };
  (ns.Queues || []).forEach((q, i) => {
    const where = `Queues[${i}]`;
    const name = requireName(q, where);
    claim(name, where);
    out.queues.push({ name, props: entityProps(q.Properties, `queue ${name}`, QUEUE_PROPS) });
  });
  (ns.Topics || []).forEach((t, i) => {
    const where = `Topics[${i}]`;
    const name = requireName(t, where);
    claim(name, where);
    const topic = { name, props: entityProps(t.Properties, `topic ${name}`, TOPIC_PROPS), subscriptions: [] };
    const subNames = new Set();
    (t.Subscriptions || []).forEach((s, j) => {
      const swhere = `${where}.Subscriptions[${j}]`;
      const sname = requireName(s, swhere);
      if (subNames.has(sname.toLowerCase())) throw new Error(`${swhere}: duplicate subscription ${sname}`);
      subNames.add(sname.toLowerCase());
      const rules = (s.Rules || []).map((r, k) => parseRule(r, `${swhere}.Rules[${k}]`));
      topic.subscriptions.push({ name: sname, props: entityProps(s.Properties, `subscription ${name}/${sname}`, SUB_PROPS), rules });
    });
    out.topics.push(topic);
  });
  return out;
}

function loadConfig(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`read config ${file}: ${err.message}`, { cause: err });
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`parse config ${file}: ${err.message}`, { cause: err });
  }
  return parseConfig(doc);
}

module.exports = { loadConfig, parseConfig, parseDuration };
