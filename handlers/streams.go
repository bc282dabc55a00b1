package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/sync/errgroup"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// DefaultStageConcurrency is how many orders of one batch a stage works on
// at once when STAGE_CONCURRENCY is not set; chosen by measurement (see the
// README's "Throughput" section).
const DefaultStageConcurrency = 64

// item is one change feed document a stage has to handle: an event of one of
// its types, or a document that could not be decoded (err).
type item struct {
	ev  order.Event
	doc json.RawMessage
	err error
	// state is the latest version of the order's document in the same
	// batch, given to the first event of each order only (after it, the
	// stage's own write is newer).
	state json.RawMessage
}

// checked decodes documents that decodeDocuments has split out of a batch:
// it checked their syntax, UTF-8 and names (no duplicates) as strictly as
// every other decoder here does, so the stages need not check them again
// each time they read one (which was a fifth of reading a document's head).
var checked = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// streams keeps the documents of a batch that st acts on and groups them by
// order: each order's events stay in feed order; orders come in the order of
// their first event. A document that can't be decoded is a stream of its own.
// The documents are decodeDocuments' (see checked).
func streams(docs []json.RawMessage, on []order.EventType) [][]item {
	var out [][]item
	index := map[string]int{}
	states := map[string]json.RawMessage{}
	for _, doc := range docs {
		head, err := checkedHeadOf(doc)
		if err == nil && head.Kind == order.KindOrder {
			states[head.OrderID] = doc // the feed's order is the latest version
			continue
		}
		var ev order.Event
		var ok bool
		if err == nil {
			ev, ok, err = eventFrom(doc, head, on, checked)
		}
		if err != nil {
			out = append(out, []item{{doc: doc, err: err}})
			continue
		}
		if !ok {
			continue
		}
		i, seen := index[ev.OrderID]
		if !seen {
			i = len(out)
			index[ev.OrderID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], item{ev: ev, doc: doc})
	}
	for _, st := range out {
		if st[0].err == nil {
			st[0].state = states[st[0].ev.OrderID]
		}
	}
	return out
}

// batch is one invocation of a change feed function over its streams.
type batch struct {
	s    *Server
	fn   string
	inv  deadLetterSource
	run  func(ctx context.Context, ev order.Event) error
	dead atomic.Int64
}

// runAll works on up to s.StageConcurrency orders at once, one event at a
// time per order, and returns when every order is done. Orders don't wait
// for each other: a failure in one stops only that order. The error is the
// first transient failure (the host retries the batch; every stage is
// idempotent, so what succeeded is skipped next time).
func (b *batch) runAll(ctx context.Context, streams [][]item) error {
	return b.forEach(ctx, streams, b.runStream)
}

// forEach runs fn on every stream, up to s.StageConcurrency at once, and
// returns the first error once all are done.
func (b *batch) forEach(ctx context.Context, streams [][]item, fn func(context.Context, []item) error) error {
	var g errgroup.Group
	g.SetLimit(b.s.stageConcurrency())
	for _, st := range streams {
		g.Go(func() error { return fn(ctx, st) })
	}
	return g.Wait()
}

// runStream handles one order's events in feed order, each once checkout
// leaves room for it (yield.go). After a failure the order's later events
// never run in this attempt: on a transient failure with retries left the
// invocation fails and the host retries the batch; otherwise the failed
// event and the ones after it are dead-lettered, and can be replayed in
// order.
func (b *batch) runStream(ctx context.Context, items []item) error {
	for i, it := range items {
		err := it.err
		if err == nil {
			b.s.yield.wait(ctx, it.ev.At)
			err = b.run(withFeedState(ctx, it.state), it.ev)
		}
		if err == nil {
			continue
		}
		if isTransient(err) && !b.inv.rc.lastAttempt() {
			return err
		}
		return b.deadLetterRest(ctx, items[i:], err)
	}
	return nil
}

// deadLetterRest records a failed event and the events of its order that
// could not run after it.
func (b *batch) deadLetterRest(ctx context.Context, items []item, cause error) error {
	if err := b.deadLetterAll(ctx, items[:1], cause); err != nil {
		return err
	}
	return b.deadLetterAll(ctx, items[1:], fmt.Errorf("not run: event %s of the same order failed first: %w", items[0].ev.ID, cause))
}

// deadLetterAll records items that failed for one cause.
func (b *batch) deadLetterAll(ctx context.Context, items []item, cause error) error {
	for _, it := range items {
		if err := b.s.deadLetter(ctx, b.fn, b.inv, it.doc, cause); err != nil {
			return err
		}
		b.dead.Add(1)
	}
	return nil
}

func (s *Server) stageConcurrency() int {
	if s.StageConcurrency > 0 {
		return s.StageConcurrency
	}
	return DefaultStageConcurrency
}

type feedStateKey struct{}

// withFeedState hands the stage the order document the change feed
// delivered with the event, if any.
func withFeedState(ctx context.Context, doc json.RawMessage) context.Context {
	if doc == nil {
		return ctx
	}
	return context.WithValue(ctx, feedStateKey{}, doc)
}

// feedState is the order as the change feed delivered it with ev, with the
// ETag Cosmos DB gave that version (_etag, part of every change feed
// document), when it is that order at ev's version or later. It is decoded
// like the event it came with (see checked).
func feedState(ctx context.Context, ev order.Event) (order.Order, bool) {
	doc, _ := ctx.Value(feedStateKey{}).(json.RawMessage)
	if doc == nil {
		return order.Order{}, false
	}
	var d struct {
		order.Order
		ETag string `json:"_etag"`
	}
	if err := jsonv2.Unmarshal(doc, &d, checked); err != nil || d.ID != ev.OrderID || d.ETag == "" || d.Version < ev.Seq {
		return order.Order{}, false
	}
	d.Order.ETag = d.ETag
	return d.Order, true
}
