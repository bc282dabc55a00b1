package feedpage

import (
	"bytes"
	"errors"
)

// The walk finds where JSON values end without decoding them. It is given
// valid JSON (a Cosmos DB response, a document of one) and must only
// never read past the input or loop on anything else; it rejects what is
// not an object or an array where one is required.

// ErrNotJSON is the walk's answer to input that is not the JSON it expects.
var ErrNotJSON = errors.New("not the JSON value expected")

// EachMember calls fn with the key (as written, escapes undecoded) and the
// raw value of every top-level member of the JSON object doc.
func EachMember(doc []byte, fn func(key, value []byte)) error {
	_, err := eachMember(doc, func(key []byte, start, end int) bool {
		fn(key, doc[start:end])
		return true
	})
	return err
}

// eachMember walks the object doc, handing fn each member's key and the
// bounds of its value; it stops early when fn returns false. It returns the
// index after the object.
func eachMember(doc []byte, fn func(key []byte, start, end int) bool) (int, error) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return 0, ErrNotJSON
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return i + 1, nil
	}
	for i < len(doc) {
		keyEnd := skipString(doc, i)
		if keyEnd < 0 {
			return 0, ErrNotJSON
		}
		key := doc[i+1 : keyEnd-1]
		i = skipSpace(doc, keyEnd)
		if i >= len(doc) || doc[i] != ':' {
			return 0, ErrNotJSON
		}
		start := skipSpace(doc, i+1)
		end := skipValue(doc, start)
		if end <= start {
			return 0, ErrNotJSON
		}
		if !fn(key, start, end) {
			return end, nil
		}
		if i = skipSpace(doc, end); i < len(doc) && doc[i] == '}' {
			return i + 1, nil
		}
		if i >= len(doc) || doc[i] != ',' {
			return 0, ErrNotJSON
		}
		i = skipSpace(doc, i+1)
	}
	return 0, ErrNotJSON
}

// elements returns the raw elements of the JSON array arr.
func elements(arr []byte) ([][]byte, error) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, ErrNotJSON
	}
	var out [][]byte
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return out, nil
	}
	for i < len(arr) {
		end := skipValue(arr, i)
		if end <= i {
			return nil, ErrNotJSON
		}
		out = append(out, arr[i:end:end])
		if i = skipSpace(arr, end); i < len(arr) && arr[i] == ']' {
			return out, nil
		}
		if i >= len(arr) || arr[i] != ',' {
			return nil, ErrNotJSON
		}
		i = skipSpace(arr, i+1)
	}
	return nil, ErrNotJSON
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i], or
// -1. A quote ends it unless an odd number of backslashes precede it.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; ; i++ {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		n := 0
		for b[i-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
	}
}

// skipValue returns the index after the value that starts at b[i], or -1:
// a string, an object or an array up to its closing bracket, or a scalar up
// to the delimiter that ends it.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			if i = skipString(b, i); i < 0 || depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}
