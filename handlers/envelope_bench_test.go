package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/ordersflow/orderpipeline/shared/order"
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

// feedBatch is a change feed batch as a stage sees it under load: for each
// of orders orders, its four events from OrderPlaced to OrderFulfilled and
// the order document's version after each, as the feed interleaves them.
func feedBatch(b *testing.B, orders int) []json.RawMessage {
	docs, err := decodeDocuments(envelopeDocuments(b, readTestdata(b, "applytax_first_attempt.json")))
	if err != nil {
		b.Fatal(err)
	}
	var o map[string]any
	var ev map[string]any
	if err := json.Unmarshal(docs[0], &o); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(docs[1], &ev); err != nil {
		b.Fatal(err)
	}
	types := []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured, order.OrderFulfilled}
	var out []json.RawMessage
	for i := range orders {
		id := fmt.Sprintf("ord_%024d", i)
		for seq, t := range types {
			ev["id"], ev["orderId"], ev["seq"], ev["type"] = id+":"+string(t), id, seq+1, t
			o["id"], o["orderId"], o["version"], o["lastEvent"] = id, id, seq+1, t
			e, _ := json.Marshal(ev)
			d, _ := json.Marshal(o)
			out = append(out, e, d)
		}
	}
	return out
}

// BenchmarkStreamsByStage is streams over a batch of 96 documents (12
// orders) with the event types of each stage.
func BenchmarkStreamsByStage(b *testing.B) {
	docs := feedBatch(b, 12)
	for _, st := range []struct {
		name string
		on   []order.EventType
	}{{"ApplyTax", []order.EventType{order.OrderPlaced}}, {"ProcessPayment", []order.EventType{order.TaxApplied, order.FulfilmentFailed}},
		{"FulfilOrder", []order.EventType{order.PaymentCaptured}}, {"PublishEvents", allEvents}} {
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				streams(docs, st.on)
			}
		})
	}
}

// BenchmarkFeedState is reading the order document the feed delivered with
// an event.
func BenchmarkFeedState(b *testing.B) {
	docs := feedBatch(b, 1)
	ev := order.Event{ID: "e", OrderID: "ord_000000000000000000000000", Seq: 1}
	ctx := withFeedState(context.Background(), docs[1])
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := feedState(ctx, ev); !ok {
			b.Fatal("no feed state")
		}
	}
}
