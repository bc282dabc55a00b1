package cosmos

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// An item body is stored as encoding/json encodes the decoded item (a
// map[string]any): members sorted by name, the last of duplicate names
// kept, numbers as float64, strings escaped for HTML. Decoding every
// written body into maps only to encode them again was a tenth of the
// emulator's CPU, so itemEncoder produces those same bytes in one pass
// over the tokens of the body, with no map. Whatever it does not handle
// exactly (invalid UTF-8, numbers out of range, not an object, bad JSON)
// it leaves to the decode-and-encode path, which also words the errors.
// FuzzItemEncoding holds the two paths to the same bytes.

// errSlowPath sends a body to the decode-and-encode path.
var errSlowPath = errors.New("item body needs the encoding/json path")

// member is one object member encoded in an encoder's output: the encoded
// `"name":value` at [from, to), its value from valFrom, its decoded name
// in the output (plain names) or in the names arena (escaped ones).
type member struct {
	from, valFrom, to int
	nameFrom, nameTo  int
	escaped           bool // the decoded name is in names, not in out
	leaves            int  // scalar values in the value, as charge.go's leaves counts them
}

// itemEncoder re-encodes one body; encoders are pooled.
type itemEncoder struct {
	dec   jsontext.Decoder
	out   []byte
	names []byte
	tmp   []byte
	stack []member
}

var encoders = sync.Pool{New: func() any { return new(itemEncoder) }}

// encodeMembers re-encodes a JSON object body. It returns the encoded
// top-level members, sorted and unique, in buf.
func encodeMembers(raw []byte) (*item, error) {
	e := encoders.Get().(*itemEncoder)
	defer encoders.Put(e)
	e.dec.Reset(bytes.NewBuffer(raw), jsontext.AllowDuplicateNames(true))
	e.out, e.names, e.stack = make([]byte, 0, len(raw)+16), nil, e.stack[:0]
	if e.dec.PeekKind() != '{' {
		return nil, errSlowPath
	}
	if _, err := e.dec.ReadToken(); err != nil {
		return nil, errSlowPath
	}
	if err := e.members(); err != nil {
		return nil, errSlowPath
	}
	if _, err := e.dec.ReadToken(); err != io.EOF {
		return nil, errSlowPath // trailing data
	}
	kept := e.sortUnique(0)
	it := &item{buf: e.out, names: e.names, members: make([]member, 0, len(kept))}
	for _, m := range kept {
		if !isSystemProperty(string(it.name(m))) {
			it.members = append(it.members, m)
		}
	}
	e.out, e.names = nil, nil
	return it, nil
}

// members reads the members of an object whose '{' was read, through its
// '}', appending each encoded member to out and to the stack.
func (e *itemEncoder) members() error {
	for e.dec.PeekKind() != '}' {
		m, err := e.member()
		if err != nil {
			return err
		}
		e.stack = append(e.stack, m)
	}
	_, err := e.dec.ReadToken()
	return err
}

func (e *itemEncoder) member() (member, error) {
	name, err := e.dec.ReadValue()
	if err != nil {
		return member{}, err
	}
	m := member{from: len(e.out)}
	if plainString(name) {
		e.out = append(e.out, name...)
		m.nameFrom, m.nameTo = m.from+1, len(e.out)-1
	} else {
		m.escaped, m.nameFrom = true, len(e.names)
		if e.names, err = jsontext.AppendUnquote(e.names, name); err != nil {
			return member{}, err
		}
		m.nameTo = len(e.names)
		e.out = appendString(e.out, e.names[m.nameFrom:m.nameTo])
	}
	e.out = append(e.out, ':')
	m.valFrom = len(e.out)
	m.leaves, err = e.value()
	m.to = len(e.out)
	return m, err
}

// value encodes the next value and counts its scalars.
func (e *itemEncoder) value() (int, error) {
	switch e.dec.PeekKind() {
	case '{':
		if _, err := e.dec.ReadToken(); err != nil {
			return 0, err
		}
		mark, start := len(e.stack), len(e.out)
		if err := e.members(); err != nil {
			return 0, err
		}
		return e.emitObject(mark, start), nil
	case '[':
		return e.array()
	}
	v, err := e.dec.ReadValue()
	if err != nil {
		return 0, err
	}
	return 1, e.scalar(v)
}

func (e *itemEncoder) array() (int, error) {
	if _, err := e.dec.ReadToken(); err != nil {
		return 0, err
	}
	e.out = append(e.out, '[')
	n := 0
	for i := 0; e.dec.PeekKind() != ']'; i++ {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		leaves, err := e.value()
		if err != nil {
			return 0, err
		}
		n += leaves
	}
	_, err := e.dec.ReadToken()
	e.out = append(e.out, ']')
	return n, err
}

// emitObject rewrites the members from stack[mark:], encoded from out[start:],
// as one object, sorted and unique, and drops them from the stack.
func (e *itemEncoder) emitObject(mark, start int) int {
	kept := e.sortUnique(mark)
	e.tmp = append(e.tmp[:0], e.out[start:]...)
	e.out = append(e.out[:start], '{')
	leaves := 0
	for i, m := range kept {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		e.out = append(e.out, e.tmp[m.from-start:m.to-start]...)
		leaves += m.leaves
	}
	e.out = append(e.out, '}')
	e.stack = e.stack[:mark]
	return leaves
}

// sortUnique sorts stack[mark:] by name and keeps the last member of each
// name, as decoding into a map does.
func (e *itemEncoder) sortUnique(mark int) []member {
	ms := e.stack[mark:]
	name := func(m member) []byte {
		if m.escaped {
			return e.names[m.nameFrom:m.nameTo]
		}
		return e.out[m.nameFrom:m.nameTo]
	}
	slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(name(a), name(b)) })
	kept := ms[:0]
	for i, m := range ms {
		if i+1 < len(ms) && bytes.Equal(name(m), name(ms[i+1])) {
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

func (e *itemEncoder) scalar(v jsontext.Value) error {
	switch v[0] {
	case '"':
		if plainString(v) {
			e.out = append(e.out, v...)
			return nil
		}
		s, err := jsontext.AppendUnquote(e.tmp[:0], v)
		if err != nil {
			return err
		}
		e.tmp = s
		e.out = appendString(e.out, s)
		return nil
	case 't', 'f', 'n':
		e.out = append(e.out, v...)
		return nil
	}
	return e.number(v)
}

// number encodes a number as encoding/json encodes the float64 it decodes
// to. Integers of up to 15 digits are exact in a float64 and encode as
// they are written.
func (e *itemEncoder) number(v jsontext.Value) error {
	if plainInteger(v) {
		e.out = append(e.out, v...)
		return nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return errSlowPath // out of range: encoding/json refuses it
	}
	e.out = appendFloat(e.out, f)
	return nil
}

func plainInteger(v []byte) bool {
	digits := v
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// appendFloat is encoding/json's float64 encoding (ES6 number to string).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b) // clean up e-09 to e-9
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// plainString reports whether a valid quoted JSON string is already as
// encoding/json would write it: no escape, nothing it escapes for HTML
// (<, >, &, U+2028, U+2029).
func plainString(q []byte) bool {
	for i := 1; i < len(q)-1; i++ {
		switch c := q[i]; {
		case c == '\\' || c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(q) && q[i+1] == 0x80 && (q[i+2] == 0xA8 || q[i+2] == 0xA9):
			return false
		}
	}
	return true
}

// appendString appends s quoted as encoding/json quotes a string: printable
// ASCII as it is, quotes and backslashes escaped (ETags hold quotes), and
// anything else through encoding/json (escaped names and values are rare).
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	start := len(b)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&':
			enc, _ := json.Marshal(string(s))
			return append(b[:start], enc...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendValue encodes a decoded JSON value (what encoding/json decodes
// into an any, plus int64) as encoding/json encodes it, without
// reflection. seal encodes patched items with it.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) { // a patch's incr can overflow
			_, err := json.Marshal(x) // encoding/json's error
			return b, err
		}
		return appendFloat(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case []any:
		return appendArray(b, x)
	case map[string]any:
		return appendObject(b, x)
	}
	enc, err := json.Marshal(v) // not from a JSON document: let encoding/json decide
	return append(b, enc...), err
}

func appendArray(b []byte, a []any) ([]byte, error) {
	b = append(b, '[')
	for i, e := range a {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendValue(b, e); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendObject(b []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var err error
		if b, err = appendValue(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
