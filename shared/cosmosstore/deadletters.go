package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// PutDeadLetter records (or refreshes) a dead letter.
func (s *Store) PutDeadLetter(ctx context.Context, d deadletter.DeadLetter) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.deadLetters.UpsertItem(ctx, pk(d.ID), raw, nil)
	s.charged(ctx, "upsert_dead_letter", resp.RequestCharge, err)
	if err != nil {
		return fmt.Errorf("record dead letter %s: %w", d.ID, translate(err))
	}
	return nil
}

// DeadLetter reads one dead letter.
func (s *Store) DeadLetter(ctx context.Context, id string) (deadletter.DeadLetter, error) {
	var d deadletter.DeadLetter
	if _, err := s.read(ctx, s.deadLetters, "read_dead_letter", id, id, &d); err != nil {
		return deadletter.DeadLetter{}, fmt.Errorf("read dead letter %s: %w", id, err)
	}
	return d, nil
}

// DeadLetters lists every dead letter, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]deadletter.DeadLetter, error) {
	out := []deadletter.DeadLetter{}
	err := s.query(ctx, s.deadLetters, "query_dead_letters", azcosmos.NewPartitionKey(),
		"SELECT * FROM c ORDER BY c.at", nil, func(raw []byte) error {
			var d deadletter.DeadLetter
			if err := json.Unmarshal(raw, &d); err != nil {
				return fmt.Errorf("decode dead letter: %v: %w", err, order.ErrPermanent)
			}
			out = append(out, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// DeleteDeadLetter removes a dead letter once it has been replayed.
func (s *Store) DeleteDeadLetter(ctx context.Context, id string) error {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := s.deadLetters.DeleteItem(ctx, pk(id), id, nil)
	s.charged(ctx, "delete_dead_letter", resp.RequestCharge, err)
	if err != nil {
		return fmt.Errorf("delete dead letter %s: %w", id, translate(err))
	}
	return nil
}
