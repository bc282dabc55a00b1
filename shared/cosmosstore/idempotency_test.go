package cosmosstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// TestIdempotencyRecords: the record create is the one write that decides
// between concurrent requests with one key, so exactly one of many
// concurrent creates succeeds and the rest see order.ErrConflict.
func TestIdempotencyRecords(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	req := order.PlaceRequest{CustomerID: "c-1", Currency: "USD", Lines: []order.RequestLine{{SKU: "LAMP-LTD", Quantity: 1}},
		ShipTo: order.Address{Country: "US", Region: "NY", PostalCode: "1"}, Payment: order.PaymentMethod{Token: "tok_visa"}}
	products, err := s.Products(ctx, []string{"LAMP-LTD"})
	require.NoError(t, err)
	o, placed, err := order.Place(req, products, order.Placement{ID: order.NewID(), CorrelationID: "corr", IdempotencyKey: "k", At: time.Now()})
	require.NoError(t, err)
	rec := order.NewIdempotencyRecord("k", req, o, placed)

	_, err = s.IdempotencyRecord(ctx, rec.ID)
	require.ErrorIs(t, err, order.ErrNotFound)

	var wins, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateIdempotencyRecord(ctx, rec)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case assert.ErrorIs(t, err, order.ErrConflict):
				conflicts++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, 7, conflicts)

	got, err := s.IdempotencyRecord(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, o.ID, got.Order.ID)
	assert.True(t, got.Matches(req))
	assert.JSONEq(t, string(placed.Data), string(got.Placed.Data))
	require.NoError(t, s.CreateOrder(ctx, got.Order, got.Placed), "the stored order and event can be written as they are")
	stored, err := s.Order(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.Total, stored.Total)

	_, err = s.IdempotencyRecord(ctx, order.IdempotencyRecordID("c-2", "k"))
	assert.ErrorIs(t, err, order.ErrNotFound, "another customer's key has no record")
}
