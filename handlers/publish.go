package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// allEvents are the event types PublishEvents sends downstream.
var allEvents = []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured,
	order.PaymentDeclined, order.OrderFulfilled, order.FulfilmentFailed, order.PaymentRefunded, order.OrderCancelled}

// publishEvents sends every event of the batch to Service Bus in one go.
// A send failure fails the invocation (the host retries; the broker drops
// duplicates by MessageID) except on the last attempt, when the events are
// dead-lettered for replay.
func (s *Server) publishEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	inv, docs, err := decodeInvocation(r, documentsBinding)
	if err != nil {
		s.finish(w, ctx, s.deadLetterEnvelope(ctx, "PublishEvents", r, err), "envelope dead-lettered")
		return
	}
	src := deadLetterSource{invocationID: r.Header.Get(invocationHeader), rc: inv.Metadata.RetryContext}
	var events []order.Event
	var raws []json.RawMessage
	for _, doc := range docs {
		ev, ok, err := eventOf(doc, allEvents...)
		if err != nil {
			if err := s.deadLetter(ctx, "PublishEvents", src, doc, err); err != nil {
				s.finish(w, ctx, err, "")
				return
			}
		}
		if ok {
			events, raws = append(events, ev), append(raws, doc)
		}
	}
	err = s.Publisher.Publish(ctx, events)
	if err != nil && src.rc.lastAttempt() {
		err = s.deadLetterAll(ctx, src, raws, err)
	}
	s.finish(w, ctx, err, fmt.Sprintf("%d events published", len(events)))
}

func (s *Server) deadLetterAll(ctx context.Context, src deadLetterSource, docs []json.RawMessage, cause error) error {
	for _, doc := range docs {
		if err := s.deadLetter(ctx, "PublishEvents", src, doc, cause); err != nil {
			return err
		}
	}
	return nil
}

// publishOne publishes a single event (dead-letter replay).
func (s *Server) publishOne(ctx context.Context, ev order.Event) error {
	return s.Publisher.Publish(ctx, []order.Event{ev})
}
