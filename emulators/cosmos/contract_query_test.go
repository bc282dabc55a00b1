package cosmos_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedEvents creates n events in each of the given orders, in seq order.
func seedEvents(t *testing.T, c *azcosmos.ContainerClient, n int, orders ...string) {
	t.Helper()
	for _, o := range orders {
		for i := n; i >= 1; i-- { // written in reverse: ORDER BY must sort
			_, err := c.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString(o), mustJSON(t, item{ID: fmt.Sprintf("%s:%d", o, i), OrderID: o, Seq: i}), nil)
			require.NoError(t, err)
		}
	}
}

// queryAll runs a query to the end and returns its items and page count.
func queryAll(t *testing.T, c *azcosmos.ContainerClient, q string, pk azcosmos.PartitionKey, o *azcosmos.QueryOptions) ([]json.RawMessage, int) {
	t.Helper()
	pager := c.NewQueryItemsPager(q, pk, o)
	var items []json.RawMessage
	pages := 0
	for pager.More() {
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		pages++
		for _, it := range page.Items {
			items = append(items, it)
		}
	}
	return items, pages
}

func seqs(t *testing.T, items []json.RawMessage) []int {
	t.Helper()
	out := make([]int, len(items))
	for i, raw := range items {
		var it item
		require.NoError(t, json.Unmarshal(raw, &it))
		out[i] = it.Seq
	}
	return out
}

func TestContractQuerySinglePartition(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 5, "o1", "o2")
		opts := &azcosmos.QueryOptions{QueryParameters: []azcosmos.QueryParameter{{Name: "@min", Value: 2}}}
		items, _ := queryAll(t, c, "SELECT * FROM c WHERE c.seq >= @min ORDER BY c.seq", azcosmos.NewPartitionKeyString("o1"), opts)
		assert.Equal(t, []int{2, 3, 4, 5}, seqs(t, items))

		count, _ := queryAll(t, c, "SELECT VALUE COUNT(1) FROM c", azcosmos.NewPartitionKeyString("o2"), nil)
		require.Len(t, count, 1)
		assert.JSONEq(t, "5", string(count[0]))
	})
}

func TestContractQueryCrossPartition(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 3, "o1", "o2", "o3")
		items, _ := queryAll(t, c, "SELECT * FROM c WHERE c.seq = 2", azcosmos.NewPartitionKey(), nil)
		assert.Len(t, items, 3)
	})
}

func TestContractQueryPaging(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 7, "o1")
		items, pages := queryAll(t, c, "SELECT * FROM c ORDER BY c.seq", azcosmos.NewPartitionKeyString("o1"), &azcosmos.QueryOptions{PageSizeHint: 3})
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, seqs(t, items))
		assert.GreaterOrEqual(t, pages, 3, "7 items in pages of 3")
	})
}

func TestContractQueryInvalid(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		pager := c.NewQueryItemsPager("SELEC * FROM c", azcosmos.NewPartitionKeyString("o1"), nil)
		_, err := pager.NextPage(testCtx(t))
		require.Equal(t, http.StatusBadRequest, statusOf(err))
		body := errorBody(t, err)
		assert.Equal(t, "BadRequest", body["code"])
		assert.NotEmpty(t, body["message"])
	})
}

func TestContractReadMany(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 3, "o1", "o2")
		resp, err := c.ReadManyItems(testCtx(t), []azcosmos.ItemIdentity{
			{ID: "o1:1", PartitionKey: azcosmos.NewPartitionKeyString("o1")},
			{ID: "o2:3", PartitionKey: azcosmos.NewPartitionKeyString("o2")},
			{ID: "o2:9", PartitionKey: azcosmos.NewPartitionKeyString("o2")},
		}, nil)
		require.NoError(t, err)
		assert.ElementsMatch(t, []int{1, 3}, seqs(t, toRaw(resp.Items)), "the missing item is left out")
	})
}

func toRaw(items [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}
