package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
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
