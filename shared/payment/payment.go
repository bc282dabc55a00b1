// Package payment charges and refunds orders: the requests and receipts of
// a payment gateway (the PaymentGateway; its consumer, handlers, declares the
// interface) and Simulated, a test gateway whose ledger lives in a store (the
// Cosmos DB payments container in the app). Every call carries an
// idempotency key; a repeated key returns the first outcome and never moves
// money twice.
package payment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// Test tokens understood by the simulated gateway.
const (
	TokenVisa        = "tok_visa"        // approves
	TokenMastercard  = "tok_mastercard"  // approves
	TokenDeclined    = "tok_declined"    // declines
	TokenUnavailable = "tok_unavailable" // fails transiently once, then approves
)

// ErrUnavailable: the gateway could not answer; retry with the same key.
// It is an order.ErrUnavailable, so it classifies as transient (503).
var ErrUnavailable = fmt.Errorf("payment gateway: %w", order.ErrUnavailable)

// Request asks to move Amount (minor units of Currency) for an order.
type Request struct {
	Key      string // idempotency key, one per order and operation
	OrderID  string
	Token    string
	Amount   int64
	Currency string
}

// Receipt is the gateway's answer.
type Receipt struct {
	PaymentID     string
	Approved      bool
	DeclineReason string
}

// Entry statuses in the ledger.
const (
	StatusCaptured    = "captured"
	StatusDeclined    = "declined"
	StatusRefunded    = "refunded"
	StatusUnavailable = "unavailable"
)

// Entry is one ledger record, keyed by the request's idempotency key.
type Entry struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	OrderID       string    `json:"orderId"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Status        string    `json:"status"`
	PaymentID     string    `json:"paymentId"`
	DeclineReason string    `json:"declineReason,omitempty"`
	Attempts      int       `json:"attempts"`
	At            time.Time `json:"at"`
	ETag          string    `json:"-"`
}

// final reports whether the entry records a settled outcome.
func (e Entry) final() bool { return e.Status != StatusUnavailable }

func (e Entry) receipt() Receipt {
	return Receipt{PaymentID: e.PaymentID, Approved: e.Status != StatusDeclined, DeclineReason: e.DeclineReason}
}

// paymentID derives a stable id from the idempotency key.
func paymentID(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + hex.EncodeToString(sum[:10])
}
