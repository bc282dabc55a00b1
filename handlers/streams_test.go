package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// eventDoc is a change feed document for event seq of type t on orderID.
func eventDoc(t *testing.T, orderID string, seq int, typ order.EventType) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(order.Event{ID: fmt.Sprintf("%s:%d", orderID, seq), OrderID: orderID,
		Kind: order.KindEvent, Seq: seq, Type: typ})
	require.NoError(t, err)
	return b
}

func TestStreamsGroupEventsByOrderInFeedOrder(t *testing.T) {
	docs := []json.RawMessage{
		eventDoc(t, "A", 1, order.OrderPlaced),
		eventDoc(t, "B", 1, order.OrderPlaced),
		json.RawMessage(`{"id":"A","kind":"order","orderId":"A"}`), // the order document: not an event
		eventDoc(t, "A", 2, order.TaxApplied),                      // not this stage's type
		eventDoc(t, "A", 3, order.OrderPlaced),
		json.RawMessage(`{not json`),
		eventDoc(t, "C", 1, order.OrderPlaced),
		eventDoc(t, "B", 2, order.OrderPlaced),
	}
	got := streams(docs, []order.EventType{order.OrderPlaced})
	var ids [][]string
	for _, st := range got {
		var row []string
		for _, it := range st {
			if it.err != nil {
				row = append(row, "undecodable")
				continue
			}
			row = append(row, it.ev.ID)
		}
		ids = append(ids, row)
	}
	assert.Equal(t, [][]string{{"A:1", "A:3"}, {"B:1", "B:2"}, {"undecodable"}, {"C:1"}}, ids)
}

// recorder is a stage run function whose calls the test controls: each call
// announces itself on started and waits for its own release (or fails as
// told). It records, per order, the events in the order they ran.
type recorder struct {
	mu      sync.Mutex
	ran     map[string][]string
	running map[string]int
	overlap bool
	// inFlight and maxInFlight count calls running at once, across orders.
	inFlight, maxInFlight int
	fail                  map[string]error
	started               chan string
	release               map[string]chan struct{}
}

func newRecorder(gated ...string) *recorder {
	r := &recorder{ran: map[string][]string{}, running: map[string]int{}, fail: map[string]error{},
		started: make(chan string, 64), release: map[string]chan struct{}{}}
	for _, id := range gated {
		r.release[id] = make(chan struct{})
	}
	return r
}

func (r *recorder) run(ctx context.Context, ev order.Event) error {
	r.mu.Lock()
	r.running[ev.OrderID]++
	r.overlap = r.overlap || r.running[ev.OrderID] > 1
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.ran[ev.OrderID] = append(r.ran[ev.OrderID], ev.ID)
	gate := r.release[ev.ID]
	r.mu.Unlock()
	r.started <- ev.ID
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[ev.OrderID]--
	r.inFlight--
	return r.fail[ev.ID]
}

// await waits for the named events to start, in any order.
func (r *recorder) await(t *testing.T, ids ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case id := <-r.started:
			delete(want, id)
		case <-deadline:
			t.Fatalf("still waiting for %v to start", want)
		}
	}
}

func newBatch(t *testing.T, r *recorder, rc *RetryContext, limit int) (*batch, *fixture) {
	f := newFixture(t)
	f.srv.StageConcurrency = limit
	return &batch{s: f.srv, fn: "ApplyTax", run: r.run, inv: deadLetterSource{invocationID: "inv-1", rc: rc}}, f
}

func runAsync(b *batch, st [][]item) chan error {
	done := make(chan error, 1)
	go func() { done <- b.runAll(context.Background(), st) }()
	return done
}

func TestDifferentOrdersRunAtOnceAndOneOrderInFeedOrder(t *testing.T) {
	docs := []json.RawMessage{
		eventDoc(t, "A", 1, order.OrderPlaced), eventDoc(t, "B", 1, order.OrderPlaced),
		eventDoc(t, "A", 2, order.OrderPlaced), eventDoc(t, "C", 1, order.OrderPlaced),
	}
	r := newRecorder("A:1", "B:1", "C:1")
	b, _ := newBatch(t, r, nil, 8)
	done := runAsync(b, streams(docs, []order.EventType{order.OrderPlaced}))

	// A:1, B:1 and C:1 are all in flight at once: the orders don't wait for each other.
	r.await(t, "A:1", "B:1", "C:1")
	// A:2 must not start while A:1 is still running.
	close(r.release["B:1"])
	close(r.release["C:1"])
	select {
	case id := <-r.started:
		t.Fatalf("%s started while A:1 was still running", id)
	case err := <-done:
		t.Fatalf("the batch answered (%v) before order A was done", err)
	default:
	}
	close(r.release["A:1"])
	r.await(t, "A:2")
	require.NoError(t, <-done)
	assert.Equal(t, []string{"A:1", "A:2"}, r.ran["A"])
	assert.False(t, r.overlap, "two events of one order ran at once")
}

func TestTheBoundOnConcurrentOrdersHolds(t *testing.T) {
	var docs []json.RawMessage
	var gated []string
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		docs = append(docs, eventDoc(t, id, 1, order.OrderPlaced))
		gated = append(gated, id+":1")
	}
	r := newRecorder(gated...)
	b, _ := newBatch(t, r, nil, 2)
	done := runAsync(b, streams(docs, []order.EventType{order.OrderPlaced}))
	r.await(t, "A:1", "B:1")
	select {
	case id := <-r.started:
		t.Fatalf("%s started with two orders already in flight and a bound of 2", id)
	default:
	}
	close(r.release["A:1"])
	r.await(t, "C:1")
	for _, id := range []string{"B:1", "C:1", "D:1", "E:1"} {
		close(r.release[id])
	}
	require.NoError(t, <-done)
	assert.Len(t, r.ran, 5)
	assert.Equal(t, 2, r.maxInFlight, "never more than the bound, and the bound is used")
}

func TestAFailedEventStopsOnlyItsOrder(t *testing.T) {
	last := &RetryContext{RetryCount: 5, MaxRetryCount: 5}
	first := &RetryContext{RetryCount: 0, MaxRetryCount: 5}
	cases := []struct {
		name     string
		rc       *RetryContext
		err      error
		wantErr  bool
		wantDead []string
	}{
		{"transient with retries left fails the invocation", first, order.ErrUnavailable, true, nil},
		{"transient on the last retry dead-letters the rest of the order", last, order.ErrUnavailable, false,
			[]string{"A:1", "A:2"}},
		{"permanent dead-letters the rest of the order", first, order.ErrPermanent, false, []string{"A:1", "A:2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs := []json.RawMessage{eventDoc(t, "A", 1, order.OrderPlaced), eventDoc(t, "B", 1, order.OrderPlaced),
				eventDoc(t, "A", 2, order.OrderPlaced)}
			r := newRecorder()
			r.fail["A:1"] = fmt.Errorf("stage: %w", tc.err)
			b, f := newBatch(t, r, tc.rc, 8)
			err := b.runAll(context.Background(), streams(docs, []order.EventType{order.OrderPlaced}))
			assert.Equal(t, tc.wantErr, err != nil, "invocation error: %v", err)
			assert.Equal(t, []string{"A:1"}, r.ran["A"], "A:2 never runs after A:1 failed")
			assert.Equal(t, []string{"B:1"}, r.ran["B"], "order B goes on")
			var dead []string
			for _, d := range f.dead.all {
				dead = append(dead, d.DocumentID)
			}
			assert.ElementsMatch(t, tc.wantDead, dead)
			assert.Equal(t, int64(len(tc.wantDead)), b.dead.Load())
		})
	}
}

// feedDocument is the order as the change feed delivers it: the stored
// document with Cosmos DB's _etag.
func feedDocument(t *testing.T, o order.Order, etag string) map[string]any {
	t.Helper()
	b, err := json.Marshal(o)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	doc["_etag"] = etag
	return doc
}

func TestAStageUsesTheOrderTheFeedDelivered(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stale     bool
		wantReads int
	}{
		{"the feed's version is current: no read", false, 0},
		// one read to see the event is not handled yet, one to decide again
		{"the order moved on since: decided again on a fresh read", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.placeOrder(t, "tok_visa", 1)
			placed, err := f.store.Event(context.Background(), id, order.OrderPlaced)
			require.NoError(t, err)
			o, err := f.store.Order(context.Background(), id)
			require.NoError(t, err)
			etag := o.ETag
			if tc.stale {
				f.store.commit(o) // another write: the stored ETag moves on
			}
			f.store.reads = 0
			w := f.invoke("ApplyTax", envelopeFor(t, nil, feedDocument(t, o, etag), placed))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tc.wantReads, f.store.reads)
			assert.Equal(t, []order.EventType{order.OrderPlaced, order.TaxApplied}, f.store.types(id))
			assert.Empty(t, f.dead.all)
		})
	}
}
