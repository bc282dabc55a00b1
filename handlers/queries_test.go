package handlers

import (
	"encoding/json"
	"net/http"
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
