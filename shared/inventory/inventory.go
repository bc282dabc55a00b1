// Package inventory holds stock for orders: every line is reserved, or
// none is.
package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// ErrInsufficientStock is order.ErrInsufficientStock, named here for the
// stock adapters that report it.
var ErrInsufficientStock = order.ErrInsufficientStock

// Holder is what ReserveAll needs: it reserves and releases stock for one
// order line. Both are idempotent per (order, SKU): reserving twice holds
// the stock once, releasing what isn't held does nothing.
type Holder interface {
	Reserve(ctx context.Context, orderID, sku string, quantity int) error
	Release(ctx context.Context, orderID, sku string, quantity int) error
}

// ReserveAll reserves every line of an order. If a line can't be reserved it
// releases the reservations already made and returns the SKU that was short
// (with a nil error). Any other error is returned as is; because both
// operations are idempotent, the caller can simply run ReserveAll again.
func ReserveAll(ctx context.Context, s Holder, orderID string, lines []order.Reservation) (short string, err error) {
	for i, l := range lines {
		err := s.Reserve(ctx, orderID, l.SKU, l.Quantity)
		if errors.Is(err, ErrInsufficientStock) {
			return l.SKU, releaseAll(ctx, s, orderID, lines[:i])
		}
		if err != nil {
			return "", fmt.Errorf("reserve %d of %s: %w", l.Quantity, l.SKU, err)
		}
	}
	return "", nil
}

func releaseAll(ctx context.Context, s Holder, orderID string, lines []order.Reservation) error {
	for _, l := range lines {
		if err := s.Release(ctx, orderID, l.SKU, l.Quantity); err != nil {
			return fmt.Errorf("release %s: %w", l.SKU, err)
		}
	}
	return nil
}
