package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// TestSplitsWhileOrdersFlow splits partitions of the orders container
// (whose change feed drives the saga) while orders flow: one split from
// devstack's fault list, one injected through the control endpoint
// mid-run. Every order still reaches its final state with each event
// once, and stock adds up.
func TestSplitsWhileOrdersFlow(t *testing.T) {
	delayed := cosmos.Fault{Split: true, Container: "orders", After: cosmos.Duration(300 * time.Millisecond)}
	st := startStack(t, devstack.Options{CosmosFaults: []cosmos.Fault{delayed}})
	c := newClient(st.URL()).withKey(st.HostKey())
	faults := cosmos.NewFaultClient(st.CosmosEndpoint(), cosmos.DefaultKey, nil)
	before := c.stockWhenServed(t, "MUG-CLASSIC")

	tokens := map[string]string{}
	for i := range 12 {
		if i == 6 {
			_, err := faults.Inject(context.Background(), cosmos.Fault{Split: true, Container: "orders"})
			require.NoError(t, err)
		}
		tokens[c.placeUntilAccepted(t, checkoutBody("tok_visa", "MUG-CLASSIC", 1), fmt.Sprintf("split-%d", i))] = "tok_visa"
	}
	c.finishAll(t, tokens, 3*time.Minute)

	var listed []cosmos.FaultState
	require.Eventually(t, func() bool {
		listed, _ = faults.List(context.Background())
		return len(listed) == 2 && (len(listed[0].Splits) > 0 || listed[0].Error != "")
	}, time.Minute, 20*time.Millisecond, "the delayed split fires")
	for _, f := range listed {
		assert.Empty(t, f.Error)
		assert.Len(t, f.Splits, 1, "each split fault split one range")
	}
	assert.Empty(t, c.deadLetters(t), "no dead letter is left")
	for id := range tokens {
		o, err := c.order(id)
		require.NoError(t, err)
		assertEventsOnce(t, o)
		assert.Equal(t, "Fulfilled", o.Status, "order %s", id)
	}
	assert.Equal(t, before-len(tokens), available(t, c, "MUG-CLASSIC"), "stock reserved once per order")
}
