package handlers

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// appendUnquote is jsontext.AppendUnquote(dst, src), faster on what the
// host sends: a batch of documents escaped twice is mostly escapes (\" and
// \\), which the library handles one call at a time. It handles plain text,
// the two-character escapes, \u escapes of anything but a surrogate, and
// valid UTF-8 itself, writing into dst grown once to len(src) (the unquoted
// string is never longer); for anything else (a surrogate, a control
// character, invalid UTF-8, an error of any kind) it leaves src to the
// library, so the result and every error are the library's.
// TestAppendUnquoteAsLibrary and FuzzAppendUnquote compare the two.
func appendUnquote(dst, src []byte) ([]byte, error) {
	n := len(dst)
	dst = slices.Grow(dst, len(src))
	w, end, ok := unquoteString(dst[n:n+len(src)], src)
	if !ok || end != len(src) {
		return jsontext.AppendUnquote(dst[:n], src)
	}
	return dst[:n+w], nil
}

// The classes of a byte in a JSON string.
const (
	plainByte  = iota // stands for itself
	escapeByte        // a backslash
	multiByte         // starts a multi-byte UTF-8 sequence, or is invalid
	badByte           // a control character or a quote: the string ends or is wrong
)

var byteClass = func() (c [256]byte) {
	for b := range c {
		switch {
		case b < ' ' || b == '"':
			c[b] = badByte
		case b == '\\':
			c[b] = escapeByte
		case b >= utf8.RuneSelf:
			c[b] = multiByte
		}
	}
	return c
}()

// unescaped is what the two-character escape \c stands for, 0 if \c is
// not one.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unquoteString writes the content of the JSON string at the start of src
// to out (len(out) >= len(src)) and returns its length and the length of
// the string, quotes and all; false if the string holds anything it leaves
// to the library or does not end. It goes one byte at a time: runs of plain
// bytes between escapes are short in a string of escaped JSON, and testing
// eight bytes at once first made it twice as slow.
func unquoteString(out, src []byte) (w, end int, ok bool) {
	if len(src) == 0 || src[0] != '"' {
		return 0, 0, false
	}
	out = out[:len(src)]
	for i := 1; i < len(src); {
		c := src[i]
		switch byteClass[c] {
		case plainByte:
			out[w] = c
			w, i = w+1, i+1
		case escapeByte:
			if i+1 == len(src) {
				return 0, 0, false
			}
			if c := unescaped[src[i+1]]; c != 0 {
				out[w] = c
				w, i = w+1, i+2
				continue
			}
			if src[i+1] != 'u' || i+6 > len(src) {
				return 0, 0, false
			}
			r, ok := hex4(src[i+2 : i+6])
			if !ok || utf16.IsSurrogate(r) {
				return 0, 0, false
			}
			w += utf8.EncodeRune(out[w:], r)
			i += 6
		case multiByte:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, 0, false
			}
			w += copy(out[w:], src[i:i+size])
			i += size
		default:
			if c == '"' {
				return w, i + 1, true
			}
			return 0, 0, false // a control character
		}
	}
	return 0, 0, false // no closing quote
}

// hex4 is the value of four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
