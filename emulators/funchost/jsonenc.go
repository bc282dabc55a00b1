package funchost

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// The envelope of a change feed invocation is the host's hottest
// allocation: a batch's documents, escaped twice. json.Marshal would
// validate and compact every json.RawMessage again and escape HTML
// characters the real host (Newtonsoft) leaves alone, so the envelope is
// written here directly from values this package encoded itself.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping what JSON requires
// (quote, backslash, control characters) and invalid UTF-8 as U+FFFD, as
// encoding/json does.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// appendTwiceEscaped appends the valid JSON value doc, compacted, as the
// inside of a JSON string that holds a JSON string: what json.Compact and
// then appendJSONString twice would write, in one pass. Every quote and
// backslash is escaped twice and invalid UTF-8 becomes U+FFFD; whitespace
// is dropped outside strings. No other byte of valid JSON needs escaping
// (control characters cannot appear raw in it). A document is mostly short
// runs between quotes, so bytes are written one by one into room made
// beforehand rather than appended run by run.
func appendTwiceEscaped(dst, doc []byte) []byte {
	if !utf8.Valid(doc) {
		return appendTwiceEscapedInvalid(dst, doc)
	}
	n := len(dst)
	out := slices.Grow(dst, twiceEscapedLen(doc))[:n+twiceEscapedLen(doc)]
	inString, escaped := false, false
	for _, c := range doc {
		switch escapeClass[c] {
		case copyByte:
			out[n] = c
			n++
			escaped = false
			continue
		case quoteByte:
			if !escaped {
				inString = !inString
			}
			out[n], out[n+1], out[n+2], out[n+3] = '\\', '\\', '\\', '"'
			n += 4
			escaped = false
		case backslashByte:
			out[n], out[n+1], out[n+2], out[n+3] = '\\', '\\', '\\', '\\'
			n += 4
			escaped = !escaped
		case spaceByte:
			if inString {
				out[n] = c
				n++
			}
			escaped = false
		}
	}
	return out[:n]
}

// appendTwiceEscapedInvalid is appendTwiceEscaped for a document with
// invalid UTF-8, which becomes U+FFFD.
func appendTwiceEscapedInvalid(dst, doc []byte) []byte {
	inString, escaped := false, false
	start := 0
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if escapeClass[c] == copyByte && c < utf8.RuneSelf {
			escaped = false
			continue
		}
		afterBackslash := escaped
		escaped = false
		var rep string
		switch {
		case c == '"':
			if !afterBackslash {
				inString = !inString
			}
			rep = `\\\"`
		case c == '\\':
			escaped = !afterBackslash
			rep = `\\\\`
		case c >= utf8.RuneSelf:
			if r, size := utf8.DecodeRune(doc[i:]); r != utf8.RuneError || size != 1 {
				i += size - 1
				continue
			}
			rep = `\\ufffd`
		case inString: // whitespace inside a string is kept
			continue
		}
		// rep is the byte's escaped form, or "" for whitespace to drop.
		dst = append(append(dst, doc[start:i]...), rep...)
		start = i + 1
	}
	return append(dst, doc[start:]...)
}

// twiceEscapedLen is the length appendTwiceEscaped needs at most for doc
// when it is valid UTF-8.
func twiceEscapedLen(doc []byte) int {
	return len(doc) + 3*(bytes.Count(doc, []byte{'"'})+bytes.Count(doc, []byte{'\\'}))
}

// escapeClass says what appendTwiceEscaped does with each byte: quote,
// backslash and JSON whitespace are special, every other byte is copied
// (bytes of UTF-8 sequences included, once the document is known valid).
var escapeClass = func() (t [256]byte) {
	t['"'], t['\\'] = quoteByte, backslashByte
	for _, c := range []byte{' ', '\t', '\n', '\r'} {
		t[c] = spaceByte
	}
	return t
}()

const (
	copyByte = iota
	quoteByte
	backslashByte
	spaceByte
)

// encode writes the envelope. Its values are JSON this package produced
// (mustJSON, documentsValue), so they are copied as they are.
func (r invocationRequest) encode() []byte {
	size := 32
	for _, m := range []map[string]json.RawMessage{r.Data, r.Metadata} {
		for k, v := range m {
			size += len(k) + len(v) + 4
		}
	}
	b := make([]byte, 0, size)
	b = append(b, `{"Data":`...)
	b = appendRawObject(b, r.Data)
	b = append(b, `,"Metadata":`...)
	b = appendRawObject(b, r.Metadata)
	return append(b, '}')
}

// appendRawObject appends m as a JSON object with its keys sorted, as
// json.Marshal orders a map.
func appendRawObject(b []byte, m map[string]json.RawMessage) []byte {
	if m == nil {
		return append(b, "null"...)
	}
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
		b = appendJSONString(b, []byte(k))
		b = append(b, ':')
		b = append(b, m[k]...)
	}
	return append(b, '}')
}
