package cosmos_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func statuses(resp azcosmos.TransactionalBatchResponse) []int32 {
	out := make([]int32, len(resp.OperationResults))
	for i, r := range resp.OperationResults {
		out[i] = r.StatusCode
	}
	return out
}

func TestContractBatchCommits(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "order", OrderID: "o1"}), nil)
		require.NoError(t, err)
		_, err = c.CreateItem(ctx, pk, mustJSON(t, item{ID: "gone", OrderID: "o1"}), nil)
		require.NoError(t, err)

		b := c.NewTransactionalBatch(pk)
		b.CreateItem(mustJSON(t, item{ID: "o1:1", OrderID: "o1", Seq: 1}), nil)
		b.ReplaceItem("order", mustJSON(t, item{ID: "order", OrderID: "o1", Seq: 1}), &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &created.ETag})
		b.UpsertItem(mustJSON(t, item{ID: "o1:2", OrderID: "o1", Seq: 2}), nil)
		b.ReadItem("order", nil)
		b.DeleteItem("gone", nil)
		resp, err := c.ExecuteTransactionalBatch(ctx, b, nil)
		require.NoError(t, err)
		require.True(t, resp.Success)
		assert.Equal(t, []int32{201, 200, 201, 200, 204}, statuses(resp))
		assert.NotEmpty(t, resp.OperationResults[1].ETag)
		assert.NotEmpty(t, resp.OperationResults[3].ResourceBody, "a read returns its item")

		_, err = c.ReadItem(ctx, pk, "o1:2", nil)
		assert.NoError(t, err)
		_, err = c.ReadItem(ctx, pk, "gone", nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
	})
}

func TestContractBatchIsAtomic(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "order", OrderID: "o1"}), nil)
		require.NoError(t, err)
		_, err = c.ReplaceItem(ctx, pk, "order", mustJSON(t, item{ID: "order", OrderID: "o1", Seq: 1}), nil)
		require.NoError(t, err)

		conflict := c.NewTransactionalBatch(pk)
		conflict.CreateItem(mustJSON(t, item{ID: "new", OrderID: "o1"}), nil)
		conflict.CreateItem(mustJSON(t, item{ID: "order", OrderID: "o1"}), nil)
		conflict.UpsertItem(mustJSON(t, item{ID: "other", OrderID: "o1"}), nil)
		resp, err := c.ExecuteTransactionalBatch(ctx, conflict, nil)
		require.NoError(t, err)
		assert.False(t, resp.Success)
		assert.Equal(t, []int32{424, 409, 424}, statuses(resp))

		stale := c.NewTransactionalBatch(pk)
		stale.CreateItem(mustJSON(t, item{ID: "new", OrderID: "o1"}), nil)
		stale.ReplaceItem("order", mustJSON(t, item{ID: "order", OrderID: "o1", Seq: 9}), &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &created.ETag})
		resp, err = c.ExecuteTransactionalBatch(ctx, stale, nil)
		require.NoError(t, err)
		assert.False(t, resp.Success)
		assert.Equal(t, []int32{424, 412}, statuses(resp))

		for _, id := range []string{"new", "other"} {
			_, err = c.ReadItem(ctx, pk, id, nil)
			assert.Equal(t, http.StatusNotFound, statusOf(err), "nothing of a failed batch is applied: %s", id)
		}
	})
}

func TestContractBatchLimits(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		full := c.NewTransactionalBatch(pk)
		for i := range 100 {
			full.CreateItem(mustJSON(t, item{ID: fmt.Sprint(i), OrderID: "o1"}), nil)
		}
		resp, err := c.ExecuteTransactionalBatch(ctx, full, nil)
		require.NoError(t, err)
		assert.True(t, resp.Success, "100 operations")

		over := c.NewTransactionalBatch(pk)
		for i := range 101 {
			over.CreateItem(mustJSON(t, item{ID: fmt.Sprint("x", i), OrderID: "o1"}), nil)
		}
		_, err = c.ExecuteTransactionalBatch(ctx, over, nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "101 operations")
	})
}

func TestContractBatchPatchAndInvalidOperations(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		_, err := c.CreateItem(ctx, pk, mustJSON(t, map[string]any{"id": "order", "orderId": "o1", "version": 1}), nil)
		require.NoError(t, err)

		var bump azcosmos.PatchOperations
		bump.SetCondition("FROM c WHERE c.version = 1")
		bump.AppendIncrement("/version", 1)
		ok := c.NewTransactionalBatch(pk)
		ok.PatchItem("order", bump, nil)
		resp, err := c.ExecuteTransactionalBatch(ctx, ok, nil)
		require.NoError(t, err)
		assert.Equal(t, []int32{200}, statuses(resp))

		again := c.NewTransactionalBatch(pk)
		again.PatchItem("order", bump, nil)
		resp, err = c.ExecuteTransactionalBatch(ctx, again, nil)
		require.NoError(t, err)
		assert.Equal(t, []int32{412}, statuses(resp), "the patch condition no longer holds")

		mismatch := c.NewTransactionalBatch(pk)
		mismatch.CreateItem(mustJSON(t, item{ID: "x", OrderID: "o1"}), nil)
		mismatch.CreateItem(mustJSON(t, item{ID: "y", OrderID: "other"}), nil)
		resp, err = c.ExecuteTransactionalBatch(ctx, mismatch, nil)
		require.NoError(t, err)
		assert.Equal(t, []int32{424, 400}, statuses(resp), "an item of another partition key")
	})
}
