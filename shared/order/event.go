package order

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventType names what happened to an order.
type EventType string

// The events of the saga.
const (
	OrderPlaced      EventType = "OrderPlaced"
	TaxApplied       EventType = "TaxApplied"
	PaymentCaptured  EventType = "PaymentCaptured"
	PaymentDeclined  EventType = "PaymentDeclined"
	OrderFulfilled   EventType = "OrderFulfilled"
	FulfilmentFailed EventType = "FulfilmentFailed"
	PaymentRefunded  EventType = "PaymentRefunded"
	OrderCancelled   EventType = "OrderCancelled"
)

// Event is an immutable fact about one order. Its id is deterministic, so
// writing the same stage twice collides instead of duplicating.
type Event struct {
	ID            string          `json:"id"`
	OrderID       string          `json:"orderId"`
	Kind          string          `json:"kind"`
	Seq           int             `json:"seq"`
	Type          EventType       `json:"type"`
	At            time.Time       `json:"at"`
	CorrelationID string          `json:"correlationId"`
	Data          json.RawMessage `json:"data"`
	// TraceParent is the W3C traceparent of the span that wrote the event:
	// the change feed carries no trace context of its own, so the stage
	// that handles the event continues the order's trace from here.
	TraceParent string `json:"traceparent,omitempty"`
}

// EventID is the id of the event of type t on order orderID.
func EventID(orderID string, t EventType) string {
	return orderID + ":" + string(t)
}

// Event payloads.
type (
	// PlacedData carries everything the order was placed with.
	PlacedData struct {
		CustomerID string  `json:"customerId"`
		Currency   string  `json:"currency"`
		Lines      []Line  `json:"lines"`
		ShipTo     Address `json:"shipTo"`
		Subtotal   int64   `json:"subtotal"`
	}
	// LineTax is the tax on one line.
	LineTax struct {
		SKU  string `json:"sku"`
		Rate string `json:"rate"`
		Tax  int64  `json:"tax"`
	}
	// TaxData is the result of the tax stage.
	TaxData struct {
		Jurisdiction string    `json:"jurisdiction"`
		Lines        []LineTax `json:"lines"`
		Tax          int64     `json:"tax"`
		Total        int64     `json:"total"`
	}
	// PaymentData records a capture or a refund.
	PaymentData struct {
		PaymentID string `json:"paymentId"`
		Amount    int64  `json:"amount"`
		Currency  string `json:"currency"`
	}
	// ReasonData explains a decline, a failure or a cancellation.
	ReasonData struct {
		Reason string `json:"reason"`
		SKU    string `json:"sku,omitempty"`
	}
	// Reservation is stock held for one line.
	Reservation struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	}
	// FulfilledData lists the reservations that fulfil the order.
	FulfilledData struct {
		Reservations []Reservation `json:"reservations"`
	}
)

// DecodeData decodes an event's payload into v.
func (e Event) DecodeData(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s data of %s: %v: %w", e.Type, e.OrderID, err, ErrPermanent)
	}
	return nil
}

// Published is what a publisher did with one order's events: the first Sent
// of them went out (a publisher sends an order's events in order), and Err
// says why the others did not; it is nil when all of them went out.
type Published struct {
	Sent int
	Err  error
}
