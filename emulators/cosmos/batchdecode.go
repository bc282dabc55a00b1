package cosmos

import (
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeOps reads a batch body as unmarshal reads it into []batchOperation,
// in one pass over its tokens and without copying the resource bodies
// (they stay slices of body). It handles what the SDKs send: an array of
// objects whose members are strings, or any value for resourceBody, under
// their exact names. It reports false for anything else (a name that
// matches a field only by case, a value of another type, null elements,
// bad JSON), which unmarshal then decodes, or words the error of.
func decodeOps(body []byte) ([]batchOperation, bool) {
	dec := opDecoders.Get().(*jsontext.Decoder)
	defer opDecoders.Put(dec)
	dec.Reset(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true))
	if dec.PeekKind() != '[' {
		return nil, false
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, false
	}
	ops := make([]batchOperation, 0, 4)
	for dec.PeekKind() == '{' {
		op, ok := decodeOp(dec, body)
		if !ok {
			return nil, false
		}
		ops = append(ops, op)
	}
	if _, err := dec.ReadToken(); err != nil { // ']', or an error
		return nil, false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, false // trailing data
	}
	return ops, true
}

var opDecoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// decodeOp reads one operation object, its '{' next in dec.
func decodeOp(dec *jsontext.Decoder, body []byte) (batchOperation, bool) {
	var op batchOperation
	if _, err := dec.ReadToken(); err != nil {
		return op, false
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil || bytes.IndexByte(name, '\\') >= 0 {
			return op, false
		}
		if !op.member(dec, body, string(name[1:len(name)-1])) {
			return op, false
		}
	}
	_, err := dec.ReadToken()
	return op, err == nil
}

// member reads the value of the member name into op.
func (op *batchOperation) member(dec *jsontext.Decoder, body []byte, name string) bool {
	var field *string
	switch name {
	case "resourceBody":
		v, err := dec.ReadValue()
		if err != nil {
			return false
		}
		end := int(dec.InputOffset())
		op.ResourceBody = body[end-len(v) : end : end]
		return true
	case "operationType":
		field = &op.OperationType
	case "id":
		field = &op.ID
	case "ifMatch":
		field = &op.IfMatch
	default:
		return !foldsToField(name) && dec.SkipValue() == nil
	}
	return readString(dec, field)
}

// foldsToField reports whether encoding/json would match name to a field
// of batchOperation case-insensitively.
func foldsToField(name string) bool {
	for _, f := range [...]string{"resourceBody", "operationType", "id", "ifMatch"} {
		if strings.EqualFold(name, f) {
			return true
		}
	}
	return false
}

// readString reads a string (or null, which leaves it as it is) into s.
func readString(dec *jsontext.Decoder, s *string) bool {
	v, err := dec.ReadValue()
	switch {
	case err != nil:
		return false
	case v.Kind() == 'n':
		return true
	case v.Kind() != '"':
		return false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		*s = operationName(v[1 : len(v)-1])
		return true
	}
	u, err := jsontext.AppendUnquote(nil, v)
	*s = string(u)
	return err == nil
}

// operationName returns s as a string, the operation types without
// allocating.
func operationName(s []byte) string {
	for _, kind := range [...]string{"Create", "Replace", "Upsert", "Patch", "Read", "Delete"} {
		if string(s) == kind {
			return kind
		}
	}
	return string(s)
}
