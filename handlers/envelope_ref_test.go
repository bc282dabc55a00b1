package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
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
