package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Stock reserves and releases stock for order lines.
type Stock interface {
	Reserve(ctx context.Context, orderID, sku string, quantity int) error
	Release(ctx context.Context, orderID, sku string, quantity int) error
}

// StockFactory returns the stock store under test for one subtest, holding
// initial (SKU → available), and a function that reads what a SKU has
// available.
type StockFactory func(t *testing.T, initial map[string]int) (Stock, func(t *testing.T, sku string) int)

// TestStock runs the stock contract.
func TestStock(t *testing.T, newStock StockFactory) {
	cases := []struct {
		name string
		run  func(t *testing.T, newStock StockFactory)
	}{
		{"a reservation lowers the stock", reservationLowers},
		{"reserving twice holds once, even when nothing is left", reservingTwiceHoldsOnce},
		{"a line larger than the stock reserves nothing", tooLargeReservesNothing},
		{"a release returns the stock, once", releaseReturnsOnce},
		{"reservations are per order", reservationsArePerOrder},
		{"an unknown SKU is not found", unknownSKUNotFound},
		{"concurrent reservations never oversell", concurrentNeverOversell},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStock) })
	}
}

func reservationLowers(t *testing.T, newStock StockFactory) {
	sku := unique("SKU-")
	s, available := newStock(t, map[string]int{sku: 3})
	require.NoError(t, s.Reserve(context.Background(), unique("ord_"), sku, 2))
	assert.Equal(t, 1, available(t, sku))
}

func reservingTwiceHoldsOnce(t *testing.T, newStock StockFactory) {
	sku, id := unique("SKU-"), unique("ord_")
	s, available := newStock(t, map[string]int{sku: 2})
	require.NoError(t, s.Reserve(context.Background(), id, sku, 2))
	require.NoError(t, s.Reserve(context.Background(), id, sku, 2), "the reservation exists: done")
	assert.Equal(t, 0, available(t, sku))
}

func tooLargeReservesNothing(t *testing.T, newStock StockFactory) {
	sku := unique("SKU-")
	s, available := newStock(t, map[string]int{sku: 3})
	err := s.Reserve(context.Background(), unique("ord_"), sku, 4)
	assert.ErrorIs(t, err, order.ErrInsufficientStock)
	assert.Equal(t, 3, available(t, sku))
}

func releaseReturnsOnce(t *testing.T, newStock StockFactory) {
	ctx := context.Background()
	sku, id := unique("SKU-"), unique("ord_")
	s, available := newStock(t, map[string]int{sku: 3})
	require.NoError(t, s.Release(ctx, id, sku, 2), "releasing what isn't held does nothing")
	assert.Equal(t, 3, available(t, sku))
	require.NoError(t, s.Reserve(ctx, id, sku, 2))
	require.NoError(t, s.Release(ctx, id, sku, 2))
	require.NoError(t, s.Release(ctx, id, sku, 2), "releasing twice returns once")
	assert.Equal(t, 3, available(t, sku))
}

func reservationsArePerOrder(t *testing.T, newStock StockFactory) {
	ctx := context.Background()
	sku, a, b := unique("SKU-"), unique("ord_a_"), unique("ord_b_")
	s, available := newStock(t, map[string]int{sku: 3})
	require.NoError(t, s.Reserve(ctx, a, sku, 2))
	require.NoError(t, s.Reserve(ctx, b, sku, 1))
	assert.Equal(t, 0, available(t, sku))
	require.NoError(t, s.Release(ctx, a, sku, 2))
	assert.Equal(t, 2, available(t, sku), "only a's reservation returns")
}

func unknownSKUNotFound(t *testing.T, newStock StockFactory) {
	s, _ := newStock(t, map[string]int{unique("SKU-"): 1})
	assert.ErrorIs(t, s.Reserve(context.Background(), unique("ord_"), unique("SKU-NOPE-"), 1), order.ErrNotFound)
}

func concurrentNeverOversell(t *testing.T, newStock StockFactory) {
	sku := unique("SKU-")
	s, available := newStock(t, map[string]int{sku: 3})
	errs := make([]error, 6)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			errs[i] = s.Reserve(context.Background(), unique("ord_"), sku, 1)
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, order.ErrInsufficientStock)
		}
	}
	assert.Equal(t, 3, ok, "3 in stock, 3 reservations")
	assert.Equal(t, 0, available(t, sku))
}
