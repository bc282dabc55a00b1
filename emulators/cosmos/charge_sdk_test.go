package cosmos_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// item is a document padded so that, stored, it has exactly size bytes.
func sizedItem(t *testing.T, c *azcosmos.ContainerClient, id string, size int) []byte {
	t.Helper()
	pk := azcosmos.NewPartitionKeyString("p")
	probe, _ := json.Marshal(map[string]string{"id": id, "pk": "p", "pad": ""})
	_, err := c.UpsertItem(testCtx(t), pk, probe, nil)
	require.NoError(t, err)
	resp, err := c.ReadItem(testCtx(t), pk, id, nil)
	require.NoError(t, err)
	pad := size - len(resp.Value)
	require.Positive(t, pad, "size %d is smaller than an empty item", size)
	body, _ := json.Marshal(map[string]string{"id": id, "pk": "p", "pad": strings.Repeat("x", pad)})
	return body
}

// TestSDKSeesTheChargeTable checks, through azcosmos, that responses carry
// the charges of the README's table.
func TestSDKSeesTheChargeTable(t *testing.T) {
	e := newEnv(t, startTarget(t, "charges", cosmos.Options{}))
	c := e.container(t, "/pk")
	ctx, pk := testCtx(t), azcosmos.NewPartitionKeyString("p")
	var charges []float32
	record := func(ru float32, err error) {
		t.Helper()
		require.NoError(t, err)
		charges = append(charges, ru)
	}

	body4k := sizedItem(t, c, "big", 4096)
	_, err := c.DeleteItem(ctx, pk, "big", nil)
	require.NoError(t, err)
	created, err := c.CreateItem(ctx, pk, body4k, nil)
	record(created.RequestCharge, err)
	read, err := c.ReadItem(ctx, pk, "big", nil)
	record(read.RequestCharge, err)
	require.Len(t, read.Value, 4096)
	replaced, err := c.ReplaceItem(ctx, pk, "big", body4k, nil)
	record(replaced.RequestCharge, err)
	deleted, err := c.DeleteItem(ctx, pk, "big", nil)
	record(deleted.RequestCharge, err)

	small := []byte(`{"id":"s1","pk":"p"}`)
	smallCreate, err := c.CreateItem(ctx, pk, small, nil)
	record(smallCreate.RequestCharge, err)
	_, err = c.CreateItem(ctx, pk, small, nil)
	require.Error(t, err, "a second create conflicts")

	b := c.NewTransactionalBatch(pk)
	b.CreateItem([]byte(`{"id":"s2","pk":"p"}`), nil)
	b.ReadItem("s1", nil)
	batch, err := c.ExecuteTransactionalBatch(ctx, b, nil)
	record(batch.RequestCharge, err)
	require.True(t, batch.Success)
	record(batch.OperationResults[0].RequestCharge, nil)
	record(batch.OperationResults[1].RequestCharge, nil)

	many, err := c.ReadManyItems(ctx, []azcosmos.ItemIdentity{{ID: "s1", PartitionKey: pk}, {ID: "s2", PartitionKey: pk}}, nil)
	record(many.RequestCharge, err)

	pager := c.NewQueryItemsPager("SELECT VALUE COUNT(1) FROM c", pk, nil)
	page, err := pager.NextPage(ctx)
	record(page.RequestCharge, err)

	// create 4 KB, read 4 KB, replace 4 KB, delete 4 KB, create <1 KB,
	// batch (create + read) and its two results, ReadMany of two small
	// items, a COUNT that loads two documents.
	want := []float32{6.67, 1.14, 13.34, 6.67, 4.95, 5.95, 4.95, 1, 2, 2.41}
	assert.Equal(t, want, charges)
}
