package cosmos

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChargesSumEveryRequestByContainerAndOp checks the control plane's
// charge totals against the x-ms-request-charge each response carried.
func TestChargesSumEveryRequestByContainerAndOp(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "leases", nil, nil)
	ctx := ctxFor(t)
	want := 0.0
	for _, id := range []string{"a", "b"} {
		resp, err := c.CreateItem(ctx, azcosmos.NewPartitionKeyString(id), []byte(`{"id":"`+id+`","pk":"`+id+`"}`), nil)
		require.NoError(t, err)
		want += float64(resp.RequestCharge)
	}
	read, err := c.ReadItem(ctx, azcosmos.NewPartitionKeyString("a"), "a", nil)
	require.NoError(t, err)

	totals, err := NewFaultClient(srv.Endpoint(), srv.Key(), nil).Charges(ctx)
	require.NoError(t, err)
	by := map[string]ChargeTotal{}
	for _, tot := range totals {
		if tot.Container == "leases" {
			by[tot.Op] = tot
		}
	}
	assert.Equal(t, int64(2), by[OpWrite].Requests)
	assert.InDelta(t, want, by[OpWrite].RU, 0.01)
	assert.Equal(t, int64(1), by[OpRead].Requests)
	assert.InDelta(t, float64(read.RequestCharge), by[OpRead].RU, 0.01)
	assert.Equal(t, srv.Charges(), totals)
}
