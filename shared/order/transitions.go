package order

import (
	"encoding/json"
	"fmt"
	"time"
)

// follows says which event may come after which: the saga as data.
// The zero EventType stands for a new order with no events yet.
var follows = map[EventType][]EventType{
	OrderPlaced:      {""},
	TaxApplied:       {OrderPlaced},
	PaymentCaptured:  {TaxApplied},
	PaymentDeclined:  {TaxApplied},
	OrderFulfilled:   {PaymentCaptured},
	FulfilmentFailed: {PaymentCaptured},
	PaymentRefunded:  {FulfilmentFailed},
	OrderCancelled:   {PaymentDeclined, PaymentRefunded},
}

// CanFollow reports whether an event of type next may be appended to o.
func (o *Order) CanFollow(next EventType) bool {
	for _, prev := range follows[next] {
		if prev == o.LastEvent {
			return true
		}
	}
	return false
}

// Handled reports whether the stage triggered by ev has already run: the
// order has moved past ev. Stages use it to make redelivery a no-op.
func (o *Order) Handled(ev Event) bool { return o.Version > ev.Seq }

// Record builds the next event of type t with payload data, applies it to o
// and returns it. o is unchanged when the event may not follow.
func (o *Order) Record(t EventType, data any, at time.Time) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s data: %w", t, err)
	}
	ev := Event{
		ID:            EventID(o.ID, t),
		OrderID:       o.ID,
		Kind:          KindEvent,
		Seq:           o.Version + 1,
		Type:          t,
		At:            at.UTC(),
		CorrelationID: o.CorrelationID,
		Data:          raw,
	}
	if err := o.apply(ev, data); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Apply folds ev into o. It refuses an event that is out of sequence or
// doesn't follow from o's state.
func (o *Order) Apply(ev Event) error { return o.apply(ev, nil) }

// apply is Apply with the event's payload as Record was given it, if
// known: folding it in as it is spares decoding the JSON just encoded from
// it, and gives the same order (TestRecordFoldsWhatApplyDecodes).
func (o *Order) apply(ev Event, data any) error {
	if ev.Seq != o.Version+1 || !o.CanFollow(ev.Type) {
		return fmt.Errorf("%s (seq %d) after %q (version %d) on order %s: %w",
			ev.Type, ev.Seq, o.LastEvent, o.Version, o.ID, ErrInvalidTransition)
	}
	next := *o
	if err := next.mutate(ev, data); err != nil {
		return err
	}
	next.Version, next.LastEvent, next.UpdatedAt = ev.Seq, ev.Type, ev.At
	*o = next
	return nil
}

func (o *Order) mutate(ev Event, data any) error {
	switch ev.Type {
	case OrderPlaced:
		return o.applyPlaced(ev, data)
	case TaxApplied:
		return o.applyTax(ev, data)
	case PaymentCaptured:
		d, err := payload[PaymentData](ev, data)
		if err != nil {
			return err
		}
		o.Status, o.PaymentID = StatusPaid, d.PaymentID
	case OrderFulfilled:
		o.Status = StatusFulfilled
	case OrderCancelled:
		o.Status = StatusCancelled
	}
	return nil
}

// payload is ev's data as a T: data itself when it is one, else decoded.
func payload[T any](ev Event, data any) (T, error) {
	if d, ok := data.(T); ok {
		return d, nil
	}
	var d T
	return d, ev.DecodeData(&d)
}

func (o *Order) applyPlaced(ev Event, data any) error {
	d, err := payload[PlacedData](ev, data)
	if err != nil {
		return err
	}
	o.ID, o.OrderID, o.Kind, o.Status = ev.OrderID, ev.OrderID, KindOrder, StatusPlaced
	o.CustomerID, o.Currency, o.ShipTo = d.CustomerID, d.Currency, d.ShipTo
	o.Lines = append([]Line(nil), d.Lines...)
	o.Subtotal, o.Total, o.Tax = d.Subtotal, d.Subtotal, 0
	o.CorrelationID, o.CreatedAt = ev.CorrelationID, ev.At
	return nil
}

func (o *Order) applyTax(ev Event, data any) error {
	d, err := payload[TaxData](ev, data)
	if err != nil {
		return err
	}
	if len(d.Lines) != len(o.Lines) {
		return fmt.Errorf("tax for %d lines on an order of %d: %w", len(d.Lines), len(o.Lines), ErrInvalidTransition)
	}
	lines := append([]Line(nil), o.Lines...)
	for i, lt := range d.Lines {
		lines[i].Tax, lines[i].TaxRate = lt.Tax, lt.Rate
	}
	o.Lines, o.Tax, o.Total, o.Status = lines, d.Tax, o.Subtotal+d.Tax, StatusTaxed
	return nil
}
