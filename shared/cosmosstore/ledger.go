package cosmosstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/payment"
)

// Ledger returns the payment ledger kept in the payments container
// (partitioned by /id, the idempotency key).
func (s *Store) Ledger() Ledger { return Ledger{s} }

// Ledger keeps the simulated payment gateway's entries; it is a
// payment.Ledger.
type Ledger struct{ s *Store }

// Get reads the entry with the given idempotency key, with its ETag.

func (l Ledger) Get(ctx context.Context, id string) (payment.Entry, error) {
	var e payment.Entry
	etag, err := l.s.read(ctx, l.s.payments, "read_ledger", id, id, &e)
	if err != nil {
		return payment.Entry{}, err
	}
	e.ETag = etag
	return e, nil
}

// Create writes a new entry; order.ErrConflict if the key exists.
func (l Ledger) Create(ctx context.Context, e payment.Entry) error {
	return l.write(ctx, "create_ledger", e, nil)
}

// Replace overwrites an entry with If-Match on its ETag.
func (l Ledger) Replace(ctx context.Context, e payment.Entry) error {
	tag := azcore.ETag(e.ETag)
	return l.write(ctx, "replace_ledger", e, &azcosmos.ItemOptions{IfMatchEtag: &tag})
}

func (l Ledger) write(ctx context.Context, op string, e payment.Entry, o *azcosmos.ItemOptions) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode ledger entry: %w", err)
	}
	ctx, cancel := l.s.withDeadline(ctx)
	defer cancel()
	var resp azcosmos.ItemResponse
	if o == nil {
		resp, err = l.s.payments.CreateItem(ctx, pk(e.ID), raw, nil)
	} else {
		resp, err = l.s.payments.ReplaceItem(ctx, pk(e.ID), e.ID, raw, o)
	}
	l.s.charged(ctx, op, resp.RequestCharge, err)
	return translate(err)
}
