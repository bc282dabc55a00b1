package cosmos_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContractDatabases(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		_, err := e.client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: e.db.ID()}, nil)
		assert.Equal(t, http.StatusConflict, statusOf(err), "create an existing database")

		read, err := e.db.Read(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, e.db.ID(), read.DatabaseProperties.ID)
		assert.NotEmpty(t, read.DatabaseProperties.ResourceID)

		q := azcosmos.QueryDatabasesOptions{QueryParameters: []azcosmos.QueryParameter{{Name: "@id", Value: e.db.ID()}}}
		pager := e.client.NewQueryDatabasesPager("SELECT * FROM root r WHERE r.id = @id", &q)
		var ids []string
		for pager.More() {
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			for _, d := range page.Databases {
				ids = append(ids, d.ID)
			}
		}
		assert.Equal(t, []string{e.db.ID()}, ids)

		gone, err := e.client.NewDatabase("missing-" + randomID())
		require.NoError(t, err)
		_, err = gone.Read(ctx, nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
		_, err = gone.Delete(ctx, nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
	})
}

func TestContractContainers(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		c := e.container(t, "/customer/id")
		props := azcosmos.ContainerProperties{ID: c.ID(), PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/customer/id"}}}
		_, err := e.db.CreateContainer(ctx, props, nil)
		assert.Equal(t, http.StatusConflict, statusOf(err), "create an existing container")

		read, err := c.Read(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"/customer/id"}, read.ContainerProperties.PartitionKeyDefinition.Paths)

		doc := map[string]any{"id": "n1", "customer": map[string]any{"id": "cust-1"}}
		pk := azcosmos.NewPartitionKeyString("cust-1")
		_, err = c.CreateItem(ctx, pk, mustJSON(t, doc), nil)
		require.NoError(t, err, "nested partition key path")
		_, err = c.ReadItem(ctx, pk, "n1", nil)
		require.NoError(t, err)
		_, err = c.CreateItem(ctx, azcosmos.NewPartitionKeyString("other"), mustJSON(t, map[string]any{"id": "n2", "customer": map[string]any{"id": "cust-1"}}), nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "partition key header differs from the document")

		ranges, err := c.ReadFeedRanges(ctx, nil)
		require.NoError(t, err)
		assert.NotEmpty(t, ranges)

		pager := e.db.NewQueryContainersPager("SELECT * FROM root r", nil)
		var ids []string
		for pager.More() {
			page, err := pager.NextPage(ctx)
			require.NoError(t, err)
			for _, p := range page.Containers {
				ids = append(ids, p.ID)
			}
		}
		assert.Contains(t, ids, c.ID())

		_, err = c.Delete(ctx, nil)
		require.NoError(t, err)
		_, err = c.Read(ctx, nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
	})
}

func TestContractErrorShape(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		_, err := c.ReadItem(testCtx(t), azcosmos.NewPartitionKeyString("x"), "missing", nil)
		require.Error(t, err)
		body := errorBody(t, err)
		assert.Equal(t, "NotFound", body["code"])
		assert.NotEmpty(t, body["message"])
	})
}

func errorBody(t *testing.T, err error) map[string]any {
	t.Helper()
	re := responseError(t, err)
	var body map[string]any
	require.NoError(t, json.NewDecoder(re.RawResponse.Body).Decode(&body))
	return body
}

func TestContractHierarchicalPartitionKey(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		ctx := testCtx(t)
		id := "h-" + randomID()
		def := azcosmos.PartitionKeyDefinition{Kind: azcosmos.PartitionKeyKindMultiHash, Version: 2, Paths: []string{"/tenant", "/orderId"}}
		_, err := e.db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: id, PartitionKeyDefinition: def}, nil)
		require.NoError(t, err)
		c, err := e.db.NewContainer(id)
		require.NoError(t, err)
		pk := azcosmos.NewPartitionKey().AppendString("t1").AppendString("o1")
		_, err = c.CreateItem(ctx, pk, mustJSON(t, map[string]any{"id": "a", "tenant": "t1", "orderId": "o1"}), nil)
		require.NoError(t, err)
		_, err = c.ReadItem(ctx, pk, "a", nil)
		assert.NoError(t, err)
		other := azcosmos.NewPartitionKey().AppendString("t1").AppendString("o2")
		_, err = c.ReadItem(ctx, other, "a", nil)
		assert.Equal(t, http.StatusNotFound, statusOf(err))
	})
}

func TestContractFeedRangesCoverEverything(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ranges, err := c.ReadFeedRanges(testCtx(t), nil)
		require.NoError(t, err)
		require.NotEmpty(t, ranges)
		assert.Equal(t, "", ranges[0].MinInclusive)
		assert.Equal(t, "FF", ranges[len(ranges)-1].MaxExclusive)
		for i := 1; i < len(ranges); i++ {
			assert.Equal(t, ranges[i-1].MaxExclusive, ranges[i].MinInclusive, "ranges are contiguous")
		}
	})
}

func TestContractReplaceContainer(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		read, err := c.Read(ctx, nil)
		require.NoError(t, err)
		props := *read.ContainerProperties
		props.IndexingPolicy = &azcosmos.IndexingPolicy{
			Automatic: true, IndexingMode: azcosmos.IndexingModeConsistent,
			IncludedPaths: []azcosmos.IncludedPath{{Path: "/orderId/?"}},
			ExcludedPaths: []azcosmos.ExcludedPath{{Path: "/*"}},
		}
		_, err = c.Replace(ctx, props, nil)
		require.NoError(t, err)
		again, err := c.Read(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"/orderId"}, again.ContainerProperties.PartitionKeyDefinition.Paths)
		require.NotNil(t, again.ContainerProperties.IndexingPolicy)
		assert.Equal(t, "/orderId/?", again.ContainerProperties.IndexingPolicy.IncludedPaths[0].Path)

		props.PartitionKeyDefinition = azcosmos.PartitionKeyDefinition{Paths: []string{"/other"}}
		_, err = c.Replace(ctx, props, nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "the partition key cannot change")
	})
}
