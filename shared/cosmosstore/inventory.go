package cosmosstore

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/inventory"
)

const (
	kindStock       = "stock"
	kindReservation = "reservation"
)

// stockDoc is the available stock of a SKU (id = sku).
type stockDoc struct {
	ID        string `json:"id"`
	SKU       string `json:"sku"`
	Kind      string `json:"kind"`
	Available int    `json:"available"`
}

// reservationDoc holds stock of one SKU for one order, in the SKU's partition.
type reservationDoc struct {
	ID       string `json:"id"`
	SKU      string `json:"sku"`
	Kind     string `json:"kind"`
	OrderID  string `json:"orderId"`
	Quantity int    `json:"quantity"`
}

func reservationID(orderID string) string { return "res~" + orderID }

// Inventory returns the stock adapter.
func (s *Store) Inventory() Stock { return Stock{s} }

// Stock reserves and releases stock in the inventory container.
type Stock struct{ s *Store }

// Reserve holds qty of sku for the order in one round trip and without a
// read: one batch creates the reservation and takes the stock with a patch
// `incr available -qty` under the filter `available >= qty`, which the server
// checks atomically. Orders that share a hot SKU never retry against each
// other: reservations of one SKU that arrive while another batch of that SKU
// is in flight go out together in the next one (see reserveQueue). A 409 on
// the create means the order already holds the reservation; a 412 on the
// patch means the stock is short.
func (a Stock) Reserve(ctx context.Context, orderID, sku string, qty int) error {
	return a.s.reservations.reserve(ctx, reservation{orderID: orderID, sku: sku, qty: qty}, a.s.reserveAll)
}

// reserveOne reserves one line in a batch of its own.
func (s *Store) reserveOne(ctx context.Context, r reservation) error {
	b := s.inventory.NewTransactionalBatch(pk(r.sku))
	if err := addCreate(&b, r.doc()); err != nil {
		return err
	}
	b.PatchItem(r.sku, take(r.qty), nil)
	failed, err := s.commitStock(ctx, "reserve_stock", b)
	switch {
	case err != nil:
		return fmt.Errorf("reserve %d of %s for %s: %w", r.qty, r.sku, r.orderID, err)
	case failed == nil:
		return nil
	case failed.index == 0 && failed.status == http.StatusConflict:
		return nil // this order already holds the reservation
	case failed.index == 1 && failed.status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s has less than %d for order %s: %w", r.sku, r.qty, r.orderID, inventory.ErrInsufficientStock)
	}
	return fmt.Errorf("reserve %d of %s for %s: %w", r.qty, r.sku, r.orderID, failed.err)
}

// reserveAll reserves lines of one SKU for different orders. It tries one
// batch for all of them: every reservation is created and the stock takes
// their sum under `available >= sum`, or nothing happens. If that batch
// does not commit (an order already holds its reservation, the sum is more
// than is left, the call failed), each line is reserved in a batch of its
// own, concurrently, and gets the answer it would have had alone: never
// more requests than without the shared batch, plus that one. After a call
// that failed with an unknown outcome the shared batch may have committed;
// then each line's own create finds its reservation (409) and is done.
func (s *Store) reserveAll(ctx context.Context, rs []reservation) []error {
	errs := make([]error, len(rs))
	if len(rs) == 1 {
		errs[0] = s.reserveOne(ctx, rs[0])
		return errs
	}
	if failed, err := s.commitStock(ctx, "reserve_stock", combined(s.inventory, rs)); err == nil && failed == nil {
		return errs
	}
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { errs[i] = s.reserveOne(ctx, r) })
	}
	wg.Wait()
	return errs
}

// combined is the batch that reserves every line of rs (one SKU) at once.
func combined(c *azcosmos.ContainerClient, rs []reservation) azcosmos.TransactionalBatch {
	b := c.NewTransactionalBatch(pk(rs[0].sku))
	sum := 0
	for _, r := range rs {
		_ = addCreate(&b, r.doc()) // a reservationDoc always encodes
		sum += r.qty
	}
	b.PatchItem(rs[0].sku, take(sum), nil)
	return b
}

// take is the patch that takes qty from the stock if that much is left.
func take(qty int) azcosmos.PatchOperations {
	p := azcosmos.PatchOperations{}
	p.SetCondition(fmt.Sprintf("FROM c WHERE c.available >= %d", qty))
	p.AppendIncrement("/available", int64(-qty))
	return p
}

// Release gives back qty of sku held for the order, in one batch: delete the
// reservation and patch `incr available +qty`. A 404 on the delete means
// there is nothing to give back (never reserved, or released already).
func (a Stock) Release(ctx context.Context, orderID, sku string, qty int) error {
	b := a.s.inventory.NewTransactionalBatch(pk(sku))
	b.DeleteItem(reservationID(orderID), nil)
	give := azcosmos.PatchOperations{}
	give.AppendIncrement("/available", int64(qty))
	b.PatchItem(sku, give, nil)
	failed, err := a.s.commitStock(ctx, "release_stock", b)
	switch {
	case err != nil:
		return fmt.Errorf("release %s of %s: %w", sku, orderID, err)
	case failed == nil, failed.index == 0 && failed.status == http.StatusNotFound:
		return nil
	}
	return fmt.Errorf("release %s of %s: %w", sku, orderID, failed.err)
}

// failedOp is the operation that stopped a batch.
type failedOp struct {
	index  int
	status int
	err    error
}

// commitStock runs a stock batch. A batch that did not commit comes back as
// the operation that stopped it (the others answer 424), for the caller to
// interpret; err is for a call that failed as a whole.
func (s *Store) commitStock(ctx context.Context, op string, b azcosmos.TransactionalBatch) (*failedOp, error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.inventory.ExecuteTransactionalBatch(ctx, b, nil)
	s.charged(ctx, op, resp.RequestCharge, err)
	if err != nil {
		return nil, translate(err)
	}
	if resp.Success {
		return nil, nil
	}
	for i, r := range resp.OperationResults {
		if r.StatusCode != http.StatusFailedDependency {
			return &failedOp{index: i, status: int(r.StatusCode), err: fromStatus(int(r.StatusCode))}, nil
		}
	}
	return nil, batchError(resp)
}
