package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/rs/zerolog"

	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// documentsBinding is the name of the cosmosDBTrigger binding in every
// function.json.
const documentsBinding = "documents"

// stage is one change feed function: the event types it acts on and what it
// does with one of them. run is idempotent: a redelivered event does nothing.
type stage struct {
	on  []order.EventType
	run func(ctx context.Context, ev order.Event) error
}

// handle runs the stage on doc if doc is one of its events (dead-letter
// replay); any other document is not its business.
func (st stage) handle(ctx context.Context, doc json.RawMessage) error {
	ev, ok, err := eventOf(doc, st.on...)
	if !ok {
		return err
	}
	return st.run(ctx, ev)
}

// withRun is the stage with another run function (the same, traced).
func (st stage) withRun(run func(ctx context.Context, ev order.Event) error) stage {
	return stage{on: st.on, run: run}
}

// deadLetterSource says which invocation, on which attempt, gave up on a
// document.
type deadLetterSource struct {
	invocationID string
	rc           *RetryContext
}

// trigger runs a stage over a cosmosDBTrigger invocation: the batch's events
// grouped by order, different orders at once, each order's events in feed
// order (see batch). It answers the host when every order is done.
//
// A permanent failure dead-letters the event and the batch goes on. A
// transient failure fails the invocation so the host retries the batch,
// except on the last attempt, when the event is dead-lettered instead: the
// host checkpoints after its last retry, so failing then would lose it.
func (s *Server) trigger(fn string, st stage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s.yield.waitBatch(ctx)
		rc, docs, err := decodeInvocation(r, documentsBinding)
		if err != nil {
			s.finish(ctx, w, s.deadLetterEnvelope(ctx, fn, r, err), "envelope dead-lettered")
			return
		}
		b := &batch{s: s, fn: fn, run: s.traced(fn, rc, st.run),
			inv: deadLetterSource{invocationID: r.Header.Get(invocationHeader), rc: rc}}
		orders := streams(docs, st.on)
		failed := b.runAll(ctx, orders)
		s.finish(ctx, w, failed, fmt.Sprintf("%d documents, %d orders, %d dead-lettered", len(docs), len(orders), b.dead.Load()))
	})
}

// finish answers the host: 200 with the envelope, or 500 so it retries.
func (s *Server) finish(ctx context.Context, w http.ResponseWriter, failed error, summary string) {
	if failed != nil {
		zerolog.Ctx(ctx).Warn().Err(failed).Msg("invocation will be retried")
		writeJSON(w, "application/json", http.StatusInternalServerError,
			invokeResponse{Outputs: map[string]any{}, Logs: []string{"failed: " + failed.Error()}})
		return
	}
	writeJSON(w, "application/json", http.StatusOK, invokeResponse{Outputs: map[string]any{}, Logs: []string{summary}})
}

// deadLetter records a document that fn could not process.
func (s *Server) deadLetter(ctx context.Context, fn string, src deadLetterSource, doc json.RawMessage, cause error) error {
	var head struct {
		ID      string `json:"id"`
		OrderID string `json:"orderId"`
	}
	_ = json.Unmarshal(doc, &head) // an undecodable document is still recorded, under its hash
	if head.ID == "" {
		head.ID = "undecodable-" + order.IDForKey(string(doc))
	}
	d := deadletter.DeadLetter{ID: deadletter.ID(fn, head.ID), Function: fn, DocumentID: head.ID, OrderID: head.OrderID,
		Document: validJSON(doc), Error: cause.Error(), Transient: isTransient(cause), RetryCount: src.rc.count(),
		InvocationID: src.invocationID, At: s.Now().UTC()}
	if err := s.DeadLetters.PutDeadLetter(ctx, d); err != nil {
		return fmt.Errorf("dead-letter %s: %w", d.ID, err)
	}
	s.tel.deadLetters.Add(ctx, 1, s.tel.attrs.of(attrFunction.String(fn)))
	zerolog.Ctx(ctx).Error().Err(cause).Str("dead_letter_id", d.ID).Str("order_id", head.OrderID).Msg("document dead-lettered")
	return nil
}

// deadLetterEnvelope records an invocation whose envelope can't be read.
func (s *Server) deadLetterEnvelope(ctx context.Context, fn string, r *http.Request, cause error) error {
	id := r.Header.Get(invocationHeader)
	doc, _ := json.Marshal(map[string]string{"id": "invocation-" + id})
	return s.deadLetter(ctx, fn, deadLetterSource{invocationID: id}, doc, cause)
}

func validJSON(doc json.RawMessage) json.RawMessage {
	if json.Valid(doc) {
		return doc
	}
	quoted, _ := json.Marshal(string(doc))
	return quoted
}

// docHead is what the trigger reads of every change feed document to tell
// whether a stage acts on it: half the feed is versions of order documents,
// and each stage acts on one or two event types.
type docHead struct {
	Kind    string          `json:"kind"`
	Type    order.EventType `json:"type"`
	OrderID string          `json:"orderId"`
}

func headOf(doc json.RawMessage, opts ...jsonv2.Options) (docHead, error) {
	var head docHead
	if err := jsonv2.Unmarshal(doc, &head, opts...); err != nil {
		return head, fmt.Errorf("decode change feed document: %v: %w", err, order.ErrPermanent)
	}
	return head, nil
}

// eventOf decodes doc if it is an event of one of the given types; any
// other document is only read as far as its head.
func eventOf(doc json.RawMessage, types ...order.EventType) (order.Event, bool, error) {
	head, err := headOf(doc)
	if err != nil {
		return order.Event{}, false, err
	}
	return eventFrom(doc, head, types)
}

// eventFrom decodes doc, whose head is read already, if it is an event of
// one of the given types.
func eventFrom(doc json.RawMessage, head docHead, types []order.EventType, opts ...jsonv2.Options) (order.Event, bool, error) {
	var ev order.Event
	if head.Kind != order.KindEvent || !slices.Contains(types, head.Type) {
		return ev, false, nil
	}
	if err := jsonv2.Unmarshal(doc, &ev, opts...); err != nil {
		return ev, false, fmt.Errorf("decode change feed document: %v: %w", err, order.ErrPermanent)
	}
	if ev.OrderID == "" || ev.Seq < 1 {
		return ev, false, fmt.Errorf("event %q has no order id or sequence: %w", ev.ID, order.ErrPermanent)
	}
	return ev, true, nil
}

// decision records the events a stage adds to an order.
type decision func(ctx context.Context, o *order.Order, trigger order.Event) ([]order.Event, error)

// step runs one stage for the event ev: it loads the order, does nothing
// if the order has moved past the event (redelivery), and otherwise appends
// what decide records in one batch guarded by the order's ETag.
//
// The order is the version the change feed delivered with the event when
// there is one (see feedState): it is as good as a read made a moment
// earlier, because the append is guarded by its ETag. If the order has
// moved on since, the step is decided again on a fresh read.
func (s *Server) step(ctx context.Context, ev order.Event, decide decision) error {
	ctx = withOrder(ctx, ev.OrderID, ev.CorrelationID)
	if o, ok := feedState(ctx, ev); ok {
		err := s.stepOn(ctx, o, ev, decide)
		if !errors.Is(err, errStale) {
			return err
		}
	}
	o, err := s.Orders.Order(ctx, ev.OrderID)
	if err != nil {
		return fmt.Errorf("load order for %s: %w", ev.ID, err)
	}
	return s.stepOn(ctx, o, ev, decide)
}

// errStale: the order changed after the version the step decided on, and
// not because another invocation handled the same event.
var errStale = errors.New("order changed since it was read")

func (s *Server) stepOn(ctx context.Context, o order.Order, ev order.Event, decide decision) error {
	if o.Handled(ev) {
		zerolog.Ctx(ctx).Info().Str("event", ev.ID).Msg("already handled")
		return nil
	}
	if o.Version < ev.Seq {
		return fmt.Errorf("order %s at version %d is behind %s: %w", o.ID, o.Version, ev.ID, order.ErrUnavailable)
	}
	events, err := decide(ctx, &o, ev)
	if err != nil {
		return fmt.Errorf("%s: %w", ev.ID, err)
	}
	s.stampTrace(ctx, events)
	return s.appendOnce(ctx, o, ev, events)
}

// appendOnce writes the stage's events. Losing the race to another
// invocation of the same stage is success: its events are there.
func (s *Server) appendOnce(ctx context.Context, o order.Order, trigger order.Event, events []order.Event) error {
	err := s.Orders.Append(ctx, o, events...)
	if errors.Is(err, order.ErrConflict) {
		cur, rerr := s.Orders.Order(ctx, o.ID)
		if rerr == nil && cur.Handled(trigger) {
			zerolog.Ctx(ctx).Info().Str("event", trigger.ID).Msg("handled concurrently")
			return nil
		}
		return fmt.Errorf("append to %s: %v: %w: %w", o.ID, err, errStale, order.ErrUnavailable)
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", o.ID, err)
	}
	for _, e := range events {
		zerolog.Ctx(ctx).Info().Str("event", e.ID).Str("event_type", string(e.Type)).Int("seq", e.Seq).Msg("event appended")
	}
	return nil
}
