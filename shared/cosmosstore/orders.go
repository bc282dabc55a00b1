package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// CreateOrder writes a new order and its OrderPlaced event in one batch.
// It fails with order.ErrConflict when the order id exists.
func (s *Store) CreateOrder(ctx context.Context, o order.Order, placed order.Event) error {
	b := s.orders.NewTransactionalBatch(pk(o.ID))
	if err := addCreate(&b, o, placed); err != nil {
		return err
	}
	return s.execute(ctx, "create_order", b)
}

// Append writes events and the order's new state in one batch, with If-Match
// on the order's ETag. It fails with order.ErrConflict when an event exists
// already (the stage ran) or the order changed since it was read.
func (s *Store) Append(ctx context.Context, o order.Order, events ...order.Event) error {
	b := s.orders.NewTransactionalBatch(pk(o.ID))
	for _, ev := range events {
		if err := addCreate(&b, ev); err != nil {
			return err
		}
	}
	doc, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode order %s: %w", o.ID, err)
	}
	etag := azcore.ETag(o.ETag)
	b.ReplaceItem(o.ID, doc, &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &etag})
	return s.execute(ctx, "append_events", b)
}

func addCreate(b *azcosmos.TransactionalBatch, docs ...any) error {
	for _, d := range docs {
		raw, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		b.CreateItem(raw, nil)
	}
	return nil
}

func (s *Store) execute(ctx context.Context, op string, b azcosmos.TransactionalBatch) error {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.orders.ExecuteTransactionalBatch(ctx, b, nil)
	s.charged(ctx, op, resp.RequestCharge, err)
	if err != nil {
		return translate(err)
	}
	if !resp.Success {
		return batchError(resp)
	}
	return nil
}

// Order reads the current state of an order, with its ETag.
func (s *Store) Order(ctx context.Context, id string) (order.Order, error) {
	var o order.Order
	etag, err := s.read(ctx, s.orders, "read_order", id, id, &o)
	if err != nil {
		return order.Order{}, fmt.Errorf("read order %s: %w", id, err)
	}
	if o.Kind != order.KindOrder {
		return order.Order{}, fmt.Errorf("read order %s: %w", id, order.ErrNotFound)
	}
	o.ETag = etag
	return o, nil
}

// Event reads one event of an order.
func (s *Store) Event(ctx context.Context, orderID string, t order.EventType) (order.Event, error) {
	var ev order.Event
	if _, err := s.read(ctx, s.orders, "read_event", orderID, order.EventID(orderID, t), &ev); err != nil {
		return order.Event{}, fmt.Errorf("read %s of %s: %w", t, orderID, err)
	}
	return ev, nil
}

// Events returns an order's events in sequence order.
func (s *Store) Events(ctx context.Context, orderID string) ([]order.Event, error) {
	q := "SELECT * FROM c WHERE c.orderId = @id AND c.kind = @kind ORDER BY c.seq"
	params := []azcosmos.QueryParameter{{Name: "@id", Value: orderID}, {Name: "@kind", Value: order.KindEvent}}
	var events []order.Event
	err := s.query(ctx, s.orders, "query_events", pk(orderID), q, params, func(raw []byte) error {
		var ev order.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decode event: %v: %w", err, order.ErrPermanent)
		}
		events = append(events, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list events of %s: %w", orderID, err)
	}
	return events, nil
}

// read point-reads one document into v and returns its ETag.
func (s *Store) read(ctx context.Context, c *azcosmos.ContainerClient, op, pkValue, id string, v any) (string, error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := c.ReadItem(ctx, pk(pkValue), id, nil)
	s.charged(ctx, op, resp.RequestCharge, err)
	if err != nil {
		return "", translate(err)
	}
	if err := json.Unmarshal(resp.Value, v); err != nil {
		return "", fmt.Errorf("decode %s: %v: %w", id, err, order.ErrPermanent)
	}
	return string(resp.ETag), nil
}

// query runs a query to the end, handing each item to each.
func (s *Store) query(ctx context.Context, c *azcosmos.ContainerClient, op string, key azcosmos.PartitionKey,
	q string, params []azcosmos.QueryParameter, each func([]byte) error) error {
	pager := c.NewQueryItemsPager(q, key, &azcosmos.QueryOptions{QueryParameters: params})
	for pager.More() {
		pctx, cancel := s.withDeadline(ctx)
		page, err := pager.NextPage(pctx)
		cancel()
		s.charged(ctx, op, page.RequestCharge, err)
		if err != nil {
			return translate(err)
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
	}
	return nil
}
