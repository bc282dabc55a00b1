package funchost

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idleResult runs idle in the background and returns where its answer
// arrives.
func idleResult(w *rangeWatch, d time.Duration, ctxs ...context.Context) <-chan bool {
	out := make(chan bool, 1)
	since := w.since()
	go func() { out <- w.idle(since, d, ctxs...) }()
	return out
}

func idleNow(w *rangeWatch, d time.Duration) bool { return w.idle(w.since(), d) }

func waitPolling(t *testing.T, w *rangeWatch) {
	t.Helper()
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.polling
	}, 10*time.Second, time.Millisecond, "a listener is polling")
}

func TestRangeWatchOneListenerPollsAlone(t *testing.T) {
	var ws rangeWatches
	w := ws.of("COSMOS/db/orders", leaseRange{Min: "", Max: "FF"}, time.Millisecond)
	for range 3 {
		assert.True(t, idleNow(w, time.Millisecond), "alone, it polls on its delay every time")
	}
	assert.Same(t, w, ws.of("COSMOS/db/orders", leaseRange{Min: "", Max: "FF"}, time.Millisecond))
	assert.NotSame(t, w, ws.of("COSMOS/db/orders", leaseRange{Min: "", Max: "80"}, time.Millisecond), "another range")
	assert.NotSame(t, w, ws.of("COSMOS/db/orders", leaseRange{Min: "", Max: "FF"}, time.Second), "another delay")
}

// TestRangeWatchTheOthersWaitForThePoll: while one listener waits out the
// delay the others wait for it; its wake sends them all to read.
func TestRangeWatchTheOthersWaitForThePoll(t *testing.T) {
	var ws rangeWatches
	w := ws.of("c", leaseRange{}, time.Hour)
	poller := idleResult(w, time.Hour)
	waitPolling(t, w)
	waiters := []<-chan bool{idleResult(w, time.Hour), idleResult(w, time.Hour)}
	select {
	case <-poller:
		t.Fatal("the poller returned before its delay or a wake")
	case <-waiters[0]:
		t.Fatal("a waiter returned before the poll")
	default:
	}
	w.wake()
	for _, c := range append(waiters, poller) {
		assert.False(t, <-c, "woken: the read that follows is no one's poll")
	}
	assert.True(t, idleNow(w, time.Millisecond), "the poll was released: the next idle listener polls")
}

// TestRangeWatchAPollerThatLeavesHandsThePollOver: a waiter never waits
// for a poller that stopped.
func TestRangeWatchAPollerThatLeavesHandsThePollOver(t *testing.T) {
	var ws rangeWatches
	w := ws.of("c", leaseRange{}, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	poller := idleResult(w, time.Hour, ctx)
	waitPolling(t, w)
	waiter := idleResult(w, time.Hour)
	cancel()
	assert.False(t, <-poller)
	assert.False(t, <-waiter, "woken to read, and to poll next")
	assert.True(t, idleNow(w, time.Millisecond))
}

// TestRangeWatchAWokenPollerReleasesThePoll: a poller woken by another
// listener's poll reads at once and is no longer polling.
func TestRangeWatchAWokenPollerReleasesThePoll(t *testing.T) {
	var ws rangeWatches
	w := ws.of("c", leaseRange{}, time.Hour)
	first := idleResult(w, time.Hour)
	waitPolling(t, w)
	w.wake()
	assert.False(t, <-first)
	w.mu.Lock()
	polling := w.polling
	w.mu.Unlock()
	assert.False(t, polling)
}

// TestRangeWatchAWakeDuringTheReadIsNotMissed: a listener whose read began
// before a wake reads again at once, even as the only one idle: the poll
// that woke the others may have found what its read came too early for.
func TestRangeWatchAWakeDuringTheReadIsNotMissed(t *testing.T) {
	var ws rangeWatches
	w := ws.of("c", leaseRange{}, time.Hour)
	since := w.since() // the read begins
	w.wake()           // another listener's poll found documents
	waiting := idleResult(w, time.Hour)
	waitPolling(t, w)
	assert.False(t, w.idle(since, time.Hour), "returns at once, as a waiter would")
	w.wake()
	assert.False(t, <-waiting)
}

// feedReadCounter is a reverse proxy to the emulator that counts change
// feed reads; conn is the connection string to give the host.
func feedReadCounter(t testing.TB, tc *testCosmos) (conn string, reads *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(tc.srv.Endpoint())
	require.NoError(t, err)
	reads = &atomic.Int64{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("A-IM") == "Incremental Feed" {
			reads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(tc.conn, tc.srv.Endpoint(), srv.URL+"/", 1), reads
}

// fourTriggers is an app of four cosmosDBTrigger functions on the orders
// container, each with its own lease prefix.
func fourTriggers(t testing.TB) string {
	fns := map[string]string{}
	for _, name := range []string{"ApplyTax", "ProcessPayment", "FulfilOrder", "PublishEvents"} {
		fns[name] = strings.Replace(triggerFn(``, ""), `"tax-"`, `"`+strings.ToLower(name)+`-"`, 1)
	}
	return stageApp(t, forwardingHostJSON, fns, nil)
}

// TestIdleFunctionsOnARangeEachGetEveryDocument: four functions idle on
// the same ranges share their polls, and every document written while they
// idle, round after round, still reaches each of them.
func TestIdleFunctionsOnARangeEachGetEveryDocument(t *testing.T) {
	tc := startCosmosWith(t, 2)
	fr := newFeedRelay(t, ok)
	startHost(t, fourTriggers(t), fr.relay, tc.settings(), fastPoll)
	for round := range 5 {
		id := fmt.Sprintf("idle-%d", round)
		tc.insert(t, id)
		got := map[string]bool{}
		for len(got) < 4 {
			c := fr.next(t)
			require.Equal(t, []string{id}, c.Docs, "round %d: one new document at a time", round)
			assert.False(t, got[c.Path], "%s got %s twice", c.Path, id)
			got[c.Path] = true
		}
	}
}

// BenchmarkIdlePolls is a host with four functions on a four-range
// container, caught up: it reports the change feed reads per poll delay
// (sixteen when each lease polls on its own).
func BenchmarkIdlePolls(b *testing.B) {
	tc := startCosmosWith(b, 4)
	conn, reads := feedReadCounter(b, tc)
	settings := tc.settings()
	settings["COSMOS"] = conn
	const delay = 20 * time.Millisecond
	startHost(b, fourTriggers(b), newFeedRelay(b, ok).relay, settings, func(c *Config) { c.FeedPollDelay = delay })
	require.Eventually(b, func() bool { return reads.Load() >= 16 }, 30*time.Second, delay, "every lease read")
	before := reads.Load()
	b.ResetTimer()
	for b.Loop() {
		time.Sleep(delay) // one poll delay of an idle host
	}
	b.ReportMetric(float64(reads.Load()-before)/float64(b.N), "reads/delay")
}
