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

// publishEvents sends every event of the batch to Service Bus, the events of
// all its orders in as few message batches as fit (see eventbus.Publish),
// each order's events in feed order. A transient send failure fails the
// invocation (the host retries; the broker drops duplicates by MessageID)
// except on the last attempt, when the events not yet sent are
// dead-lettered for replay; a permanent one dead-letters that order's events
// at once and the other orders are still published.
func (s *Server) publishEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.yield.waitBatch(ctx)
	rc, docs, err := decodeInvocation(r, documentsBinding)
	if err != nil {
		s.finish(ctx, w, s.deadLetterEnvelope(ctx, "PublishEvents", r, err), "envelope dead-lettered")
		return
	}
	b := &batch{s: s, fn: "PublishEvents",
		inv: deadLetterSource{invocationID: r.Header.Get(invocationHeader), rc: rc}}
	orders := streams(docs, allEvents)
	s.yield.wait(ctx, oldest(orders))
	err = b.publishAll(ctx, orders)
	events := 0
	for _, o := range orders {
		events += len(o)
	}
	s.finish(ctx, w, err, fmt.Sprintf("%d events published, %d orders, %d dead-lettered",
		events-int(b.dead.Load()), len(orders), b.dead.Load()))
}

// publishAll publishes the orders' events in one call to the publisher and
// then settles each order by what became of its events. The error is the
// first that must fail the invocation.
func (b *batch) publishAll(ctx context.Context, streams [][]item) error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	sendable := make([][]item, 0, len(streams))
	for _, st := range streams {
		if st[0].err != nil {
			keep(b.deadLetterAll(ctx, st, st[0].err))
			continue
		}
		sendable = append(sendable, st)
	}
	if len(sendable) == 0 {
		return first
	}
	for i, res := range b.s.publish(ctx, b.inv.rc, eventsOf(sendable)) {
		keep(b.settle(ctx, sendable[i], res))
	}
	return first
}

// oldest is when the earliest event of the streams was written; zero if
// none could be decoded.
func oldest(streams [][]item) time.Time {
	var t time.Time
	for _, st := range streams {
		if at := st[0].ev.At; st[0].err == nil && (t.IsZero() || at.Before(t)) {
			t = at
		}
	}
	return t
}

// eventsOf are the events of each stream.
func eventsOf(streams [][]item) [][]order.Event {
	out := make([][]order.Event, len(streams))
	for i, st := range streams {
		out[i] = make([]order.Event, len(st))
		for k, it := range st {
			out[i][k] = it.ev
		}
	}
	return out
}

// settle acts on what became of one order's events: nothing to do if all
// went out; a transient failure with retries left fails the invocation; on
// the last attempt the events not yet sent are dead-lettered, and after a
// permanent failure all the order's events.
func (b *batch) settle(ctx context.Context, items []item, res order.Published) error {
	switch {
	case res.Err == nil:
		return nil
	case !isTransient(res.Err):
		return b.deadLetterAll(ctx, items, res.Err)
	case !b.inv.rc.lastAttempt():
		return res.Err
	}
	return b.deadLetterAll(ctx, items[res.Sent:], res.Err)
}

// publish sends the events of several orders in one call to the publisher,
// each order in a PublishEvents span of its own, the child of its first
// event's span and linked to the others': the order's messages carry that
// span's context, so a consumer's spans join the order's trace.
func (s *Server) publish(ctx context.Context, rc *RetryContext, orders [][]order.Event) []order.Published {
	spans := make([]trace.Span, len(orders))
	for i, events := range orders {
		spans[i] = s.startPublish(ctx, rc, events)
	}
	began := time.Now()
	results := s.Publisher.Publish(ctx, orders)
	s.tel.publishLatency.Record(ctx, time.Since(began).Seconds(), s.tel.attrs.of(attrOutcome.String(worstOutcome(results))))
	for i, span := range spans {
		outcome := outcomeOf(results[i].Err)
		span.SetAttributes(attrOutcome.String(outcome))
		if err := results[i].Err; err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
	return results
}

// startPublish starts one order's PublishEvents span and gives its events
// the span's traceparent.
func (s *Server) startPublish(ctx context.Context, rc *RetryContext, events []order.Event) trace.Span {
	links := make([]trace.Link, 0, len(events)-1)
	for _, ev := range events[1:] {
		links = append(links, trace.LinkFromContext(s.tel.continueFrom(ctx, ev.TraceParent)))
	}
	first := events[0]
	ctx, span := s.tel.start(s.tel.continueFrom(ctx, first.TraceParent), "PublishEvents",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithLinks(links...), trace.WithAttributes(
			attrOrderID.String(first.OrderID), attrEventType.String(string(first.Type)),
			attribute.Int("messaging.batch.message_count", len(events)), attrRetryCount.Int(rc.count())))
	tp := s.tel.traceParent(ctx)
	for i := range events {
		events[i].TraceParent = tp
	}
	return span
}

// worstOutcome is the outcome of a publish call: transient if any order's
// send failed, else permanent if any order's event could not be sent.
func worstOutcome(results []order.Published) string {
	worst := outcomeOf(nil)
	for _, res := range results {
		switch outcome := outcomeOf(res.Err); {
		case isTransient(res.Err):
			return outcome
		case res.Err != nil:
			worst = outcome
		}
	}
	return worst
}

// publishOne publishes a single event (dead-letter replay).
func (s *Server) publishOne(ctx context.Context, ev order.Event) error {
	return s.publish(ctx, nil, [][]order.Event{{ev}})[0].Err
}
