package cosmosstore

import (
	"context"
	"fmt"
	"net/http"

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
// other. A 409 on the create means the order already holds the reservation;
// a 412 on the patch means the stock is short.
func (a Stock) Reserve(ctx context.Context, orderID, sku string, qty int) error {
	res := reservationDoc{ID: reservationID(orderID), SKU: sku, Kind: kindReservation, OrderID: orderID, Quantity: qty}
	b := a.s.inventory.NewTransactionalBatch(pk(sku))
	if err := addCreate(&b, res); err != nil {
		return err
	}
	take := azcosmos.PatchOperations{}
	take.SetCondition(fmt.Sprintf("FROM c WHERE c.available >= %d", qty))
	take.AppendIncrement("/available", int64(-qty))
	b.PatchItem(sku, take, nil)
	failed, err := a.s.commitStock(ctx, "reserve_stock", b)
	switch {
	case err != nil:
		return fmt.Errorf("reserve %d of %s for %s: %w", qty, sku, orderID, err)
	case failed == nil:
		return nil
	case failed.index == 0 && failed.status == http.StatusConflict:
		return nil // this order already holds the reservation
	case failed.index == 1 && failed.status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s has less than %d for order %s: %w", sku, qty, orderID, inventory.ErrInsufficientStock)
	}
	return fmt.Errorf("reserve %d of %s for %s: %w", qty, sku, orderID, failed.err)
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
	s.observe(ctx, op, resp.RequestCharge)
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
