package inventory

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// memStock is an in-memory Stock keyed by SKU.
type memStock struct {
	available map[string]int
	held      map[string]int // sku → quantity held for the one order under test
	err       error
}

func (m *memStock) Reserve(_ context.Context, _, sku string, qty int) error {
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
