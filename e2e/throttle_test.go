package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// TestThrottlingCostsLatencyNotOrders answers 70% of all Cosmos DB
// requests — the handler's, the host's change feed and leases, every
// container, every operation — with 429 while orders flow, and checks that
// the pipeline still keeps its promises: every order reaches a final
// state, none is charged twice, stock adds up, and any document
// dead-lettered on the way is replayed, leaving no dead letter.
func TestThrottlingCostsLatencyNotOrders(t *testing.T) {
	throttle := cosmos.Fault{Status: http.StatusTooManyRequests, Rate: 0.7, RetryAfter: cosmos.Duration(5 * time.Millisecond)}
	st := startStack(t, devstack.Options{CosmosFaults: []cosmos.Fault{throttle}})
	c := newClient(st.URL()).withKey(st.HostKey())
	faults := cosmos.NewFaultClient(st.CosmosEndpoint(), cosmos.DefaultKey, nil)
	before := c.stockWhenServed(t, "MUG-CLASSIC")

	start := time.Now()
	tokens := map[string]string{}
	for i := range 12 {
		token := "tok_visa"
		if i%4 == 3 {
			token = "tok_declined"
		}
		tokens[c.placeUntilAccepted(t, checkoutBody(token, "MUG-CLASSIC", 1), fmt.Sprintf("throttle-%d", i))] = token
	}
	replayed := c.finishAll(t, tokens, 3*time.Minute)

	active, err := faults.List(context.Background())
	require.NoError(t, err)
	require.Len(t, active, 1)
	t.Logf("12 orders final in %v under %d injected 429s of %d Cosmos DB requests; %d dead letters replayed",
		time.Since(start).Round(time.Millisecond), active[0].Injected, active[0].Matched, replayed)
	assert.Greater(t, active[0].Injected, int64(200), "the run was throttled hard")
	require.NoError(t, faults.Clear(context.Background()))

	assert.Empty(t, c.deadLetters(t), "no dead letter is left")
	fulfilled := 0
	for id, token := range tokens {
		o, err := c.order(id)
		require.NoError(t, err)
		assertEventsOnce(t, o)
		want := map[string]string{"tok_visa": "Fulfilled", "tok_declined": "Cancelled"}[token]
		assert.Equal(t, want, o.Status, "order %s", id)
		if o.Status == "Fulfilled" {
			fulfilled++
		}
	}
	captured := map[string]int{}
	for _, e := range ledger(t, st.Settings()["COSMOS"]) {
		if e.Kind == "charge" && e.Status == "captured" {
			captured[e.OrderID]++
			assert.Equal(t, 1, e.Attempts, "order %s was charged more than once", e.OrderID)
		}
	}
	for id, token := range tokens {
		assert.Equal(t, map[string]int{"tok_visa": 1, "tok_declined": 0}[token], captured[id], "captures of order %s", id)
	}
	assert.Equal(t, before-fulfilled, available(t, c, "MUG-CLASSIC"), "stock reserved once per fulfilled order")
}

// stockWhenServed reads a product's stock, asking again while the listing
// is refused (throttled).
func (c *client) stockWhenServed(t *testing.T, sku string) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if n := available(t, c, sku); n >= 0 {
			return n
		}
		require.True(t, time.Now().Before(deadline), "no product listing within a minute")
		time.Sleep(20 * time.Millisecond) // polling interval between client retries
	}
}

// placeUntilAccepted posts a checkout with an idempotency key until it is
// accepted, as a client facing a throttled service does; retries with
// the key can't create a second order.
func (c *client) placeUntilAccepted(t *testing.T, body []byte, key string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, b, err := c.place(body, key)
		if err == nil && resp.StatusCode == http.StatusAccepted {
			var o orderBody
			require.NoError(t, json.Unmarshal(b, &o))
			return o.ID
		}
		if err == nil {
			require.GreaterOrEqual(t, resp.StatusCode, 500, "a throttled checkout is retried, not refused: %s", b)
		}
		require.True(t, time.Now().Before(deadline), "checkout %s not accepted within a minute", key)
		time.Sleep(20 * time.Millisecond) // polling interval between client retries
	}
}

// finishAll polls until every order is final, replaying dead letters as
// they appear (a stage that failed on its host's last retry). It returns
// how many it replayed.
func (c *client) finishAll(t *testing.T, orders map[string]string, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	pending := map[string]bool{}
	for id := range orders {
		pending[id] = true
	}
	replayed := 0
	for len(pending) > 0 {
		for id := range pending {
			if o, err := c.order(id); err == nil && (o.Status == "Fulfilled" || o.Status == "Cancelled") {
				delete(pending, id)
			}
		}
		replayed += c.replayDeadLetters()
		require.True(t, time.Now().Before(deadline), "%d orders not final in %v", len(pending), within)
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	return replayed + c.replayDeadLetters()
}

type deadLetter struct {
	ID string `json:"id"`
}

// listDeadLetters reads the ops API's dead-letter list.
func (c *client) listDeadLetters() ([]deadLetter, error) {
	resp, err := c.ops(http.MethodGet, "/api/ops/dead-letters")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list dead letters: %s", resp.Status)
	}
	var body struct {
		DeadLetters []deadLetter `json:"deadLetters"`
	}
	return body.DeadLetters, json.NewDecoder(resp.Body).Decode(&body)
}

func (c *client) deadLetters(t *testing.T) []deadLetter {
	t.Helper()
	dls, err := c.listDeadLetters()
	require.NoError(t, err)
	return dls
}

// replayDeadLetters replays what the list shows; failures (the service is
// throttled too) are left for the next round.
func (c *client) replayDeadLetters() int {
	dls, err := c.listDeadLetters()
	if err != nil {
		return 0
	}
	n := 0
	for _, d := range dls {
		resp, err := c.ops(http.MethodPost, "/api/ops/dead-letters/"+d.ID+"/replay")
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			n++
		}
	}
	return n
}
