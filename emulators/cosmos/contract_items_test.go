package cosmos_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type item struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
	Seq     int    `json:"seq"`
	Note    string `json:"note,omitempty"`
	ETag    string `json:"_etag,omitempty"`
	RID     string `json:"_rid,omitempty"`
	Self    string `json:"_self,omitempty"`
	TS      int64  `json:"_ts,omitempty"`
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// statusOf returns the HTTP status of an SDK error, or 0.
func statusOf(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func TestContractCreateAndRead(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1", Seq: 1}), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, created.RawResponse.StatusCode)
		assert.NotEmpty(t, created.ETag)
		assert.Positive(t, created.RequestCharge)

		var got item
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "a"), &got))
		assert.Equal(t, 1, got.Seq)
		assert.Equal(t, string(created.ETag), got.ETag)
		assert.NotEmpty(t, got.RID)
		assert.NotEmpty(t, got.Self)
		assert.Positive(t, got.TS)

		_, err = c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1"}), nil)
		assert.Equal(t, http.StatusConflict, statusOf(err), "create with an existing id")
		_, err = c.CreateItem(ctx, azcosmos.NewPartitionKeyString("o2"), mustJSON(t, item{ID: "a", OrderID: "o2"}), nil)
		assert.NoError(t, err, "the same id in another partition key value")
		_, err = c.ReadItem(ctx, pk, "missing", nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
		_, err = c.CreateItem(ctx, pk, []byte(`{"orderId":"o1"}`), nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "an item without an id")
	})
}

func TestContractReplaceAndUpsert(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1"}), nil)
		require.NoError(t, err)
		replaced, err := c.ReplaceItem(ctx, pk, "a", mustJSON(t, item{ID: "a", OrderID: "o1", Seq: 2}), nil)
		require.NoError(t, err)
		assert.NotEqual(t, created.ETag, replaced.ETag)
		_, err = c.ReplaceItem(ctx, pk, "missing", mustJSON(t, item{ID: "missing", OrderID: "o1"}), nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))

		up, err := c.UpsertItem(ctx, pk, mustJSON(t, item{ID: "b", OrderID: "o1"}), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, up.RawResponse.StatusCode)
		up, err = c.UpsertItem(ctx, pk, mustJSON(t, item{ID: "b", OrderID: "o1", Seq: 5}), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, up.RawResponse.StatusCode)
		var got item
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "b"), &got))
		assert.Equal(t, 5, got.Seq)
	})
}

func TestContractDelete(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		_, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "b", OrderID: "o1"}), nil)
		require.NoError(t, err)
		del, err := c.DeleteItem(ctx, pk, "b", nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusNoContent, del.RawResponse.StatusCode)
		_, err = c.DeleteItem(ctx, pk, "b", nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
		_, err = c.ReadItem(ctx, pk, "b", nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
	})
}

func responseError(t *testing.T, err error) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re
}
