package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

func TestApplyTaxFromAHostPayload(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	w := f.invoke("ApplyTax", readTestdata(t, "applytax_first_attempt.json"))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var resp invokeResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
	assert.NotNil(t, resp.Outputs)
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(testOrderID))
	o, _ := f.store.Order(context.Background(), testOrderID)
	assert.Equal(t, order.StatusTaxed, o.Status)
	assert.Equal(t, int64(181), o.Tax, "7.25% of 25.00 = 1.8125 → 1.81; books exempt in CA")
}

func TestRedeliveryIsANoOp(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	env := readTestdata(t, "applytax_first_attempt.json")
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, f.invoke("ApplyTax", env).Code)
	}
	_, events := f.store.count()
	assert.Equal(t, 2, events)
}

func TestConcurrentInvocationsOfOneStageAppendOneEvent(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	env := readTestdata(t, "applytax_first_attempt.json")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = f.invoke("ApplyTax", env).Code
		}(i)
	}
	wg.Wait()
	for _, c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(testOrderID))
}

func TestTransientFailureRetriesUntilTheLastAttempt(t *testing.T) {
	cases := []struct {
		name       string
		payload    string
		wantStatus int
		wantDead   int
	}{
		{"first attempt fails so the host retries", "applytax_first_attempt.json", 500, 0},
		{"last retry dead-letters", "applytax_last_retry.json", 200, 1},
		{"no retry policy dead-letters", "applytax_no_retry_policy.json", 200, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seedTestdataOrder(t)
			f.store.err = order.ErrUnavailable
			w := f.invoke("ApplyTax", readTestdata(t, tc.payload))
			assert.Equal(t, tc.wantStatus, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Len(t, f.dead.all, tc.wantDead)
		})
	}
}

func TestLastRetryRecordsTheDocumentAndRetryCount(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	f.store.err = order.ErrUnavailable
	require.Equal(t, http.StatusOK, f.invoke("ApplyTax", readTestdata(t, "applytax_last_retry.json")).Code)
	d, ok := f.dead.all["ApplyTax~"+testOrderID+":OrderPlaced"]
	require.True(t, ok)
	assert.Equal(t, 5, d.RetryCount)
	assert.True(t, d.Transient)
	assert.Equal(t, testOrderID, d.OrderID)
	assert.Equal(t, "inv-1", d.InvocationID)

	f.store.err = nil
	w := f.do(http.MethodGet, "/api/ops/dead-letters", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), d.ID)

	w = f.do(http.MethodPost, "/api/ops/dead-letters/"+d.ID+"/replay", nil, nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, f.dead.all, "a replayed dead letter is removed")
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(testOrderID))
}

func TestUndecodableDocumentIsDeadLetteredAndTheBatchGoesOn(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	w := f.invoke("ApplyTax", readTestdata(t, "applytax_undecodable.json"))
	require.Equal(t, http.StatusOK, w.Code)
	require.Len(t, f.dead.all, 1)
	for _, d := range f.dead.all {
		assert.False(t, d.Transient)
		assert.Contains(t, d.Error, "decode")
		w := f.do(http.MethodPost, "/api/ops/dead-letters/"+d.ID+"/replay", nil, nil)
		assert.Equal(t, http.StatusConflict, w.Code, "a permanent failure stays dead")
	}
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(testOrderID))
}

func TestUnreadableEnvelopeIsDeadLettered(t *testing.T) {
	f := newFixture(t)
	w := f.invoke("ApplyTax", []byte(`{"Data": 42`))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, f.dead.all, 1)
}

func TestReplayUnknownDeadLetterIs404(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, http.StatusNotFound, f.do(http.MethodPost, "/api/ops/dead-letters/nope/replay", nil, nil).Code)
}

func TestSagaBranches(t *testing.T) {
	cases := []struct {
		name   string
		token  string
		qty    int
		want   []order.EventType
		status order.Status
	}{
		{"fulfilled", "tok_visa", 1, []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured, order.OrderFulfilled}, order.StatusFulfilled},
		{"declined", "tok_declined", 1, []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentDeclined, order.OrderCancelled}, order.StatusCancelled},
		{"out of stock", "tok_visa", 4, []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured,
			order.FulfilmentFailed, order.PaymentRefunded, order.OrderCancelled}, order.StatusCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.placeOrder(t, tc.token, tc.qty)
			f.runSaga(t, id)
			assert.Equal(t, tc.want, f.store.types(id))
			o, _ := f.store.Order(context.Background(), id)
			assert.Equal(t, tc.status, o.Status)
			assert.Len(t, f.pub.published, len(tc.want), "every event is published")
			assert.LessOrEqual(t, f.gw.charges, 1)
		})
	}
}

func TestPublishEvents(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	docs := envelopeDocuments(t, readTestdata(t, "applytax_first_attempt.json"))
	env := func(rc string) []byte {
		return []byte(`{"Data":{"documents":` + string(docs) + `},"Metadata":{"RetryContext":` + rc + `}}`)
	}
	require.Equal(t, http.StatusOK, f.invoke("PublishEvents", env(`{"RetryCount":0,"MaxRetryCount":5}`)).Code)
	require.Len(t, f.pub.published, 1, "the order document is not an event")
	assert.Equal(t, order.OrderPlaced, f.pub.published[0].Type)

	f.pub.err = fmt.Errorf("amqp: link detached: %w", order.ErrUnavailable) // as eventbus reports a send failure
	assert.Equal(t, http.StatusInternalServerError, f.invoke("PublishEvents", env(`{"RetryCount":1,"MaxRetryCount":5}`)).Code)
	assert.Empty(t, f.dead.all)
	assert.Equal(t, http.StatusOK, f.invoke("PublishEvents", env(`{"RetryCount":5,"MaxRetryCount":5}`)).Code)
	assert.Len(t, f.dead.all, 1)

	f.pub.err = nil
	for id := range f.dead.all {
		require.Equal(t, http.StatusOK, f.do(http.MethodPost, "/api/ops/dead-letters/"+id+"/replay", nil, nil).Code)
	}
	assert.Len(t, f.pub.published, 2)
}

func TestInfiniteRetriesNeverDeadLetter(t *testing.T) {
	f := newFixture(t)
	f.seedTestdataOrder(t)
	f.store.err = order.ErrUnavailable
	docs := envelopeDocuments(t, readTestdata(t, "applytax_first_attempt.json"))
	env := []byte(`{"Data":{"documents":` + string(docs) + `},"Metadata":{"RetryContext":{"RetryCount":99,"MaxRetryCount":-1}}}`)
	assert.Equal(t, http.StatusInternalServerError, f.invoke("ApplyTax", env).Code)
	assert.Empty(t, f.dead.all)
}

func TestDecodeDocumentsUnwrapsEveryEncoding(t *testing.T) {
	for _, raw := range []string{`[{"id":"a"}]`, `"[{\"id\":\"a\"}]"`, `"\"[{\\\"id\\\":\\\"a\\\"}]\""`} {
		docs, err := decodeDocuments(json.RawMessage(raw))
		require.NoError(t, err, raw)
		require.Len(t, docs, 1)
		assert.JSONEq(t, `{"id":"a"}`, string(docs[0]))
	}
	_, err := decodeDocuments(json.RawMessage(`"not json"`))
	assert.ErrorIs(t, err, order.ErrPermanent)
}

// TestDecodedDocumentsSurviveTheNextInvocation: an invocation's body and
// unwrappings are read into recycled buffers; the documents it returns must
// not change when the next invocation reuses them.
func TestDecodedDocumentsSurviveTheNextInvocation(t *testing.T) {
	decode := func(env []byte) []json.RawMessage {
		r := httptest.NewRequest(http.MethodPost, "/ApplyTax", bytes.NewReader(env))
		_, docs, err := decodeInvocation(r, documentsBinding)
		require.NoError(t, err)
		return docs
	}
	first := decode(envelopeFor(t, nil, map[string]string{"id": "a", "orderId": "first"}, map[string]string{"id": "b"}))
	want := []string{string(first[0]), string(first[1])}
	for range 8 { // the pool may hand back any of its buffers, which hold the first batch's bytes unless overwritten
		decode(envelopeFor(t, nil, map[string]string{"id": "x"}, map[string]string{"id": "y"}))
	}
	assert.Equal(t, want, []string{string(first[0]), string(first[1])})
	assert.JSONEq(t, `{"id":"a","orderId":"first"}`, want[0])

	// an array sent as it is, not as a string: the documents point into the
	// envelope's copy of it, not into the recycled body
	plain := decode([]byte(`{"Data":{"documents":[{"id":"a","orderId":"first"}]},"Metadata":{}}`))
	for range 8 {
		decode([]byte(`{"Data":{"documents":[{"id":"x"}]},"Metadata":{}}`))
	}
	assert.JSONEq(t, `{"id":"a","orderId":"first"}`, string(plain[0]))
}
