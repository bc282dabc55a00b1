package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
	"github.com/ordersflow/orderpipeline/shared/catalog"
)

var fleetOrders = flag.Int("fleet-orders", 200, "orders TestFleetThroughAKillAndASplit places (make fleet: 10000)")

// TestFleetThroughAKillAndASplit runs three host processes over an orders
// container with four partitions, places orders through the round-robin
// port, kill -9s the instance holding the most leases halfway, splits a
// partition at three quarters, and then audits everything: every order
// finished, no event twice, no order charged twice, stock adds up, and
// every event on each Service Bus subscription exactly once.
func TestFleetThroughAKillAndASplit(t *testing.T) {
	n := *fleetOrders
	bus := startBus(t)
	console := &lockedBuffer{}
	st := startStack(t, devstack.Options{Hosts: 3, FuncHost: funcHostBin, CosmosPartitions: map[string]int{"orders": 4},
		LeaseExpiration: 3 * time.Second, ServiceBus: bus.ConnectionString(), Console: console})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fleet console (last 200 lines):\n%s", lastLines(console, 200))
		}
	})
	conn := st.Settings()["COSMOS"]
	ranges, err := st.Cosmos().Ranges("commerce", "orders")
	require.NoError(t, err)
	require.Len(t, ranges, 4, "orders has four partitions")

	c := newClient(st.URL())
	var moved, splitDone chan time.Duration
	var victim string
	started := time.Now()
	accepted := placeOrders(t, c, n, map[int]func(){
		n / 2: func() { victim, moved = killBusiest(t, st, conn) },
		3 * n / 4: func() {
			_, err := st.Cosmos().Split("commerce", "orders", ranges[0].ID)
			require.NoError(t, err)
			splitDone = watchSplit(t, conn, ranges[0].MinInclusive, ranges[0].MaxExclusive)
		},
	})
	t.Logf("%d of %d orders accepted in %s through the round-robin port", len(accepted), n, time.Since(started).Round(time.Millisecond))
	require.GreaterOrEqual(t, len(accepted), n*8/10, "requests in flight to the killed instance fail; the rest succeed")
	t.Logf("the leases of %s moved to the other instances %s after its kill -9 (lease expiration 3s)", victim, (<-moved).Round(time.Millisecond))
	t.Logf("every trigger's lease of the split range was replaced by two child leases %s after the split", (<-splitDone).Round(time.Millisecond))

	orders := waitAllFinished(t, conn, len(accepted), time.Duration(n)*100*time.Millisecond+2*time.Minute)
	t.Logf("%d orders finished %s after the first was placed", len(orders), time.Since(started).Round(time.Millisecond))
	for _, id := range accepted {
		assert.Contains(t, orders, id, "accepted order %s is stored", id)
	}
	events := auditEvents(t, conn, orders)
	auditCharges(t, conn, orders, events)
	auditStock(t, c, orders)
	auditSubscriptions(t, bus.ConnectionString(), events)
	assert.Contains(t, console.String(), "is gone (partition split)")
	t.Logf("lease moves on the console:\n%s", grepLines(console.String(), "took lease", "asked", "handed lease", "is gone", "exited"))
}

// grepLines keeps the lines that contain any of words.
func grepLines(text string, words ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, w := range words {
			if strings.Contains(line, w) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// placeOrders places n orders from 16 workers and runs at[k] (in order)
// once k orders have been accepted. It returns the accepted order ids.
func placeOrders(t *testing.T, c *client, n int, at map[int]func()) []string {
	t.Helper()
	var mu sync.Mutex
	var accepted []string
	hooks := make(chan func(), len(at))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id, ok := placeOne(c, i)
				if !ok {
					continue
				}
				mu.Lock()
				accepted = append(accepted, id)
				if f, ok := at[len(accepted)]; ok {
					hooks <- f
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		for i := range n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(done)
	}()
	ran := 0
	for ran < len(at) {
		select {
		case f := <-hooks:
			f()
			ran++
		case <-done:
			require.FailNow(t, "orders ran out before every hook ran", "%d accepted", len(accepted))
		}
	}
	<-done
	return accepted
}

var fleetSKUs = []string{"MUG-CLASSIC", "STICKER-PK", "GIFT-25", "COFFEE-1KG"}

// placeOne places order i: one in ten declined, one in ten a keyboard
// (40 in stock: most are refunded), the rest spread over four SKUs.
func placeOne(c *client, i int) (string, bool) {
	token, sku, qty := "tok_visa", fleetSKUs[i%4], 1+i%2
	switch i % 10 {
	case 0:
		token = "tok_declined"
	case 1:
		sku, qty = "KEYBOARD-65", 1
	}
	resp, b, err := c.place(checkoutBody(token, sku, qty), "")
	if err != nil || resp.StatusCode != http.StatusAccepted {
		return "", false
	}
	var o orderBody
	if json.Unmarshal(b, &o) != nil {
		return "", false
	}
	return o.ID, true
}

// fleetLease is the part of a lease document the test reads.
type fleetLease struct {
	ID        string    `json:"id"`
	Owner     string    `json:"Owner"`
	ExpiresAt time.Time `json:"ExpiresAt"`
	FeedRange struct {
		Min string `json:"min"`
		Max string `json:"max"`
	} `json:"FeedRange"`
}

func (l fleetLease) instance() string {
	name, _, _ := strings.Cut(l.Owner, "/")
	return name
}

func (l fleetLease) live(now time.Time) bool { return l.Owner != "" && now.Before(l.ExpiresAt) }

func readLeases(t *testing.T, conn string) []fleetLease {
	t.Helper()
	var out []fleetLease
	queryAll(t, conn, "leases", "SELECT * FROM c", func(raw []byte) {
		var l fleetLease
		require.NoError(t, json.Unmarshal(raw, &l))
		out = append(out, l)
	})
	return out
}

// killBusiest kill -9s the instance holding the most live leases and
// reports, on the channel, how long until none of them is its any more.
func killBusiest(t *testing.T, st *devstack.Stack, conn string) (string, chan time.Duration) {
	t.Helper()
	counts := map[string]int{}
	for _, l := range readLeases(t, conn) {
		if l.live(time.Now()) {
			counts[l.instance()]++
		}
	}
	victim := st.Instances()[0]
	for _, in := range st.Instances() {
		if counts[in.Name] > counts[victim.Name] {
			victim = in
		}
	}
	t.Logf("kill -9 %s (pid %d), holding %d of %d leases: %v", victim.Name, victim.PID, counts[victim.Name], len(readLeases(t, conn)), counts)
	killed := time.Now()
	require.NoError(t, syscall.Kill(victim.PID, syscall.SIGKILL))
	out := make(chan time.Duration, 1)
	go func() {
		pollUntil(t, 60*time.Second, func() bool {
			now := time.Now()
			for _, l := range readLeases(t, conn) {
				if !l.live(now) || l.instance() == victim.Name {
					return false
				}
			}
			return true
		})
		out <- time.Since(killed)
	}()
	return victim.Name, out
}

// watchSplit reports how long until no lease covers the split range and
// each trigger has two live child leases inside it.
func watchSplit(t *testing.T, conn, lo, hi string) chan time.Duration {
	t.Helper()
	split := time.Now()
	out := make(chan time.Duration, 1)
	go func() {
		pollUntil(t, 60*time.Second, func() bool {
			children := 0
			for _, l := range readLeases(t, conn) {
				if l.FeedRange.Min == lo && l.FeedRange.Max == hi {
					return false
				}
				inside := l.FeedRange.Min >= lo && (l.FeedRange.Max <= hi || hi == "FF")
				if inside && l.live(time.Now()) {
					children++
				}
			}
			return children == 2*4 // four triggers
		})
		out <- time.Since(split)
	}()
	return out
}

// pollUntil polls ok until it holds; it fails the test after within.
func pollUntil(t *testing.T, within time.Duration, ok func() bool) {
	start := time.Now()
	for !ok() {
		if time.Since(start) > within {
			t.Errorf("condition not reached within %s", within)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type storedOrder struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version int    `json:"version"`
	Lines   []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"lines"`
}

// waitAllFinished polls the orders container until every stored order
// (at least min of them) is Fulfilled or Cancelled.
func waitAllFinished(t *testing.T, conn string, atLeast int, within time.Duration) map[string]storedOrder {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		orders := map[string]storedOrder{}
		open := 0
		queryAll(t, conn, "orders", "SELECT c.id, c.status, c.version, c.lines FROM c WHERE c.kind = 'order'", func(raw []byte) {
			var o storedOrder
			require.NoError(t, json.Unmarshal(raw, &o))
			orders[o.ID] = o
			if o.Status != "Fulfilled" && o.Status != "Cancelled" {
				open++
			}
		})
		if open == 0 && len(orders) >= atLeast {
			return orders
		}
		require.False(t, time.Now().After(deadline), "%d of %d orders still open after %s", open, len(orders), within)
		time.Sleep(500 * time.Millisecond)
	}
}

type storedEvent struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
	Seq     int    `json:"seq"`
	Type    string `json:"type"`
}

// auditEvents checks each order's events: seq 1..version, each type once.
func auditEvents(t *testing.T, conn string, orders map[string]storedOrder) map[string][]storedEvent {
	t.Helper()
	byOrder := map[string][]storedEvent{}
	queryAll(t, conn, "orders", "SELECT c.id, c.orderId, c.seq, c.type FROM c WHERE c.kind = 'event'", func(raw []byte) {
		var e storedEvent
		require.NoError(t, json.Unmarshal(raw, &e))
		byOrder[e.OrderID] = append(byOrder[e.OrderID], e)
	})
	for id, o := range orders {
		evs := byOrder[id]
		seqs, types := map[int]bool{}, map[string]bool{}
		for _, e := range evs {
			assert.False(t, seqs[e.Seq], "order %s: seq %d twice", id, e.Seq)
			assert.False(t, types[e.Type], "order %s: %s twice", id, e.Type)
			assert.True(t, e.Seq >= 1 && e.Seq <= o.Version, "order %s: seq %d of version %d", id, e.Seq, o.Version)
			seqs[e.Seq], types[e.Type] = true, true
		}
		assert.Len(t, evs, o.Version, "order %s: one event per version", id)
	}
	return byOrder
}

// auditCharges checks the gateway's ledger: at most one charge per order,
// attempted once, captured exactly for the orders with PaymentCaptured.
func auditCharges(t *testing.T, conn string, orders map[string]storedOrder, events map[string][]storedEvent) {
	t.Helper()
	charges, captures := map[string]int{}, map[string]int{}
	for _, e := range ledger(t, conn) {
		if e.Kind == "charge" {
			charges[e.OrderID]++
			assert.Equal(t, 1, e.Attempts, "order %s was charged more than once", e.OrderID)
			if e.Status == "captured" {
				captures[e.OrderID]++
			}
		}
	}
	for id := range orders {
		captured := 0
		for _, e := range events[id] {
			if e.Type == "PaymentCaptured" {
				captured++
			}
		}
		assert.LessOrEqual(t, charges[id], 1, "order %s: one charge at most", id)
		assert.Equal(t, captured, captures[id], "order %s: a captured charge per PaymentCaptured", id)
	}
}

// auditStock checks each SKU's stock: the demo stock minus what the
// fulfilled orders took.
func auditStock(t *testing.T, c *client, orders map[string]storedOrder) {
	t.Helper()
	items, err := catalog.Demo()
	require.NoError(t, err)
	want := map[string]int{}
	for _, it := range items {
		want[it.SKU] = it.Stock
	}
	for _, o := range orders {
		if o.Status != "Fulfilled" {
			continue
		}
		for _, l := range o.Lines {
			want[l.SKU] -= l.Quantity
		}
	}
	for _, sku := range append([]string{"KEYBOARD-65"}, fleetSKUs...) {
		assert.GreaterOrEqual(t, want[sku], 0, "%s oversold", sku)
		assert.Equal(t, want[sku], available(t, c, sku), "stock of %s", sku)
	}
}

// auditSubscriptions reads both subscriptions of order-events and checks
// that each event arrived exactly once on each.
func auditSubscriptions(t *testing.T, busConn string, events map[string][]storedEvent) {
	t.Helper()
	want := map[string]bool{}
	for _, evs := range events {
		for _, e := range evs {
			want[e.ID] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client := busClient(t, busConn)
	got := drainSubscription(t, ctx, client, "analytics", len(want))
	assertOnce(t, "analytics", want, got)
	assertOnce(t, "audit", want, drainSessions(t, ctx, client, events))
}

func assertOnce(t *testing.T, sub string, want map[string]bool, got map[string]int) {
	t.Helper()
	missing, twice := 0, 0
	for id := range want {
		switch got[id] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	assert.Zero(t, missing, "%s: events never delivered", sub)
	assert.Zero(t, twice, "%s: events delivered more than once", sub)
	for id := range got {
		assert.True(t, want[id], "%s: message %s is no stored event", sub, id)
	}
	t.Logf("%s: %d messages for %d events", sub, sum(got), len(want))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func lastLines(b *lockedBuffer, n int) string {
	lines := strings.Split(b.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
