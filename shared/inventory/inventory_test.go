package inventory

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// memStock is an in-memory Stock keyed by SKU.
type memStock struct {
	mu        sync.Mutex
	available map[string]int
	held      map[string]int // sku → quantity held for the one order under test
	err       error
}

func (m *memStock) Reserve(_ context.Context, _, sku string, qty int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if _, ok := m.held[sku]; ok {
		return nil
	}
	if m.available[sku] < qty {
		return ErrInsufficientStock
	}
	m.available[sku] -= qty
	m.held[sku] = qty
	return nil
}

func (m *memStock) Release(_ context.Context, _, sku string, _ int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q, ok := m.held[sku]; ok {
		m.available[sku] += q
		delete(m.held, sku)
	}
	return nil
}

func lines() []order.Reservation {
	return []order.Reservation{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 5}}
}

func TestReserveAllHoldsEveryLine(t *testing.T) {
	s := &memStock{available: map[string]int{"A": 2, "B": 1, "C": 9}, held: map[string]int{}}
	short, err := ReserveAll(context.Background(), s, "o", lines())
	require.NoError(t, err)
	assert.Empty(t, short)
	assert.Equal(t, map[string]int{"A": 0, "B": 0, "C": 4}, s.available)
}

func TestReserveAllReleasesWhenALineIsShort(t *testing.T) {
	s := &memStock{available: map[string]int{"A": 2, "B": 1, "C": 4}, held: map[string]int{}}
	short, err := ReserveAll(context.Background(), s, "o", lines())
	require.NoError(t, err)
	assert.Equal(t, "C", short)
	assert.Equal(t, map[string]int{"A": 2, "B": 1, "C": 4}, s.available, "what was reserved is released")
	assert.Empty(t, s.held)
}

func TestReserveAllIsSafeToRepeat(t *testing.T) {
	s := &memStock{available: map[string]int{"A": 2, "B": 1, "C": 9}, held: map[string]int{}}
	for i := 0; i < 2; i++ {
		_, err := ReserveAll(context.Background(), s, "o", lines())
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{"A": 0, "B": 0, "C": 4}, s.available)
}

func TestReserveAllReturnsOtherErrors(t *testing.T) {
	s := &memStock{err: errors.New("cosmos down")}
	_, err := ReserveAll(context.Background(), s, "o", lines())
	assert.ErrorContains(t, err, "cosmos down")
}

// barrier is a Holder whose Reserve returns only once every line of the
// order has called it: ReserveAll finishes only if it asks for the lines
// at once. A Reserve that waits longer than 10 s fails the test (a
// guard against hanging, not a measure of speed).
type barrier struct {
	memStock
	arrived chan string
	all     chan struct{}
}

func newBarrier(available map[string]int, lines int) *barrier {
	b := &barrier{memStock: memStock{available: available, held: map[string]int{}},
		arrived: make(chan string, lines), all: make(chan struct{})}
	go func() {
		for range lines {
			<-b.arrived
		}
		close(b.all)
	}()
	return b
}

func (b *barrier) Reserve(ctx context.Context, orderID, sku string, qty int) error {
	b.arrived <- sku
	select {
	case <-b.all:
	case <-time.After(10 * time.Second):
		return errors.New("the other lines of the order never arrived: reserved one after another")
	}
	return b.memStock.Reserve(ctx, orderID, sku, qty)
}

func TestReserveAllAsksForEveryLineAtOnce(t *testing.T) {
	s := newBarrier(map[string]int{"A": 2, "B": 1, "C": 9}, len(lines()))
	short, err := ReserveAll(context.Background(), s, "o", lines())
	require.NoError(t, err)
	assert.Empty(t, short)
	assert.Equal(t, map[string]int{"A": 0, "B": 0, "C": 4}, s.available)
}

func TestReserveAllReleasesEveryHeldLineWhenOneIsShort(t *testing.T) {
	// B is short; A, before it, and C, after it, were reserved at the same
	// time and are both released.
	s := newBarrier(map[string]int{"A": 2, "B": 0, "C": 9}, len(lines()))
	short, err := ReserveAll(context.Background(), s, "o", lines())
	require.NoError(t, err)
	assert.Equal(t, "B", short)
	assert.Equal(t, map[string]int{"A": 2, "B": 0, "C": 9}, s.available)
	assert.Empty(t, s.held)
}

func TestReserveAllNamesTheFirstShortLine(t *testing.T) {
	s := &memStock{available: map[string]int{"A": 2, "B": 0, "C": 0}, held: map[string]int{}}
	short, err := ReserveAll(context.Background(), s, "o", lines())
	require.NoError(t, err)
	assert.Equal(t, "B", short, "B and C are short; B comes first in the order")
	assert.Equal(t, map[string]int{"A": 2, "B": 0, "C": 0}, s.available)
}
