package funchost

import (
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
