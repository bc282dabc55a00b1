'use strict';
// Splits AMQP 1.0 messages into sections so the broker can keep the client's
// properties, application properties and body byte-for-byte and only rewrite
// the header and message annotations on delivery.

const types = require('rhea/lib/types.js');
const rheaMessage = require('rhea/lib/message.js');

// rhea's own decoder, captured before server.js replaces it for transfers.
const decode = rheaMessage.decode;

const HEADER = 0x70;
const DELIVERY_ANNOTATIONS = 0x71;
const MESSAGE_ANNOTATIONS = 0x72;
const PROPERTIES = 0x73;
const APPLICATION_PROPERTIES = 0x74;
const DATA = 0x75;
const BATCH_FORMAT = 0x80013700;

function sectionCode(s) {
  if (!s.descriptor) throw new Error('message section is not described');
  const v = s.descriptor.value;
  if (typeof v === 'number') return v;
  switch (String(v)) {
    case 'amqp:header:list': return HEADER;
    case 'amqp:delivery-annotations:map': return DELIVERY_ANNOTATIONS;
    case 'amqp:message-annotations:map': return MESSAGE_ANNOTATIONS;
    case 'amqp:properties:list': return PROPERTIES;
    case 'amqp:application-properties:map': return APPLICATION_PROPERTIES;
    default: return Number(v);
  }
}

// The fields of the header and properties sections, in list order (AMQP 1.0
// §3.2.1, §3.2.4), as rhea names them.
const HEADER_FIELDS = ['durable', 'priority', 'ttl', 'first_acquirer', 'delivery_count'];
const PROPERTY_FIELDS = ['message_id', 'user_id', 'to', 'subject', 'reply_to', 'correlation_id', 'content_type',
  'content_encoding', 'absolute_expiry_time', 'creation_time', 'group_id', 'group_sequence', 'reply_to_group_id'];

// fields turns a described list section, already read, into an object of its
// present fields' plain values: what rhea's message decoder makes of it,
// without reading the section a second time.
function fields(s, names) {
  const out = {};
  const items = s.value || [];
  const n = Math.min(names.length, items.length);
  for (let i = 0; i < n; i++) {
    const v = types.unwrap(items[i]);
    if (v !== undefined && v !== null) out[names[i]] = v;
  }
  return out;
}

// typedPairs turns an encoded map into [keyTyped, valueTyped] pairs keyed by the
// key's plain value.
function typedPairs(mapTyped) {
  const out = new Map();
  const items = mapTyped.value || [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    out.set(String(types.unwrap(items[i])), [items[i], items[i + 1]]);
  }
  return out;
}

// parse decodes one encoded message into the parts the broker needs. The
// header, message annotations and properties are decoded; the application
// properties are kept as bytes (walked, so that a malformed map is refused
// here, but not decoded), and the body is not read past its first
// constructor.
function parse(buf) {
  const r = new types.Reader(buf);
  const m = {
    header: {}, annotations: new Map(), properties: {}, propsRaw: null, appRaw: null, bodyRaw: null,
    raw: buf, // the message as it arrived; null once a copy changes a section
  };
  let bodyStart = -1;
  while (r.remaining()) {
    const start = r.position;
    const code = readDescriptor(r);
    if (code === HEADER) {
      m.header = fields(r.read(), HEADER_FIELDS);
    } else if (code === MESSAGE_ANNOTATIONS) {
      m.annotations = typedPairs(r.read());
    } else if (code === PROPERTIES) {
      m.properties = fields(r.read(), PROPERTY_FIELDS);
      m.propsRaw = buf.subarray(start, r.position);
    } else if (code === APPLICATION_PROPERTIES || code === DELIVERY_ANNOTATIONS) {
      // delivery annotations are hop-by-hop: dropped
      r.position = compoundEnd(buf, r.position);
      if (code === APPLICATION_PROPERTIES) m.appRaw = buf.subarray(start, r.position);
    } else {
      valueEnd(buf, r.position); // the body starts with a whole value
      bodyStart = start;
      break;
    }
  }
  m.bodyRaw = bodyStart >= 0 ? buf.subarray(bodyStart) : Buffer.alloc(0);
  return m;
}

// readDescriptor reads the descriptor of the section at r's position and
// returns the section's code, leaving r at the section's value.
function readDescriptor(r) {
  if (r.buffer[r.position] !== 0x00) throw new Error('message section is not described');
  r.position++;
  return sectionCode({ descriptor: r.read() });
}

// valueEnd is the offset just past the encoded value whose constructor is
// at pos, found without decoding it: the typecode's high nibble says how the
// value's size is written (AMQP 1.0 §1.2: fixed widths 0 to 16 bytes, or a
// 1- or 4-byte size before variable, compound and array values).
function valueEnd(buf, pos) {
  const code = buf[pos];
  if (code === 0x00) return valueEnd(buf, valueEnd(buf, pos + 1)); // described: its descriptor, then its value
  let end;
  switch (code >> 4) {
    case 0x4: end = pos + 1; break;
    case 0x5: end = pos + 2; break;
    case 0x6: end = pos + 3; break;
    case 0x7: end = pos + 5; break;
    case 0x8: end = pos + 9; break;
    case 0x9: end = pos + 17; break;
    case 0xa: case 0xc: case 0xe: end = pos + 2 + buf.readUInt8(pos + 1); break;
    case 0xb: case 0xd: case 0xf: end = pos + 5 + buf.readUInt32BE(pos + 1); break;
    default: throw new Error(`message: no AMQP type code 0x${Number(code).toString(16)} at byte ${pos}`);
  }
  if (end > buf.length) throw new Error(`message: value at byte ${pos} ends after the message`);
  return end;
}

// compoundEnd is valueEnd for a value whose list or map items (and theirs)
// are walked too: a compound value whose items do not add up to its size is
// refused, as when it was decoded.
function compoundEnd(buf, pos) {
  const end = valueEnd(buf, pos);
  const category = buf[pos] & 0xf0;
  if (category !== 0xc0 && category !== 0xd0) return end;
  const wide = category === 0xd0;
  const count = wide ? buf.readUInt32BE(pos + 5) : buf.readUInt8(pos + 2);
  let p = pos + (wide ? 9 : 3);
  for (let i = 0; i < count; i++) {
    if (buf[p] === 0x00) p = compoundEnd(buf, p + 1); // a described item: its descriptor, then its value
    p = compoundEnd(buf, p);
  }
  if (p !== end) throw new Error(`message: the items of the value at byte ${pos} do not fill its ${end - pos} bytes`);
  return end;
}

// parseBatch returns the encoded messages inside a batch envelope
// (message format 0x80013700: one data section per message). The other
// sections of the envelope (the SDK copies the first message's properties
// and application properties there) are skipped, not decoded.
function parseBatch(buf) {
  const r = new types.Reader(buf);
  const out = [];
  while (r.remaining()) {
    const code = readDescriptor(r);
    if (code === DATA) out.push(r.read().value);
    else r.position = valueEnd(buf, r.position);
  }
  return out;
}

function annotationValue(parsed, key) {
  const p = parsed.annotations.get(key);
  return p ? types.unwrap(p[1]) : undefined;
}

function writeMap(w, code, pairs) {
  const items = [];
  for (const [k, v] of pairs) items.push(k, v);
  w.write(types.described(types.wrap_ulong(code), types.Map32(items)));
}

// encode produces the wire form of a stored message with the given broker
// annotations ([name, typed] pairs) and optional delivery annotations.
function encode(parsed, header, brokerAnnotations, deliveryAnnotations, appRaw) {
  const w = new types.Writer();
  w.write(rheaMessage.header(header).described());
  if (deliveryAnnotations && deliveryAnnotations.length) {
    writeMap(w, DELIVERY_ANNOTATIONS, deliveryAnnotations.map(([k, v]) => [types.wrap_symbol(k), v]));
  }
  const pairs = [];
  const own = new Set();
  for (const [k, v] of brokerAnnotations) {
    own.add(k);
    pairs.push([types.wrap_symbol(k), v]);
  }
  for (const [k, pair] of parsed.annotations) {
    if (!own.has(k)) pairs.push(pair);
  }
  if (pairs.length) writeMap(w, MESSAGE_ANNOTATIONS, pairs);
  const parts = [w.toBuffer()];
  if (parsed.propsRaw) parts.push(parsed.propsRaw);
  const app = appRaw === undefined ? parsed.appRaw : appRaw;
  if (app) parts.push(app);
  parts.push(parsed.bodyRaw);
  return Buffer.concat(parts);
}

// withAppProperties returns a re-encoded application-properties section with
// the given plain values set (used for dead-letter reasons and properties-to-modify).
function withAppProperties(appRaw, values) {
  let pairs = new Map();
  if (appRaw) {
    const s = new types.Reader(appRaw).read();
    pairs = typedPairs(s);
  }
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    pairs.set(k, [types.wrap_string(k), v && v.toRheaTyped ? v : types.wrap(v)]);
  }
  const w = new types.Writer();
  writeMap(w, APPLICATION_PROPERTIES, pairs.values());
  return w.toBuffer();
}

function appProperty(appRaw, key) {
  if (!appRaw) return undefined;
  const p = typedPairs(new types.Reader(appRaw).read()).get(key);
  return p ? types.unwrap(p[1]) : undefined;
}

// serialize turns a parsed message back into one buffer that parse reads
// back unchanged (the stored form of a message): the bytes it arrived as,
// if nothing was changed since.
function serialize(parsed) {
  return parsed.raw || encode(parsed, parsed.header, [], null, parsed.appRaw);
}

module.exports = { decode, parse, parseBatch, encode, serialize, annotationValue, withAppProperties, appProperty, BATCH_FORMAT };
