package cosmosstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/inventory"
	"github.com/ordersflow/orderpipeline/shared/order"
)

const (
	kindStock       = "stock"
	kindReservation = "reservation"
	// casAttempts bounds optimistic-concurrency retries on a hot SKU.
	casAttempts = 20
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

// Reserve creates the reservation and lowers the stock in one batch, with
// If-Match on the stock document. An existing reservation means done.
func (a Stock) Reserve(ctx context.Context, orderID, sku string, qty int) error {
	res := reservationDoc{ID: reservationID(orderID), SKU: sku, Kind: kindReservation, OrderID: orderID, Quantity: qty}
	return a.s.casStock(ctx, sku, func(st *stockDoc, b *azcosmos.TransactionalBatch) (bool, error) {
		if st.Available < qty {
			if _, err := a.reservation(ctx, orderID, sku); err == nil {
				return true, nil
			}
			return false, fmt.Errorf("%s has %d, order %s needs %d: %w", sku, st.Available, orderID, qty, inventory.ErrInsufficientStock)
		}
		st.Available -= qty
		return false, addCreate(b, res)
	}, true)
}

// Release deletes the reservation and returns its stock in one batch.
func (a Stock) Release(ctx context.Context, orderID, sku string) error {
	res, err := a.reservation(ctx, orderID, sku)
	if errors.Is(err, order.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.s.casStock(ctx, sku, func(st *stockDoc, b *azcosmos.TransactionalBatch) (bool, error) {
		st.Available += res.Quantity
		b.DeleteItem(res.ID, nil)
		return false, nil
	}, false)
}

func (a Stock) reservation(ctx context.Context, orderID, sku string) (reservationDoc, error) {
	var r reservationDoc
	_, err := a.s.read(ctx, a.s.inventory, "read_reservation", sku, reservationID(orderID), &r)
	return r, err
}

// casStock reads a SKU's stock, lets change edit it and add operations to a
// batch, and commits the batch with If-Match on the stock, retrying when
// another order got there first. change returns done=true to stop early.
// A conflict on the batch's first operation means the reservation exists
// (when reserving) or is gone (when releasing): either way, done.
func (s *Store) casStock(ctx context.Context, sku string,
	change func(*stockDoc, *azcosmos.TransactionalBatch) (bool, error), reserving bool) error {
	for attempt := 0; attempt < casAttempts; attempt++ {
		var st stockDoc
		etag, err := s.read(ctx, s.inventory, "read_stock", sku, sku, &st)
		if err != nil {
			return fmt.Errorf("read stock of %s: %w", sku, err)
		}
		b := s.inventory.NewTransactionalBatch(pk(sku))
		done, err := change(&st, &b)
		if done || err != nil {
			return err
		}
		raw, _ := json.Marshal(st)
		tag := azcore.ETag(etag)
		b.ReplaceItem(sku, raw, &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &tag})
		retry, err := s.commitStock(ctx, b, reserving)
		if !retry {
			return err
		}
	}
	return fmt.Errorf("stock of %s kept changing: %w", sku, order.ErrUnavailable)
}

// commitStock runs a stock batch and says whether to retry it.
func (s *Store) commitStock(ctx context.Context, b azcosmos.TransactionalBatch, reserving bool) (retry bool, err error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.inventory.ExecuteTransactionalBatch(ctx, b, nil)
	s.observe(ctx, "stock_batch", resp.RequestCharge)
	if err != nil {
		return false, translate(err)
	}
	if resp.Success {
		return false, nil
	}
	first := resp.OperationResults[0].StatusCode
	switch {
	case reserving && first == 409, !reserving && first == 404:
		return false, nil // the reservation already exists / is already gone
	case resp.OperationResults[len(resp.OperationResults)-1].StatusCode == 412:
		return true, nil
	}
	return false, batchError(resp)
}
