package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// TestFlashSaleSellsExactlyTheStock places five times a scarce SKU's stock
// in concurrent single-unit orders. The stages run many orders at once and
// reserve with a conditional patch, so this is where overselling, double
// charges or a lost refund would show.
func TestFlashSaleSellsExactlyTheStock(t *testing.T) {
	const sku, stock, clients = "KEYBOARD-65", 40, 64
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	require.Equal(t, stock, available(t, c, sku), "the demo catalog's stock")

	ids := placeConcurrently(t, c, 5*stock, clients, func() []byte { return checkoutBody("tok_visa", sku, 1) })
	status := map[string]int{}
	for _, id := range ids {
		status[c.waitTerminal(t, id, 90*time.Second).Status]++
	}
	assert.Equal(t, map[string]int{"Fulfilled": stock, "Cancelled": 4 * stock}, status)
	assert.Equal(t, 0, available(t, c, sku), "sold out, never below zero")

	charges, refunds := map[string]int{}, map[string]int{}
	for _, e := range ledger(t, st.Settings()["COSMOS"]) {
		switch {
		case e.Kind == "charge" && e.Status == "captured":
			charges[e.OrderID]++
		case e.Kind == "refund" && e.Status == "refunded":
			refunds[e.OrderID]++
		}
	}
	assert.Len(t, charges, 5*stock, "every order was charged")
	for id, n := range charges {
		assert.Equal(t, 1, n, "order %s charged once", id)
	}
	assert.Len(t, refunds, 4*stock, "every cancelled order was refunded")
	for id, n := range refunds {
		assert.Equal(t, 1, n, "order %s refunded once", id)
	}
}

// placeConcurrently places n orders from the given number of clients and
// returns their ids.
func placeConcurrently(t *testing.T, c *client, n, clients int, body func() []byte) []string {
	t.Helper()
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	var ids []string
	var errs []error
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range jobs {
				id, err := c.placeOK(body())
				mu.Lock()
				ids, errs = append(ids, id), append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Len(t, ids, n)
	return ids
}

// placeOK places an order and returns its id, or why it was not accepted.
func (c *client) placeOK(body []byte) (string, error) {
	resp, b, err := c.place(body, "")
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("checkout: %s: %s", resp.Status, b)
	}
	var o orderBody
	if err := json.Unmarshal(b, &o); err != nil {
		return "", err
	}
	return o.ID, nil
}
