package main

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitSubcommand(t *testing.T) {
	c := startChild(t, "-addr", "127.0.0.1:0", "-container-partitions", "orders=2")
	client := c.client(t)
	ctx := testCtx(t)
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase("db")
	require.NoError(t, err)
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "orders", PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}, nil)
	require.NoError(t, err)

	var out strings.Builder
	err = realMain(ctx, []string{"split", "-endpoint", c.endpoint, "-db", "db", "-container", "orders", "-range", "1"}, &out, &strings.Builder{})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "range 1 split: child 2")
	assert.Contains(t, out.String(), "range 1 split: child 3")

	err = realMain(ctx, []string{"split", "-endpoint", c.endpoint, "-db", "db", "-container", "orders", "-range", "1"}, &out, &strings.Builder{})
	assert.ErrorContains(t, err, "410", "a range splits once")
	err = realMain(context.Background(), []string{"split", "-db", "db"}, &out, &strings.Builder{})
	assert.Error(t, err, "missing flags")
}

func TestParsePartitions(t *testing.T) {
	m, err := parsePartitions("orders=4, db/leases=1")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"orders": 4, "db/leases": 1}, m)
	for _, bad := range []string{"orders", "=3", "orders=x"} {
		_, err := parsePartitions(bad)
		assert.Error(t, err, bad)
	}
}
