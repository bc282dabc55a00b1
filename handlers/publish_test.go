package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// interleaved is a change feed batch of three orders whose events come
// mixed, as the feed delivers them: A:1 B:1 A:2 C:1 B:2 A:3 C:2.
func interleaved(t *testing.T) []any {
	t.Helper()
	var docs []any
	for _, e := range []struct {
		id  string
		seq int
	}{{"A", 1}, {"B", 1}, {"A", 2}, {"C", 1}, {"B", 2}, {"A", 3}, {"C", 2}} {
		docs = append(docs, eventDoc(t, e.id, e.seq, allEvents[e.seq-1]))
	}
	return docs
}

// publishedIDs are the ids of the events the fake sent, per order, in the
// order they were sent.
func publishedIDs(p *fakePublisher) map[string][]string {
	out := map[string][]string{}
	for _, ev := range p.published {
		out[ev.OrderID] = append(out[ev.OrderID], ev.ID)
	}
	return out
}

func deadLetteredIDs(d *memDeadLetters) []string {
	var out []string
	for _, dl := range d.all {
		out = append(out, dl.DocumentID)
	}
	sort.Strings(out)
	return out
}

func TestPublishEventsSendsAllOrdersInOneCallEachInFeedOrder(t *testing.T) {
	f := newFixture(t)
	w := f.invoke("PublishEvents", envelopeFor(t, &RetryContext{MaxRetryCount: 5}, interleaved(t)...))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, 1, f.pub.calls, "one publish for every order of the invocation")
	assert.Equal(t, map[string][]string{"A": {"A:1", "A:2", "A:3"}, "B": {"B:1", "B:2"}, "C": {"C:1", "C:2"}},
		publishedIDs(f.pub))
	assert.Empty(t, f.dead.all)
}

func TestAPermanentPublishFailureDeadLettersOnlyItsOrder(t *testing.T) {
	for _, rc := range []*RetryContext{{MaxRetryCount: 5}, {RetryCount: 5, MaxRetryCount: 5}} {
		t.Run(fmt.Sprintf("attempt %d of %d", rc.RetryCount, rc.MaxRetryCount), func(t *testing.T) {
			f := newFixture(t)
			f.pub.bad = map[string]error{"B:2": fmt.Errorf("event B:2 is larger than a message may be: %w", order.ErrPermanent)}
			w := f.invoke("PublishEvents", envelopeFor(t, rc, interleaved(t)...))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, map[string][]string{"A": {"A:1", "A:2", "A:3"}, "C": {"C:1", "C:2"}}, publishedIDs(f.pub))
			assert.Equal(t, []string{"B:1", "B:2"}, deadLetteredIDs(f.dead), "the order's events, and only those")
		})
	}
}

func TestATransientPublishFailureFailsTheInvocationWithRetriesLeft(t *testing.T) {
	f := newFixture(t)
	f.pub.err, f.pub.room = fmt.Errorf("send batch: link detached: %w", order.ErrUnavailable), 2
	w := f.invoke("PublishEvents", envelopeFor(t, &RetryContext{RetryCount: 4, MaxRetryCount: 5}, interleaved(t)...))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Empty(t, f.dead.all, "the host retries the batch")
}

func TestTheLastAttemptDeadLettersTheEventsNotSent(t *testing.T) {
	f := newFixture(t)
	// A:1 and A:2 go out, then the broker fails: A:3 and every event of B
	// and C were not sent.
	f.pub.err, f.pub.room = fmt.Errorf("send batch: link detached: %w", order.ErrUnavailable), 2
	w := f.invoke("PublishEvents", envelopeFor(t, &RetryContext{RetryCount: 5, MaxRetryCount: 5}, interleaved(t)...))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, map[string][]string{"A": {"A:1", "A:2"}}, publishedIDs(f.pub))
	assert.Equal(t, []string{"A:3", "B:1", "B:2", "C:1", "C:2"}, deadLetteredIDs(f.dead))
	for _, dl := range f.dead.all {
		assert.True(t, dl.Transient, dl.DocumentID)
	}

	f.pub.err = nil
	for _, id := range []string{"A:3", "B:1", "B:2", "C:1", "C:2"} { // replayed in order, as an operator would
		w := f.do(http.MethodPost, "/api/ops/dead-letters/PublishEvents~"+id+"/replay", nil, nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
	assert.Equal(t, map[string][]string{"A": {"A:1", "A:2", "A:3"}, "B": {"B:1", "B:2"}, "C": {"C:1", "C:2"}},
		publishedIDs(f.pub))
}

func TestEachOrdersMessagesCarryTheContextOfItsOwnSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	f := newFixture(t, func(d *Deps) { d.Tracing = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)) })
	writers := map[string]string{} // order -> trace id its first event was written in
	var docs []any
	for i, id := range []string{"A", "B"} {
		traceID := fmt.Sprintf("%032x", i+1)
		writers[id] = traceID
		for seq := 1; seq <= 2; seq++ {
			ev := order.Event{ID: fmt.Sprintf("%s:%d", id, seq), OrderID: id, Kind: order.KindEvent, Seq: seq,
				Type: allEvents[seq-1], TraceParent: fmt.Sprintf("00-%s-%016x-01", traceID, seq)}
			b, err := json.Marshal(ev)
			require.NoError(t, err)
			docs = append(docs, json.RawMessage(b))
		}
	}
	require.Equal(t, http.StatusOK, f.invoke("PublishEvents", envelopeFor(t, &RetryContext{MaxRetryCount: 5}, docs...)).Code)

	spans := map[string]trace.SpanContext{} // order -> its PublishEvents span
	for _, s := range rec.Ended() {
		if s.Name() == "PublishEvents" {
			for _, a := range s.Attributes() {
				if a.Key == attrOrderID {
					spans[a.Value.AsString()] = s.SpanContext()
				}
			}
			assert.Len(t, s.Links(), 1, "linked to the span that wrote the order's second event")
		}
	}
	require.Len(t, spans, 2, "a span per order")
	for _, ev := range f.pub.published {
		sc := spans[ev.OrderID]
		assert.Equal(t, writers[ev.OrderID], sc.TraceID().String(), "the span continues the order's trace")
		assert.Equal(t, fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()), ev.TraceParent, ev.ID)
	}
}
