package cosmos_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContractIfMatch(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		first, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1"}), nil)
		require.NoError(t, err)
		second, err := c.ReplaceItem(ctx, pk, "a", mustJSON(t, item{ID: "a", OrderID: "o1", Seq: 1}),
			&azcosmos.ItemOptions{IfMatchEtag: &first.ETag})
		require.NoError(t, err, "replace with the current etag")

		stale := &azcosmos.ItemOptions{IfMatchEtag: &first.ETag}
		_, err = c.ReplaceItem(ctx, pk, "a", mustJSON(t, item{ID: "a", OrderID: "o1", Seq: 2}), stale)
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err), "replace with a stale etag")
		_, err = c.UpsertItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1", Seq: 2}), stale)
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err), "upsert with a stale etag")
		_, err = c.DeleteItem(ctx, pk, "a", stale)
		assert.Equal(t, http.StatusPreconditionFailed, statusOf(err), "delete with a stale etag")

		_, err = c.DeleteItem(ctx, pk, "a", &azcosmos.ItemOptions{IfMatchEtag: &second.ETag})
		assert.NoError(t, err, "delete with the current etag")
	})
}

func TestContractIfNoneMatch(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1"}), nil)
		require.NoError(t, err)

		same := policy.WithHTTPHeader(ctx, http.Header{"If-None-Match": {string(created.ETag)}})
		resp, err := c.ReadItem(same, pk, "a", nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotModified, resp.RawResponse.StatusCode)
		assert.Empty(t, resp.Value)

		other := policy.WithHTTPHeader(ctx, http.Header{"If-None-Match": {`"not-the-etag"`}})
		resp, err = c.ReadItem(other, pk, "a", nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.RawResponse.StatusCode)
		assert.Equal(t, created.ETag, resp.ETag)
	})
}

func TestContractDocumentSize(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		big := map[string]any{"id": "big", "orderId": "o1", "pad": strings.Repeat("x", 1900*1024)}
		_, err := c.CreateItem(ctx, pk, mustJSON(t, big), nil)
		require.NoError(t, err, "a document under 2 MB")

		big["id"], big["pad"] = "huge", strings.Repeat("x", 2100*1024)
		_, err = c.CreateItem(ctx, pk, mustJSON(t, big), nil)
		assert.Equal(t, http.StatusRequestEntityTooLarge, statusOf(err), "a document over 2 MB")
	})
}

func TestContractResponseHeaders(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		resp, err := c.CreateItem(ctx, pk, mustJSON(t, item{ID: "a", OrderID: "o1"}), nil)
		require.NoError(t, err)
		assert.NotEmpty(t, resp.RawResponse.Header.Get("etag"))
		assert.NotEmpty(t, resp.RawResponse.Header.Get("x-ms-request-charge"))
		assert.Equal(t, azcore.ETag(resp.RawResponse.Header.Get("etag")), resp.ETag)
	})
}
