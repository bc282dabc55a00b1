package handlers

// The checkout body is decoded with github.com/go-json-experiment/json, the
// published twin of encoding/json/v2, not with encoding/json. encoding/json
// lets the last of two duplicate members win (so "lines" could be swapped
// after a validator read the first), matches member names
// case-insensitively ("CUSTOMERID", "SKU") and replaces invalid UTF-8 and
// lone surrogates with U+FFFD. v2 refuses all of these by default; the
// options below restate those defaults so nobody relaxes them by accident.
//
// Why the module and not encoding/json/v2 itself: in Go 1.26 v2 exists only
// under GOEXPERIMENT=jsonv2, a toolchain switch that every go build, go
// test, go vet, gopls run, IDE and CI job of the project would have to set,
// and a build without it does not compile. The module builds everywhere as
// it is, and under the goexperiment.jsonv2 tag (on by default from Go 1.27)
// it aliases the standard library's implementation, so moving to
// encoding/json/v2 later is a change of import path, not of behaviour.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// strictJSON is how every client body is decoded.
var strictJSON = jsonv2.JoinOptions(
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// decodeStrict decodes exactly one JSON object into v, or says in a 400
// problem what is wrong and where.
func decodeStrict(body []byte, v any) error {
	if lead := bytes.TrimLeft(body, " \t\r\n"); len(lead) == 0 || lead[0] != '{' {
		return badRequest("", "the body must be a JSON object")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body), strictJSON)
	if err := jsonv2.UnmarshalDecode(dec, v, strictJSON); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return badRequest("", fmt.Sprintf("malformed JSON after byte %d: the body must hold exactly one JSON object", dec.InputOffset()))
	}
	return nil
}

// describeJSONError turns the decoder's errors into a field and a reason
// that quote at most a short prefix of anything the client sent.
func describeJSONError(err error) error {
	var syntax *jsontext.SyntacticError
	var semantic *jsonv2.SemanticError
	switch {
	case errors.As(err, &syntax):
		return describeSyntax(syntax)
	case errors.As(err, &semantic):
		return describeSemantic(semantic)
	}
	return badRequest("", "malformed JSON")
}

func describeSyntax(e *jsontext.SyntacticError) error {
	field := fieldOf(e.JSONPointer)
	switch {
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: the body ends too early")
	case errors.Is(e.Err, jsontext.ErrDuplicateName):
		return badRequest(field, fmt.Sprintf("duplicate member %s: each member may appear once", order.Excerpt(field)))
	}
	return badRequest(field, fmt.Sprintf("malformed JSON at byte %d: %s", e.ByteOffset, clip(e.Err.Error(), 80)))
}

func describeSemantic(e *jsonv2.SemanticError) error {
	field := fieldOf(e.JSONPointer)
	switch {
	case errors.Is(e.Err, jsonv2.ErrUnknownName):
		return badRequest(field, fmt.Sprintf("unknown field %s", order.Excerpt(e.JSONPointer.LastToken())))
	case errors.Is(e.Err, strconv.ErrRange):
		return badRequest(field, fmt.Sprintf("%s is out of range", field))
	case e.GoType != nil && field != "":
		return badRequest(field, fmt.Sprintf("%s must be %s, not %s", field, goKind(e.GoType), jsonKind(e.JSONKind, e.JSONValue)))
	}
	return badRequest(field, "the body does not have the shape of an order")
}

// fieldOf names the member a JSON pointer points at as the validator does:
// /lines/0/quantity is lines[0].quantity. Each name is cut to a short prefix.
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	prev := ""
	for tok := range p.Tokens() {
		switch {
		case prev == "lines" && isIndex(tok):
			b.WriteString("[" + tok + "]")
		case b.Len() > 0:
			b.WriteString("." + clip(tok, 32))
		default:
			b.WriteString(clip(tok, 32))
		}
		prev = tok
	}
	return b.String()
}

func isIndex(tok string) bool {
	_, err := strconv.ParseUint(tok, 10, 32)
	return err == nil
}

// clip cuts s to at most n characters, marking a cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.Kind().String()
}

func jsonKind(k jsontext.Kind, v jsontext.Value) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number " + clip(string(v), 24)
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	}
	return "null"
}
