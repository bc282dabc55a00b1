package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

func errUnavailable() error { return order.ErrUnavailable }

func TestGetOrderShowsStateAndHistory(t *testing.T) {
	f := newFixture(t)
	id := f.placeOrder(t, "tok_visa", 1)
	f.runSaga(t, id)
	w := f.do(http.MethodGet, "/api/orders/"+id, nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	var v orderView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, order.StatusFulfilled, v.Status)
	var types []order.EventType
	for i, e := range v.Events {
		assert.Equal(t, i+1, e.Seq)
		types = append(types, e.Type)
	}
	assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured, order.OrderFulfilled}, types)
	assert.Equal(t, int64(8900), v.Subtotal)
	assert.Equal(t, int64(356), v.Tax, "4% New York state tax on 89.00")
	assert.Equal(t, v.Subtotal+v.Tax, v.Total)
	assert.Equal(t, int64(356), v.Lines[0].Tax)
	assert.Equal(t, int64(9256), v.Lines[0].LineTotal)
}

func TestGetOrderNotFound(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"ord_ffffffffffffffffffffffff", "not-an-id", "..%2f"} {
		w := f.do(http.MethodGet, "/api/orders/"+id, nil, nil)
		assert.Equal(t, http.StatusNotFound, w.Code, id)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	}
}

func TestListProducts(t *testing.T) {
	f := newFixture(t)
	w := f.do(http.MethodGet, "/api/products", nil, nil)
	require.Equal(t, http.StatusOK, w.Code)
	var body struct {
		Products []struct {
			SKU         string `json:"sku"`
			Price       int64  `json:"price"`
			Currency    string `json:"currency"`
			TaxCategory string `json:"taxCategory"`
			Available   int    `json:"available"`
		} `json:"products"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.NotEmpty(t, body.Products)
	assert.Equal(t, "TEE-BLK-M", body.Products[0].SKU)
	assert.Equal(t, int64(2400), body.Products[0].Price)
	assert.Equal(t, 500, body.Products[0].Available)
}

func TestHostHealthProbe(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/", nil, nil).Code)
}

// deadLetterCharge places an order, taxes it and fails its charge with err
// on the last retry, so the TaxApplied event is dead-lettered.
func (f *fixture) deadLetterCharge(t *testing.T, err error) string {
	t.Helper()
	id := f.placeOrder(t, "tok_visa", 1)
	placed, gerr := f.store.Event(context.Background(), id, order.OrderPlaced)
	require.NoError(t, gerr)
	require.Equal(t, http.StatusOK, f.invoke("ApplyTax", envelopeFor(t, nil, placed)).Code)
	taxed, gerr := f.store.Event(context.Background(), id, order.TaxApplied)
	require.NoError(t, gerr)
	f.gw.err = err
	require.Equal(t, http.StatusOK, f.invoke("ProcessPayment", envelopeFor(t, &RetryContext{RetryCount: 5, MaxRetryCount: 5}, taxed)).Code)
	require.Len(t, f.dead.all, 1)
	return deadletter.ID("ProcessPayment", taxed.ID)
}

func TestReplayWhileTheGatewayIsDownIs503(t *testing.T) {
	f := newFixture(t)
	dl := f.deadLetterCharge(t, fmt.Errorf("charge: %w", payment.ErrUnavailable))
	assert.True(t, f.dead.all[dl].Transient)

	w := f.do(http.MethodPost, "/api/ops/dead-letters/"+dl+"/replay", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Contains(t, f.dead.all, dl, "a failed replay keeps the dead letter")

	f.gw.err = nil
	w = f.do(http.MethodPost, "/api/ops/dead-letters/"+dl+"/replay", nil, nil)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, f.dead.all)
}

func TestReplayFailingWithAnUnknownErrorIs500WithoutItsText(t *testing.T) {
	f := newFixture(t)
	dl := f.deadLetterCharge(t, errors.New("tls: secret sdk words"))
	assert.False(t, f.dead.all[dl].Transient, "an unclassified error is not retried")

	w := f.do(http.MethodPost, "/api/ops/dead-letters/"+dl+"/replay", nil, nil)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "secret")
	assert.Contains(t, f.dead.all, dl)
}

func TestNewRejectsEveryMissingDependency(t *testing.T) {
	f := newFixture(t)
	full := f.srv.Deps
	drops := map[string]func(*Deps){
		"Orders": func(d *Deps) { d.Orders = nil }, "Placements": func(d *Deps) { d.Placements = nil },
		"History": func(d *Deps) { d.History = nil }, "Catalog": func(d *Deps) { d.Catalog = nil },
		"Tax": func(d *Deps) { d.Tax = nil }, "Gateway": func(d *Deps) { d.Gateway = nil },
		"Idempotency": func(d *Deps) { d.Idempotency = nil },
		"Stock":       func(d *Deps) { d.Stock = nil }, "Publisher": func(d *Deps) { d.Publisher = nil },
		"DeadLetters": func(d *Deps) { d.DeadLetters = nil },
	}
	for name, drop := range drops {
		t.Run(name, func(t *testing.T) {
			d := full
			drop(&d)
			_, err := New(d)
			assert.Error(t, err)
		})
	}
	_, err := New(full)
	assert.NoError(t, err)
}

// TestIdsInPathsAreCheckedFirst: an id that can't be an order or a dead
// letter is a 404 problem before any Cosmos DB call; the stores here fail
// every call, so reaching them would be a 500.
func TestIdsInPathsAreCheckedFirst(t *testing.T) {
	f := newFixture(t)
	f.store.err = errors.New("the store must not be called")
	f.dead.err = errors.New("the store must not be called")
	paths := []string{
		"/api/orders/%2e%2e", "/api/orders/..%2f", "/api/orders/%00", "/api/orders/%F0%9F%98%80", "/api/orders/ord_%00",
		"/api/orders/" + strings.Repeat("a", 5000), "/api/orders/ord_0123456789abcdef01234567",
		"/api/ops/dead-letters/%2e%2e/replay", "/api/ops/dead-letters/%00/replay", "/api/ops/dead-letters/%F0%9F%98%80/replay",
		"/api/ops/dead-letters/ApplyTax~a%2fb/replay", "/api/ops/dead-letters/ApplyTax~..%5C/replay",
		"/api/ops/dead-letters/Nope~ord_1:OrderPlaced/replay", "/api/ops/dead-letters/" + strings.Repeat("A", 300) + "/replay",
	}
	for _, path := range paths {
		t.Run(path[:min(len(path), 60)], func(t *testing.T) {
			method := http.MethodGet
			if strings.HasSuffix(path, "/replay") {
				method = http.MethodPost
			}
			w := f.do(method, path, nil, nil)
			assert.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Less(t, len(p.Detail), 120, "the detail quotes at most a prefix of the id")
		})
	}
}
