package funchost

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendJSONStringRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tcr\rlf\n", "\x00\x01\x1f\x7f",
		"<html> & 'x'", "é 東京 😀", "bad \xff utf-8", "\u2028 line sep", `{"id":"a\"b"}`} {
		enc := appendJSONString(nil, []byte(s))
		require.True(t, json.Valid(enc), "%q encodes as %s", s, enc)
		var back string
		require.NoError(t, json.Unmarshal(enc, &back))
		want := s
		if s == "bad \xff utf-8" {
			want = "bad \ufffd utf-8"
		}
		assert.Equal(t, want, back)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add([]byte(`{"id":"x","kind":"event","data":{"a":"<b>\n"}}`))
	f.Fuzz(func(t *testing.T, s []byte) {
		enc := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("%q encodes as invalid JSON %s: %v", s, enc, err)
		}
		want, _ := json.Marshal(string(s)) // encoding/json's reading of the same bytes
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("%q: got %q, encoding/json %q", s, back, wantBack)
		}
	})
}

func TestEnvelopeEncodeMatchesEncodingJSON(t *testing.T) {
	req := invocationRequest{
		Data: map[string]json.RawMessage{"documents": documentsValue([][]byte{[]byte(`{"id": "a", "x": "<\n>"}`)})},
		Metadata: map[string]json.RawMessage{"sys": newSysMetadata("ApplyTax"),
			"RetryContext": mustJSON(retryContext{RetryCount: 1, MaxRetryCount: 5})},
	}
	var got, want any
	require.NoError(t, json.Unmarshal(req.encode(), &got))
	require.NoError(t, json.Unmarshal(mustJSON(req), &want))
	assert.Equal(t, want, got)
}

// documentsValueReference is the envelope value written step by step:
// compact the array, then encode it as a JSON string twice.
func documentsValueReference(docs [][]byte) []byte {
	var arr bytes.Buffer
	arr.WriteByte('[')
	for i, d := range docs {
		if i > 0 {
			arr.WriteByte(',')
		}
		if err := json.Compact(&arr, d); err != nil {
			panic(err)
		}
	}
	arr.WriteByte(']')
	return appendJSONString(nil, appendJSONString(nil, arr.Bytes()))
}

func TestDocumentsValueIsCompactedAndEscapedTwice(t *testing.T) {
	docs := [][]byte{
		[]byte(" {\n\t\"id\" : \"a b\",\r\n \"n\": [1, 2 , {\"x\": null}] } "),
		[]byte(`{"q":"say \"hi\" \\ \/ \n \u0041 \\\"","e":"é 東京 😀","bad":"` + "\xff\xfe" + `"}`),
		[]byte(`"just a string"`),
		[]byte(`{"s":"  spaces { inside } \" strings  "}`),
		eventPage(1)[0],
	}
	got := documentsValue(docs)
	assert.Equal(t, string(documentsValueReference(docs)), string(got))
	var once, array string
	require.NoError(t, json.Unmarshal(got, &once))
	require.NoError(t, json.Unmarshal([]byte(once), &array))
	var arr []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(array), &arr))
	assert.Len(t, arr, len(docs))
}

func FuzzDocumentsValue(f *testing.F) {
	f.Add([]byte(`{"id": "x", "kind":"event","data":{"a":"<b>\n \"q\" \\"}}`))
	f.Add([]byte("[1, \"\xff\", {\"k\" :\t\"v\"}]"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			t.Skip() // the host only hands over documents Cosmos DB sent as JSON
		}
		docs := [][]byte{doc, doc}
		if got, want := documentsValue(docs), documentsValueReference(docs); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", doc, got, want)
		}
	})
}
