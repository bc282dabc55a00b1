package handlers

import (
	"context"
	"fmt"

	"github.com/ordersflow/orderpipeline/shared/inventory"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

// applyTax: OrderPlaced → TaxApplied.
func (s *Server) applyTax(ctx context.Context, ev order.Event) error {
	return s.step(ctx, ev, func(_ context.Context, o *order.Order, _ order.Event) ([]order.Event, error) {
		d, err := s.Tax.Compute(*o)
		if err != nil {
			return nil, fmt.Errorf("compute tax: %w", err)
		}
		return record(o, s, order.TaxApplied, d)
	})
}

// processPayment: TaxApplied → PaymentCaptured, or PaymentDeclined and
// OrderCancelled; FulfilmentFailed → PaymentRefunded and OrderCancelled.
func (s *Server) processPayment(ctx context.Context, ev order.Event) error {
	return s.step(ctx, ev, func(ctx context.Context, o *order.Order, ev order.Event) ([]order.Event, error) {
		if ev.Type == order.FulfilmentFailed {
			return s.refund(ctx, o)
		}
		return s.charge(ctx, o)
	})
}

func (s *Server) charge(ctx context.Context, o *order.Order) ([]order.Event, error) {
	rc, err := s.Gateway.Charge(ctx, payment.Request{Key: "charge~" + o.ID, OrderID: o.ID,
		Token: o.PaymentToken, Amount: o.Total, Currency: o.Currency})
	if err != nil {
		return nil, fmt.Errorf("charge: %w", err)
	}
	if rc.Approved {
		return record(o, s, order.PaymentCaptured, order.PaymentData{PaymentID: rc.PaymentID, Amount: o.Total, Currency: o.Currency})
	}
	return recordAll(o, s,
		entry{order.PaymentDeclined, order.ReasonData{Reason: rc.DeclineReason}},
		entry{order.OrderCancelled, order.ReasonData{Reason: "payment declined"}})
}

func (s *Server) refund(ctx context.Context, o *order.Order) ([]order.Event, error) {
	rc, err := s.Gateway.Refund(ctx, payment.Request{Key: "refund~" + o.ID, OrderID: o.ID,
		Token: o.PaymentToken, Amount: o.Total, Currency: o.Currency})
	if err != nil {
		return nil, fmt.Errorf("refund: %w", err)
	}
	return recordAll(o, s,
		entry{order.PaymentRefunded, order.PaymentData{PaymentID: rc.PaymentID, Amount: o.Total, Currency: o.Currency}},
		entry{order.OrderCancelled, order.ReasonData{Reason: "fulfilment failed; payment refunded"}})
}

// fulfilOrder: PaymentCaptured → OrderFulfilled, or FulfilmentFailed when a
// line can't be reserved (the reservations made are released first).
func (s *Server) fulfilOrder(ctx context.Context, ev order.Event) error {
	return s.step(ctx, ev, func(ctx context.Context, o *order.Order, _ order.Event) ([]order.Event, error) {
		lines := make([]order.Reservation, len(o.Lines))
		for i, l := range o.Lines {
			lines[i] = order.Reservation{SKU: l.SKU, Quantity: l.Quantity}
		}
		short, err := inventory.ReserveAll(ctx, s.Stock, o.ID, lines)
		if err != nil {
			return nil, err
		}
		if short != "" {
			return record(o, s, order.FulfilmentFailed, order.ReasonData{Reason: "insufficient stock", SKU: short})
		}
		return record(o, s, order.OrderFulfilled, order.FulfilledData{Reservations: lines})
	})
}

type entry struct {
	t    order.EventType
	data any
}

func record(o *order.Order, s *Server, t order.EventType, data any) ([]order.Event, error) {
	return recordAll(o, s, entry{t, data})
}

func recordAll(o *order.Order, s *Server, entries ...entry) ([]order.Event, error) {
	now := s.Now()
	out := make([]order.Event, 0, len(entries))
	for _, e := range entries {
		ev, err := o.Record(e.t, e.data, now)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
