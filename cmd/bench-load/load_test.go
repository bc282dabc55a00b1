package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCheckout accepts well-formed orders with 202 and an id, except every
// fifth, which gets 503.
func fakeCheckout(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Lines []line `json:"lines"`
		}
		if r.URL.Path != "/api/orders" || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Lines) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		i := n.Add(1)
		if i%5 == 0 {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":"o-%d"}`, i)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func newTestDriver(base string, orders int, rate float64) *driver {
	gen := newGenerator([]product{{SKU: "A", Currency: "USD", Available: 1 << 30}}, 0.1, false, 3)
	return &driver{hc: http.DefaultClient, base: base, gen: gen, orders: orders, rate: rate, clients: 4}
}

func TestClosedLoopPlacesExactlyTheOrdersAsked(t *testing.T) {
	srv, n := fakeCheckout(t)
	d := newTestDriver(srv.URL, 50, 0)
	got := d.run(context.Background())
	require.Len(t, got, 50)
	assert.Equal(t, int64(50), n.Load())
	assert.Equal(t, int64(40), d.placed.Load())
	assert.Equal(t, int64(10), d.failed.Load())
	ids := map[string]bool{}
	for _, c := range got {
		if c.status == http.StatusAccepted {
			ids[c.id] = true
		}
	}
	assert.Len(t, ids, 40, "every accepted order has its own id")
}

func TestFixedRateSchedulesEachOrderAtItsDueTime(t *testing.T) {
	srv, _ := fakeCheckout(t)
	d := newTestDriver(srv.URL, 20, 1000)
	got := d.run(context.Background())
	require.Len(t, got, 20)
	for i := 1; i < len(got); i++ {
		assert.Equal(t, time.Millisecond, got[i].start.Sub(got[i-1].start), "order %d is due 1 ms after the one before", i)
	}
}

func TestDurationStopsAnUnlimitedLoad(t *testing.T) {
	srv, _ := fakeCheckout(t)
	d := newTestDriver(srv.URL, 0, 0)
	d.until = time.Now().Add(100 * time.Millisecond)
	got := d.run(context.Background())
	assert.NotEmpty(t, got)
	assert.Equal(t, d.issued.Load(), int64(len(got)))
}

func TestRunStopsWhenTheStockIsPromised(t *testing.T) {
	srv, _ := fakeCheckout(t)
	d := newTestDriver(srv.URL, 1000, 0)
	d.gen = newGenerator([]product{{SKU: "A", Currency: "USD", Available: 10}}, 0, false, 3)
	got := d.run(context.Background())
	assert.Less(t, len(got), 1000)
	require.NotNil(t, d.genErr.Load())
	assert.Contains(t, (*d.genErr.Load()).Error(), "-exhaust")
}

func TestKeysSendAFreshIdempotencyKeyWithEveryOrder(t *testing.T) {
	var mu sync.Mutex
	keys := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"id":"o"}`)
	}))
	t.Cleanup(srv.Close)
	d := newTestDriver(srv.URL, 40, 0)
	d.keys = "run-"
	require.Len(t, d.run(context.Background()), 40)
	assert.Len(t, keys, 40, "one key per order")
	for k, n := range keys {
		assert.True(t, strings.HasPrefix(k, "run-"), k)
		assert.Equal(t, 1, n, k)
	}

	keys = map[string]int{}
	d = newTestDriver(srv.URL, 5, 0)
	require.Len(t, d.run(context.Background()), 5)
	assert.Equal(t, map[string]int{"": 5}, keys, "without -keys, none")
}
