package handlers

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

// bigEnvelope is a cosmosDBTrigger invocation of n documents, encoded as
// the host encodes it (the array as a JSON string, itself a JSON string).
func bigEnvelope(b *testing.B, n int) []byte {
	docs, err := decodeDocuments(envelopeDocuments(b, readTestdata(b, "applytax_first_attempt.json")))
	if err != nil {
		b.Fatal(err)
	}
	var all []json.RawMessage
	for len(all) < n {
		all = append(all, docs...)
	}
	arr, _ := json.Marshal(all[:n])
	once, _ := json.Marshal(string(arr))
	twice, _ := json.Marshal(string(once))
	env, _ := json.Marshal(map[string]any{"Data": map[string]json.RawMessage{"documents": twice},
		"Metadata": map[string]any{"RetryContext": map[string]int{"RetryCount": 0, "MaxRetryCount": 5}}})
	return env
}

func BenchmarkDecodeInvocation(b *testing.B) {
	env := bigEnvelope(b, 100)
	b.SetBytes(int64(len(env)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/ApplyTax", bytes.NewReader(env))
		if _, docs, err := decodeInvocation(r, documentsBinding); err != nil || len(docs) != 100 {
			b.Fatal(err, len(docs))
		}
	}
}

// BenchmarkDecodeDocuments is the unwrapping and splitting of a batch of
// 100 documents escaped twice, without the envelope around it.
func BenchmarkDecodeDocuments(b *testing.B) {
	raw := envelopeDocuments(b, bigEnvelope(b, 100))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if docs, err := decodeDocuments(raw); err != nil || len(docs) != 100 {
			b.Fatal(err, len(docs))
		}
	}
}

func BenchmarkStreams(b *testing.B) {
	env := bigEnvelope(b, 100)
	r := httptest.NewRequest("POST", "/ApplyTax", bytes.NewReader(env))
	_, docs, err := decodeInvocation(r, documentsBinding)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		streams(docs, allEvents)
	}
}
