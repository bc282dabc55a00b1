package cosmos_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func manualOf(t *testing.T, resp azcosmos.ThroughputResponse) int32 {
	t.Helper()
	n, ok := resp.ThroughputProperties.ManualThroughput()
	require.True(t, ok, "manual throughput")
	return n
}

func TestContractContainerThroughputManual(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		c := e.container(t, "/orderId")
		read, err := c.ReadThroughput(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, int32(400), manualOf(t, read), "a dedicated container gets 400 RU/s")
		_, auto := read.ThroughputProperties.AutoscaleMaxThroughput()
		assert.False(t, auto)
		require.Len(t, wholeRange(t, c), 1)

		replaced, err := c.ReplaceThroughput(ctx, azcosmos.NewManualThroughputProperties(25000), nil)
		require.NoError(t, err)
		assert.Equal(t, int32(25000), manualOf(t, replaced))
		assert.False(t, replaced.IsReplacePending)
		read, err = c.ReadThroughput(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, int32(25000), manualOf(t, read))
		assert.Len(t, serverRanges(t, e, c), 3, "25,000 RU/s needs three partitions: ranges split")

		_, err = c.ReplaceThroughput(ctx, azcosmos.NewManualThroughputProperties(350), nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "below the minimum")
		stale := azcore.ETag(`"stale"`)
		_, err = c.ReplaceThroughput(ctx, azcosmos.NewManualThroughputProperties(1000), &azcosmos.ThroughputOptions{IfMatchEtag: &stale})
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err))
	})
}

func TestContractContainerThroughputAutoscale(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		c := e.containerWith(t, orderKey(), azcosmos.NewAutoscaleThroughputProperties(4000))
		read, err := c.ReadThroughput(ctx, nil)
		require.NoError(t, err)
		maxRU, ok := read.ThroughputProperties.AutoscaleMaxThroughput()
		require.True(t, ok)
		assert.Equal(t, int32(4000), maxRU)

		replaced, err := c.ReplaceThroughput(ctx, azcosmos.NewAutoscaleThroughputPropertiesWithIncrement(40000, 10), nil)
		require.NoError(t, err)
		maxRU, _ = replaced.ThroughputProperties.AutoscaleMaxThroughput()
		assert.Equal(t, int32(40000), maxRU)
		inc, ok := replaced.ThroughputProperties.AutoscaleIncrement()
		require.True(t, ok)
		assert.Equal(t, int32(10), inc)
		assert.Len(t, serverRanges(t, e, c), 4, "autoscale partitions follow the maximum")
	})
}

func TestContractDatabaseThroughputShared(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		id := "shared-" + randomID()
		tp := azcosmos.NewManualThroughputProperties(20000)
		_, err := e.client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: id}, &azcosmos.CreateDatabaseOptions{ThroughputProperties: &tp})
		require.NoError(t, err)
		db, err := e.client.NewDatabase(id)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = db.Delete(context.Background(), nil) })

		read, err := db.ReadThroughput(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, int32(20000), manualOf(t, read))

		_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "orders", PartitionKeyDefinition: orderKey()}, nil)
		require.NoError(t, err)
		c, err := db.NewContainer("orders")
		require.NoError(t, err)
		_, err = c.ReadThroughput(ctx, nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err), "a container sharing its database's throughput has no offer")
		assert.GreaterOrEqual(t, len(wholeRange(t, c)), 2)

		_, err = db.ReplaceThroughput(ctx, azcosmos.NewManualThroughputProperties(30000), nil)
		require.NoError(t, err)
		assert.Len(t, serverRangesIn(t, e, id, "orders"), 3, "raising shared throughput splits its containers")
		_, err = db.ReplaceThroughput(ctx, azcosmos.NewAutoscaleThroughputProperties(40000), nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "manual to autoscale is a migration")
	})
}
