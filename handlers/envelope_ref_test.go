package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// The envelope and documents decoders as they were before scanEnvelope and
// appendUnquote: the reference the fuzz targets hold the new ones to.

func refDecodeInvocation(r *http.Request, name string) (*RetryContext, []json.RawMessage, error) {
	var inv invokeRequest
	var buf []byte
	body, err := readBody(r, &buf)
	if err == nil {
		err = jsonv2.Unmarshal(body, &inv)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("decode invocation envelope: %v: %w", err, order.ErrPermanent)
	}
	docs, err := refDecodeDocuments(inv.Data[name])
	return inv.Metadata.RetryContext, docs, err
}

func refDecodeDocuments(raw json.RawMessage) ([]json.RawMessage, error) {
	for i := 0; i < 4; i++ {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '"' {
			break
		}
		unquoted, err := jsontext.AppendUnquote(nil, raw)
		if err != nil {
			return nil, fmt.Errorf("unwrap documents: %v: %w", err, order.ErrPermanent)
		}
		raw = unquoted
	}
	docs, err := splitArray(raw)
	if err != nil {
		return nil, fmt.Errorf("decode documents array: %v: %w", err, order.ErrPermanent)
	}
	return docs, nil
}

// sameDecoding fails unless got and want (documents, RetryContext, error)
// are the same.
func sameDecoding(t *testing.T, wantRC, gotRC *RetryContext, want, got []json.RawMessage, wantErr, gotErr error) {
	t.Helper()
	if wantErr != nil {
		require.Error(t, gotErr)
		require.Equal(t, wantErr.Error(), gotErr.Error())
		return
	}
	require.NoError(t, gotErr)
	require.Equal(t, wantRC, gotRC)
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, string(want[i]), string(got[i]), "document %d", i)
	}
}

func TestAppendUnquoteAsLibrary(t *testing.T) {
	for _, s := range []string{
		`""`, `"a"`, `"\"[{\\\"id\\\":1}]\""`, `"\b\f\n\r\t\/\\\""`, `"\u00e9\u20AC\u0000\u007f"`,
		`"é€😀"`, "\"\x7f\"", `"\ud83d\ude00"`, `"\ud83d"`, `"\udc00x"`, `"\u12"`, `"\u12g4"`, `"\x"`,
		`"a`, `"a\"`, `"`, ``, `a"`, `"a"b`, `"a" `, `"a"b"`, "\"\x01\"", "\"\xff\"", "\"\xe2\x82\"",
		"\"\xed\xa0\x80\"", `"\uFFFD"`, "\"\xef\xbf\xbd\"",
	} {
		t.Run(s, func(t *testing.T) { sameUnquote(t, []byte(s)) })
	}
}

func sameUnquote(t *testing.T, src []byte) {
	t.Helper()
	want, wantErr := jsontext.AppendUnquote([]byte("x"), src)
	got, gotErr := appendUnquote([]byte("x"), src)
	if wantErr != nil {
		assert.EqualError(t, gotErr, wantErr.Error())
		return
	}
	assert.NoError(t, gotErr)
	assert.Equal(t, string(want), string(got))
}

// FuzzAppendUnquote: appendUnquote gives jsontext.AppendUnquote's result
// and error for any input.
func FuzzAppendUnquote(f *testing.F) {
	f.Add([]byte(`"\"[{\\\"id\\\":\\\"a\\u00e9\\\"}]\""`))
	f.Add([]byte(`"\ud83d\ude00 é\u20ac"`))
	f.Fuzz(func(t *testing.T, src []byte) {
		sameUnquote(t, src)
		if q, err := json.Marshal(string(src)); err == nil {
			sameUnquote(t, q)
		}
	})
}

// BenchmarkAppendUnquote is the first unwrapping of a batch of 100
// documents, by appendUnquote and by the library.
func BenchmarkAppendUnquote(b *testing.B) {
	raw := envelopeDocuments(b, bigEnvelope(b, 100))
	for name, unquote := range map[string]func([]byte, []byte) ([]byte, error){
		"appendUnquote": appendUnquote, "jsontext": jsontext.AppendUnquote[[]byte]} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			var buf []byte
			for b.Loop() {
				buf, _ = unquote(buf[:0], raw)
			}
		})
	}
}

// TestDecodeInvocationAsReference holds decodeInvocation to the reference
// on envelopes that take each of its ways: the documents string unquoted
// out of the body (scanAround), the token pass alone, and Unmarshal.
func TestDecodeInvocationAsReference(t *testing.T) {
	for name, env := range map[string]string{
		"as the host writes it":     `{"Data":{"documents":"\"[{\\\"id\\\":\\\"a\\\"}]\""},"Metadata":{"RetryContext":{"RetryCount":1,"MaxRetryCount":5}}}`,
		"metadata first":            `{"Metadata":{"RetryContext":{"RetryCount":2,"MaxRetryCount":-1}},"Data":{"documents":"[{\"id\":\"a\"}]"}}`,
		"spaces":                    `{ "Data" : { "documents" : "[{\"id\":\"a\"}]" } }`,
		"name in a string first":    `{"Metadata":{"x":"\"documents\":\"[]\""},"Data":{"documents":"[{\"id\":\"a\"}]"}}`,
		"nested name first":         `{"Data":{"x":{"documents":"[{\"id\":\"b\"}]"},"documents":"[{\"id\":\"a\"}]"}}`,
		"duplicate documents":       `{"Data":{"documents":"[{\"id\":\"a\"}]","documents":"[]"}}`,
		"escaped duplicate":         `{"Data":{"documents":"[]","docu\u006dents":"[]"}}`,
		"duplicate Data":            `{"Data":{"documents":"[]"},"Data":{}}`,
		"duplicate in a document":   `{"Data":{"documents":"[{\"id\":\"a\",\"id\":\"b\"}]"}}`,
		"surrogate pair":            `{"Data":{"documents":"[{\"id\":\"\\ud83d\\ude00\"}]"}}`,
		"lone surrogate":            `{"Data":{"documents":"[{\"id\":\"\\ud83d\"}]"}}`,
		"escaped surrogate":         `{"Data":{"documents":"\ud83d[]"}}`,
		"invalid UTF-8":             "{\"Data\":{\"documents\":\"[{\\\"id\\\":\\\"\xff\\\"}]\"}}",
		"control character":         "{\"Data\":{\"documents\":\"[\x01]\"}}",
		"unterminated":              `{"Data":{"documents":"[{\"id\":\"a\"}]`,
		"bad after the string":      `{"Data":{"documents":"[]"x}}`,
		"trailing data":             `{"Data":{"documents":"[]"}}x`,
		"bad metadata":              `{"Data":{"documents":"[]"},"Metadata":{"RetryContext":{"RetryCount":"1"}}}`,
		"array of documents":        `{"Data":{"documents":[{"id":"a"}]}}`,
		"null documents":            `{"Data":{"documents":null}}`,
		"no documents":              `{"Data":{"other":"[]"}}`,
		"null":                      `null`,
		"not an object":             `[]`,
		"upper-case names":          `{"DATA":{"documents":"[]"}}`,
		"three levels":              `{"Data":{"documents":"\"\\\"[]\\\"\""}}`,
		"unicode escapes":           `{"Data":{"documents":"[{\"id\":\"\\u00e9\u00e9\"}]"}}`,
		"string of a bad string":    `{"Data":{"documents":"\"\\x\""}}`,
		"documents in the metadata": `{"Metadata":{"documents":"[]"},"Data":{"documents":"[{\"id\":\"a\"}]"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			rc, docs, err := decodeInvocation(httptest.NewRequest(http.MethodPost, "/ApplyTax", strings.NewReader(env)), documentsBinding)
			wantRC, want, wantErr := refDecodeInvocation(httptest.NewRequest(http.MethodPost, "/ApplyTax", strings.NewReader(env)), documentsBinding)
			sameDecoding(t, wantRC, rc, want, docs, wantErr, err)
		})
	}
}
