'use strict';
// Subscription rules: correlation filters and SQL filters (see sql.js).

const codec = require('./codec.js');

function ruleMatches(rule, parsed) {
  if (rule.type === 'true') return true;
  if (rule.type === 'false') return false;
  if (rule.type === 'sql') {
    return rule.fn((kind, name) => (kind === 'sys' ? parsed.properties[name] : codec.appProperty(parsed.appRaw, name)));
  }
  const f = rule.filter;
  const p = parsed.properties;
  const eq = (want, got) => want === undefined || want === null || want === '' || String(want) === String(got);
  if (!eq(f.CorrelationId, p.correlation_id)) return false;
  if (!eq(f.MessageId, p.message_id)) return false;
  if (!eq(f.To, p.to)) return false;
  if (!eq(f.ReplyTo, p.reply_to)) return false;
  if (!eq(f.Label || f.Subject, p.subject)) return false;
  if (!eq(f.SessionId, p.group_id)) return false;
  if (!eq(f.ReplyToSessionId, p.reply_to_group_id)) return false;
  if (!eq(f.ContentType, p.content_type)) return false;
  const props = f.Properties || {};
  for (const [k, v] of Object.entries(props)) {
    if (!eq(v, codec.appProperty(parsed.appRaw, k))) return false;
  }
  return true;
}

module.exports = { ruleMatches };
