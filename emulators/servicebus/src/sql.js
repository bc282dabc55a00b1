'use strict';
// A subset of Service Bus SQL filter expressions, compiled to a predicate over
// a message: comparisons (= <> != < <= > >=), AND/OR/NOT, parentheses,
// IS [NOT] NULL, [NOT] LIKE with % and _, [NOT] IN (...), EXISTS(prop),
// literals (strings, numbers, TRUE, FALSE, NULL) and properties (sys.X for
// system properties, user.X or a bare name for application properties).

const SYSTEM = {
  messageid: 'message_id',
  correlationid: 'correlation_id',
  to: 'to',
  replyto: 'reply_to',
  label: 'subject',
  subject: 'subject',
  sessionid: 'group_id',
  replytosessionid: 'reply_to_group_id',
  contenttype: 'content_type',
};

const KEYWORDS = new Set(['and', 'or', 'not', 'is', 'null', 'like', 'in', 'exists', 'true', 'false', 'escape']);

function tokenize(src) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new Error('unterminated string literal');
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ t: 'lit', v: s });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] || ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i));
      out.push({ t: 'lit', v: Number(m[0]) });
      i += m[0].length;
    } else if (c === '[') {
      const end = src.indexOf(']', i);
      if (end < 0) throw new Error('unterminated [identifier]');
      out.push({ t: 'id', v: src.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z_@$]/.test(c)) {
      const m = /^[A-Za-z_@$][A-Za-z0-9_@$]*(?:\.(?:[A-Za-z_@$][A-Za-z0-9_@$-]*|\[[^\]]*\]))?/.exec(src.slice(i));
      const word = m[0];
      i += word.length;
      const lower = word.toLowerCase();
      if (KEYWORDS.has(lower)) out.push({ t: 'kw', v: lower });
      else out.push({ t: 'id', v: word.replace(/\[|\]/g, '') });
    } else {
      const two = src.slice(i, i + 2);
      if (['<>', '!=', '<=', '>='].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if ('=<>(),'.includes(c)) {
        out.push({ t: 'op', v: c });
        i++;
      } else {
        throw new Error(`unexpected character ${JSON.stringify(c)}`);
      }
    }
  }
  return out;
}

// compile parses expr and returns (lookup) => boolean, where lookup(kind,
// name) returns a system ('sys') or application ('user') property value.
function compile(expr) {
  const toks = tokenize(expr);
  let pos = 0;
  const peek = () => toks[pos];
  const isKw = (v) => peek() && peek().t === 'kw' && peek().v === v;
  const isOp = (v) => peek() && peek().t === 'op' && peek().v === v;
  const expect = (t, v) => {
    const k = toks[pos];
    if (!k || k.t !== t || (v !== undefined && k.v !== v)) {
      throw new Error(`expected ${v || t} at token ${pos + 1}${k ? ` (${k.v})` : ' (end)'}`);
    }
    pos++;
    return k;
  };

  function operand() {
    const k = toks[pos];
    if (!k) throw new Error('unexpected end of expression');
    if (k.t === 'lit') {
      pos++;
      return () => k.v;
    }
    if (k.t === 'kw' && (k.v === 'true' || k.v === 'false' || k.v === 'null')) {
      pos++;
      const v = k.v === 'null' ? null : k.v === 'true';
      return () => v;
    }
    if (k.t === 'id') {
      pos++;
      return property(k.v);
    }
    throw new Error(`unexpected ${k.v}`);
  }

  function property(name) {
    const dot = name.indexOf('.');
    const scope = dot > 0 ? name.slice(0, dot).toLowerCase() : '';
    if (scope === 'sys') {
      const field = SYSTEM[name.slice(dot + 1).toLowerCase()];
      if (!field) throw new Error(`unsupported system property ${name}`);
      return (lookup) => lookup('sys', field);
    }
    const prop = scope === 'user' ? name.slice(dot + 1) : name;
    return (lookup) => lookup('user', prop);
  }

  function predicate() {
    if (isOp('(')) {
      pos++;
      const e = orExpr();
      expect('op', ')');
      return e;
    }
    if (isKw('exists')) {
      pos++;
      expect('op', '(');
      const get = property(expect('id').v);
      expect('op', ')');
      return (l) => get(l) !== undefined;
    }
    const left = operand();
    if (isKw('is')) {
      pos++;
      const negate = isKw('not');
      if (negate) pos++;
      expect('kw', 'null');
      return (l) => {
        const v = left(l);
        return negate ? v !== undefined && v !== null : v === undefined || v === null;
      };
    }
    let negate = false;
    if (isKw('not')) {
      negate = true;
      pos++;
    }
    if (isKw('like')) {
      pos++;
      const pattern = expect('lit').v;
      let escape = null;
      if (isKw('escape')) {
        pos++;
        escape = expect('lit').v;
      }
      const re = likeToRegExp(String(pattern), escape);
      return (l) => {
        const v = left(l);
        if (typeof v !== 'string') return false;
        return re.test(v) !== negate;
      };
    }
    if (isKw('in')) {
      pos++;
      expect('op', '(');
      const items = [operand()];
      while (isOp(',')) {
        pos++;
        items.push(operand());
      }
      expect('op', ')');
      return (l) => {
        const v = left(l);
        if (v === undefined || v === null) return false;
        return items.some((it) => equal(v, it(l))) !== negate;
      };
    }
    if (negate) throw new Error('expected LIKE or IN after NOT');
    const k = peek();
    if (!k || k.t !== 'op' || !['=', '<>', '!=', '<', '<=', '>', '>='].includes(k.v)) {
      throw new Error(`expected a comparison after operand${k ? ` (got ${k.v})` : ''}`);
    }
    pos++;
    const right = operand();
    const op = k.v;
    return (l) => compare(op, left(l), right(l));
  }

  function notExpr() {
    if (isKw('not')) {
      pos++;
      const e = notExpr();
      return (l) => !e(l);
    }
    return predicate();
  }

  function andExpr() {
    let e = notExpr();
    while (isKw('and')) {
      pos++;
      const a = e;
      const b = notExpr();
      e = (l) => a(l) && b(l);
    }
    return e;
  }

  function orExpr() {
    let e = andExpr();
    while (isKw('or')) {
      pos++;
      const a = e;
      const b = andExpr();
      e = (l) => a(l) || b(l);
    }
    return e;
  }

  const fn = orExpr();
  if (pos !== toks.length) throw new Error(`unexpected ${toks[pos].v}`);
  return fn;
}

function norm(v) {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

function equal(a, b) {
  a = norm(a);
  b = norm(b);
  if (a === undefined || a === null || b === undefined || b === null) return false;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return typeof a === typeof b && a === b;
}

function compare(op, a, b) {
  a = norm(a);
  b = norm(b);
  if (a === undefined || a === null || b === undefined || b === null) return false;
  if (op === '=') return equal(a, b);
  if (op === '<>' || op === '!=') return !equal(a, b);
  if (typeof a !== typeof b) return false;
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

function likeToRegExp(pattern, escape) {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (escape && c === escape && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') {
      re += '.*';
    } else if (c === '_') {
      re += '.';
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`${re}$`, 's');
}

module.exports = { compile };
