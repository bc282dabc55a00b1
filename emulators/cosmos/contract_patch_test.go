package cosmos_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContractPatch(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		doc := map[string]any{"id": "p", "orderId": "o1", "status": "Placed", "count": 1,
			"tags": []any{"a", "c"}, "old": true, "nested": map[string]any{"x": 1}}
		created, err := c.CreateItem(ctx, pk, mustJSON(t, doc), nil)
		require.NoError(t, err)

		var ops azcosmos.PatchOperations
		ops.AppendSet("/status", "Paid")
		ops.AppendAdd("/tags/1", "b")
		ops.AppendAdd("/nested/y", 2)
		ops.AppendReplace("/nested/x", 10)
		ops.AppendRemove("/old")
		ops.AppendIncrement("/count", 4)
		resp, err := c.PatchItem(ctx, pk, "p", ops, &azcosmos.ItemOptions{EnableContentResponseOnWrite: true})
		require.NoError(t, err)
		assert.NotEqual(t, created.ETag, resp.ETag)

		var got map[string]any
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "p"), &got))
		assert.Equal(t, "Paid", got["status"])
		assert.Equal(t, []any{"a", "b", "c"}, got["tags"])
		assert.Equal(t, map[string]any{"x": float64(10), "y": float64(2)}, got["nested"])
		assert.NotContains(t, got, "old")
		assert.Equal(t, float64(5), got["count"])
	})
}

func TestContractPatchFailures(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, map[string]any{"id": "p", "orderId": "o1", "status": "Placed"}), nil)
		require.NoError(t, err)

		var cond azcosmos.PatchOperations
		cond.SetCondition("FROM c WHERE c.status = 'Paid'")
		cond.AppendSet("/status", "Fulfilled")
		_, err = c.PatchItem(ctx, pk, "p", cond, nil)
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err), "condition does not hold")

		var ok azcosmos.PatchOperations
		ok.SetCondition("FROM c WHERE c.status = 'Placed'")
		ok.AppendSet("/status", "Paid")
		_, err = c.PatchItem(ctx, pk, "p", ok, nil)
		require.NoError(t, err, "condition holds")

		var stale azcosmos.PatchOperations
		stale.AppendSet("/status", "Cancelled")
		_, err = c.PatchItem(ctx, pk, "p", stale, &azcosmos.ItemOptions{IfMatchEtag: &created.ETag})
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err), "stale If-Match")

		var missing azcosmos.PatchOperations
		missing.AppendReplace("/nope", 1)
		_, err = c.PatchItem(ctx, pk, "p", missing, nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "replace a missing path")

		_, err = c.PatchItem(ctx, pk, "absent", stale, nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))

		var got map[string]any
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "p"), &got))
		assert.Equal(t, "Paid", got["status"])
	})
}

func readItem(t *testing.T, c *azcosmos.ContainerClient, pk azcosmos.PartitionKey, id string) []byte {
	t.Helper()
	resp, err := c.ReadItem(testCtx(t), pk, id, nil)
	require.NoError(t, err)
	return resp.Value
}

func TestContractPatchNestedArray(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		doc := map[string]any{"id": "p", "orderId": "o1", "lines": []any{map[string]any{"sku": "a", "qty": 1}}}
		_, err := c.CreateItem(ctx, pk, mustJSON(t, doc), nil)
		require.NoError(t, err)
		var ops azcosmos.PatchOperations
		ops.AppendIncrement("/lines/0/qty", 2)
		ops.AppendAdd("/lines/-", map[string]any{"sku": "b", "qty": 1})
		_, err = c.PatchItem(ctx, pk, "p", ops, nil)
		require.NoError(t, err)
		var got struct {
			Lines []struct {
				SKU string `json:"sku"`
				Qty int    `json:"qty"`
			} `json:"lines"`
		}
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "p"), &got))
		require.Len(t, got.Lines, 2)
		assert.Equal(t, 3, got.Lines[0].Qty)
		assert.Equal(t, "b", got.Lines[1].SKU)

		var bad azcosmos.PatchOperations
		bad.AppendSet("/lines/5/qty", 1)
		_, err = c.PatchItem(ctx, pk, "p", bad, nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "an index out of range")
	})
}
