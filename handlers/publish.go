package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// allEvents are the event types PublishEvents sends downstream.
var allEvents = []order.EventType{order.OrderPlaced, order.TaxApplied, order.PaymentCaptured,
	order.PaymentDeclined, order.OrderFulfilled, order.FulfilmentFailed, order.PaymentRefunded, order.OrderCancelled}

// publishEvents sends every event of the batch to Service Bus: one message
// batch per order, different orders at once, each order's events in feed
// order. A transient send failure fails the invocation (the host retries;
// the broker drops duplicates by MessageID) except on the last attempt,
// when the order's events are dead-lettered for replay; a permanent one
// dead-letters them at once.
func (s *Server) publishEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	inv, docs, err := decodeInvocation(r, documentsBinding)
	if err != nil {
		s.finish(ctx, w, s.deadLetterEnvelope(ctx, "PublishEvents", r, err), "envelope dead-lettered")
		return
	}
	b := &batch{s: s, fn: "PublishEvents",
		inv: deadLetterSource{invocationID: r.Header.Get(invocationHeader), rc: inv.Metadata.RetryContext}}
	orders := streams(docs, allEvents)
	err = b.forEach(ctx, orders, b.publishOrder)
	events := 0
	for _, o := range orders {
		events += len(o)
	}
	s.finish(ctx, w, err, fmt.Sprintf("%d events published, %d orders, %d dead-lettered",
		events-int(b.dead.Load()), len(orders), b.dead.Load()))
}

// publishOrder sends one order's events of the batch in one PublishEvents
// span, the child of the first event's span: the messages carry its
// context, so a consumer's spans join the order's trace.
func (b *batch) publishOrder(ctx context.Context, items []item) error {
	if items[0].err != nil {
		return b.deadLetterAll(ctx, items, items[0].err)
	}
	events := make([]order.Event, len(items))
	for i, it := range items {
		events[i] = it.ev
	}
	err := b.s.publish(ctx, b.inv.rc, events)
	if err == nil {
		return nil
	}
	if isTransient(err) && !b.inv.rc.lastAttempt() {
		return err
	}
	return b.deadLetterAll(ctx, items, err)
}

// publish sends events of one order in a span and records how long it took.
func (s *Server) publish(ctx context.Context, rc *RetryContext, events []order.Event) error {
	links := make([]trace.Link, 0, len(events)-1)
	for _, ev := range events[1:] {
		links = append(links, trace.LinkFromContext(s.tel.continueFrom(ctx, ev.TraceParent)))
	}
	first := events[0]
	ctx, span := s.tel.start(s.tel.continueFrom(ctx, first.TraceParent), "PublishEvents",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithLinks(links...), trace.WithAttributes(
			attrOrderID.String(first.OrderID), attrEventType.String(string(first.Type)),
			attribute.Int("messaging.batch.message_count", len(events)), attrRetryCount.Int(rc.count())))
	defer span.End()
	tp := s.tel.traceParent(ctx)
	for i := range events {
		events[i].TraceParent = tp
	}
	began := time.Now()
	err := s.Publisher.Publish(ctx, events)
	outcome := outcomeOf(err)
	s.tel.publishLatency.Record(ctx, time.Since(began).Seconds(), s.tel.attrs.of(attrOutcome.String(outcome)))
	span.SetAttributes(attrOutcome.String(outcome))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, outcome)
	}
	return err
}

// publishOne publishes a single event (dead-letter replay).
func (s *Server) publishOne(ctx context.Context, ev order.Event) error {
	return s.publish(ctx, nil, []order.Event{ev})
}
