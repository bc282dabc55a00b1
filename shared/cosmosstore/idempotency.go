package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// CreateIdempotencyRecord writes the record of a customer's
// Idempotency-Key, in the idempotency container, partition /id = the
// record's id. It fails with order.ErrConflict when the record exists: the
// Cosmos DB create is what decides which of two concurrent requests with
// one key places the order.
func (s *Store) CreateIdempotencyRecord(ctx context.Context, rec order.IdempotencyRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode idempotency record: %w", err)
	}
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.idempotency.CreateItem(ctx, pk(rec.ID), raw, nil)
	s.charged(ctx, "create_idempotency_record", resp.RequestCharge, err)
	if err != nil {
		return fmt.Errorf("create idempotency record %s: %w", rec.ID, translate(err))
	}
	return nil
}

// IdempotencyRecord point-reads the record with id (1 RU).
func (s *Store) IdempotencyRecord(ctx context.Context, id string) (order.IdempotencyRecord, error) {
	var rec order.IdempotencyRecord
	if _, err := s.read(ctx, s.idempotency, "read_idempotency_record", id, id, &rec); err != nil {
		return order.IdempotencyRecord{}, fmt.Errorf("read idempotency record %s: %w", id, err)
	}
	if rec.Kind != order.KindIdempotency {
		return order.IdempotencyRecord{}, fmt.Errorf("read idempotency record %s: %w", id, order.ErrNotFound)
	}
	return rec, nil
}
