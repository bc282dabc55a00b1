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
func (s *Store) Ledger() payment.Ledger { return ledger{s} }

type ledger struct{ s *Store }

func (l ledger) Get(ctx context.Context, id string) (payment.Entry, error) {
	var e payment.Entry
	etag, err := l.s.read(ctx, l.s.payments, "read_ledger", id, id, &e)
	if err != nil {
		return payment.Entry{}, err
	}
	e.ETag = etag
	return e, nil
}

func (l ledger) Create(ctx context.Context, e payment.Entry) error {
	return l.write(ctx, "create_ledger", e, nil)
}

func (l ledger) Replace(ctx context.Context, e payment.Entry) error {
	tag := azcore.ETag(e.ETag)
	return l.write(ctx, "replace_ledger", e, &azcosmos.ItemOptions{IfMatchEtag: &tag})
}

func (l ledger) write(ctx context.Context, op string, e payment.Entry, o *azcosmos.ItemOptions) error {
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
	l.s.observe(ctx, op, resp.RequestCharge)
	return translate(err)
}
