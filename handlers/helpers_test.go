package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

const testOrderID = "ord_0123456789abcdef01234567"

func (f *fixture) do(method, path string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

func jsonHeaders(extra ...string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func (f *fixture) invoke(fn string, envelope []byte) *httptest.ResponseRecorder {
	return f.do(http.MethodPost, "/"+fn, envelope, map[string]string{
		"Content-Type": "application/json", invocationHeader: "inv-1"})
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// seedTestdataOrder stores the order that the testdata envelopes carry,
// as the checkout would have written it.
func (f *fixture) seedTestdataOrder(t *testing.T) {
	t.Helper()
	docs, err := decodeDocuments(envelopeDocuments(t, readTestdata(t, "applytax_first_attempt.json")))
	require.NoError(t, err)
	var o order.Order
	var ev order.Event
	require.NoError(t, json.Unmarshal(docs[0], &o))
	require.NoError(t, json.Unmarshal(docs[1], &ev))
	f.store.commit(o, ev)
}

func envelopeDocuments(t testing.TB, envelope []byte) json.RawMessage {
	t.Helper()
	var inv invokeRequest
	require.NoError(t, json.Unmarshal(envelope, &inv))
	return inv.Data["documents"]
}

// envelopeFor builds the host's payload for events, double-encoded as the
// real host sends it.
func envelopeFor(t *testing.T, retry *RetryContext, docs ...any) []byte {
	t.Helper()
	arr, err := json.Marshal(docs)
	require.NoError(t, err)
	inner, err := json.Marshal(string(arr))
	require.NoError(t, err)
	env := map[string]any{"Data": map[string]any{"documents": string(inner)}, "Metadata": map[string]any{}}
	if retry != nil {
		env["Metadata"] = map[string]any{"RetryContext": retry}
	}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

// placeOrder checks out through the API and returns the new order id.
func (f *fixture) placeOrder(t *testing.T, token string, qty int) string {
	t.Helper()
	body := map[string]any{"customerId": "c-1", "currency": "USD",
		"lines":   []map[string]any{{"sku": "LAMP-LTD", "quantity": qty}},
		"shipTo":  map[string]string{"country": "US", "region": "NY", "postalCode": "10001"},
		"payment": map[string]string{"token": token}}
	b, _ := json.Marshal(body)
	w := f.do(http.MethodPost, "/api/orders", b, jsonHeaders())
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var v orderView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	return v.ID
}

// runSaga feeds each new event of the order to every trigger function
// until nothing changes, as the change feed would.
func (f *fixture) runSaga(t *testing.T, id string) {
	t.Helper()
	for seen := 0; ; {
		evs, _ := f.store.Events(context.Background(), id)
		if seen == len(evs) {
			return
		}
		for _, ev := range evs[seen:] {
			env := envelopeFor(t, &RetryContext{MaxRetryCount: 5}, ev)
			for _, fn := range []string{"ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"} {
				w := f.invoke(fn, env)
				require.Equal(t, http.StatusOK, w.Code, fn+": "+w.Body.String())
			}
		}
		seen = len(evs)
	}
}
