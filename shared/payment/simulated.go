package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Ledger stores the simulated gateway's records. Create fails with
// order.ErrConflict when the id exists; Replace fails with order.ErrConflict
// when the entry's ETag is stale; Get fails with order.ErrNotFound.
type Ledger interface {
	Get(ctx context.Context, id string) (Entry, error)
	Create(ctx context.Context, e Entry) error
	Replace(ctx context.Context, e Entry) error
}

// Simulated is a gateway for tests and demos. Its outcome depends on the
// card token (see the Token constants); its ledger makes it idempotent.
type Simulated struct {
	ledger Ledger
	now    func() time.Time
}

// NewSimulated returns a simulated gateway keeping its ledger in l.
func NewSimulated(l Ledger) (*Simulated, error) {
	if l == nil {
		return nil, errors.New("payment: nil ledger")
	}
	return &Simulated{ledger: l, now: time.Now}, nil
}

// Charge captures r.Amount unless the token declines. A repeated key returns
// the recorded outcome; tok_unavailable fails the first attempt only.
//
// The first attempt for a key (nearly every charge) is one write: create
// the entry, and only if the key has one already read what it recorded.
func (s *Simulated) Charge(ctx context.Context, r Request) (Receipt, error) {
	first := s.decide(r, Entry{})
	err := s.ledger.Create(ctx, first)
	switch {
	case err == nil:
		return charged(r, first)
	case !errors.Is(err, order.ErrConflict):
		return Receipt{}, fmt.Errorf("write ledger entry %s: %w", r.Key, err)
	}
	e, err := s.ledger.Get(ctx, r.Key)
	if err != nil {
		return Receipt{}, fmt.Errorf("read ledger entry %s: %w", r.Key, err)
	}
	if e.final() {
		return e.receipt(), nil
	}
	next := s.decide(r, e)
	if err := s.save(ctx, e, next); err != nil {
		return Receipt{}, err
	}
	return charged(r, next)
}

// charged is the caller's answer once e is recorded.
func charged(r Request, e Entry) (Receipt, error) {
	if !e.final() {
		return Receipt{}, fmt.Errorf("charge %s: %w", r.OrderID, ErrUnavailable)
	}
	return e.receipt(), nil
}

// decide is the simulated bank: the outcome of a charge given the token and
// what the ledger already holds for the key (prev.Attempts is 0 if nothing).
func (s *Simulated) decide(r Request, prev Entry) Entry {
	e := Entry{ID: r.Key, Kind: "charge", OrderID: r.OrderID, Amount: r.Amount, Currency: r.Currency,
		Attempts: prev.Attempts + 1, At: s.now().UTC(), ETag: prev.ETag}
	switch {
	case r.Token == TokenUnavailable && prev.Attempts == 0:
		e.Status = StatusUnavailable
	case r.Token == TokenVisa, r.Token == TokenMastercard, r.Token == TokenUnavailable:
		e.Status, e.PaymentID = StatusCaptured, paymentID("pay_", r.Key)
	case r.Token == TokenDeclined:
		e.Status, e.DeclineReason = StatusDeclined, "card_declined"
	default:
		e.Status, e.DeclineReason = StatusDeclined, "unknown_test_token"
	}
	return e
}

// Refund returns r.Amount; a repeated key returns the recorded refund. Like
// a charge, the first attempt is one write.
func (s *Simulated) Refund(ctx context.Context, r Request) (Receipt, error) {
	next := Entry{ID: r.Key, Kind: "refund", OrderID: r.OrderID, Amount: r.Amount, Currency: r.Currency,
		Status: StatusRefunded, PaymentID: paymentID("re_", r.Key), Attempts: 1, At: s.now().UTC()}
	err := s.ledger.Create(ctx, next)
	switch {
	case err == nil:
		return next.receipt(), nil
	case !errors.Is(err, order.ErrConflict):
		return Receipt{}, fmt.Errorf("write ledger entry %s: %w", r.Key, err)
	}
	e, err := s.ledger.Get(ctx, r.Key)
	if err != nil {
		return Receipt{}, fmt.Errorf("read ledger entry %s: %w", r.Key, err)
	}
	return e.receipt(), nil
}

// save writes next over prev. Losing a race to another attempt with the same
// key is reported as transient: the retry reads the winner's outcome.
func (s *Simulated) save(ctx context.Context, prev, next Entry) error {
	var err error
	if prev.ID == "" {
		err = s.ledger.Create(ctx, next)
	} else {
		err = s.ledger.Replace(ctx, next)
	}
	if errors.Is(err, order.ErrConflict) {
		return fmt.Errorf("ledger entry %s changed concurrently: %w", next.ID, order.ErrUnavailable)
	}
	if err != nil {
		return fmt.Errorf("write ledger entry %s: %w", next.ID, err)
	}
	return nil
}
