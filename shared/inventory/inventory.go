// Package inventory holds stock for orders: every line is reserved, or
// none is.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// ReserveAll reserves every line of an order, the lines at once: an order
// of three SKUs waits for one round trip, not three. If a line can't be
// reserved it releases the lines it holds and returns the first SKU, in
// line order, that was short (with a nil error). Any other error is
// returned as is; because both operations are idempotent, the caller can
// simply run ReserveAll again.
func ReserveAll(ctx context.Context, s Holder, orderID string, lines []order.Reservation) (short string, err error) {
	errs := make([]error, len(lines))
	if len(lines) == 1 {
		errs[0] = s.Reserve(ctx, orderID, lines[0].SKU, lines[0].Quantity)
	} else {
		var wg sync.WaitGroup
		for i, l := range lines {
			wg.Go(func() { errs[i] = s.Reserve(ctx, orderID, l.SKU, l.Quantity) })
		}
		wg.Wait()
	}
	var held []order.Reservation
	for i, l := range lines {
		switch err := errs[i]; {
		case err == nil:
			held = append(held, l)
		case errors.Is(err, ErrInsufficientStock):
			if short == "" {
				short = l.SKU
			}
		default:
			return "", fmt.Errorf("reserve %d of %s: %w", l.Quantity, l.SKU, err)
		}
	}
	if short == "" {
		return "", nil
	}
	return short, releaseAll(ctx, s, orderID, held)
}

func releaseAll(ctx context.Context, s Holder, orderID string, lines []order.Reservation) error {
	for _, l := range lines {
		if err := s.Release(ctx, orderID, l.SKU, l.Quantity); err != nil {
			return fmt.Errorf("release %s: %w", l.SKU, err)
		}
	}
	return nil
}
