package cosmos_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContractConcurrentReplacesOneWins(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/id")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("lease")
		created, err := c.CreateItem(ctx, pk, mustJSON(t, map[string]any{"id": "lease", "owner": ""}), nil)
		require.NoError(t, err)

		const n = 16
		var wins, lost atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				body := mustJSON(t, map[string]any{"id": "lease", "owner": fmt.Sprint("host-", i)})
				_, err := c.ReplaceItem(ctx, pk, "lease", body, &azcosmos.ItemOptions{IfMatchEtag: &created.ETag})
				switch statusOf(err) {
				case 0:
					wins.Add(1)
				case http.StatusPreconditionFailed:
					lost.Add(1)
				default:
					t.Errorf("replace: %v", err)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), "exactly one replace with the same etag wins")
		assert.Equal(t, int32(n-1), lost.Load())
	})
}

type counter struct {
	ID    string `json:"id"`
	Order string `json:"orderId"`
	V     int    `json:"v"`
	ETag  string `json:"_etag,omitempty"`
}

func TestContractBatchAtomicUnderContention(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		pk := azcosmos.NewPartitionKeyString("o1")
		for _, id := range []string{"a", "b"} {
			_, err := c.CreateItem(ctx, pk, mustJSON(t, counter{ID: id, Order: "o1"}), nil)
			require.NoError(t, err)
		}
		var committed atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 8 {
					if bumpBoth(t, c, pk) {
						committed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		var a, b counter
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "a"), &a))
		require.NoError(t, json.Unmarshal(readItem(t, c, pk, "b"), &b))
		assert.Equal(t, int(committed.Load()), a.V, "every committed batch moved a")
		assert.Equal(t, a.V, b.V, "a and b move together")
		logs, _ := queryAll(t, c, "SELECT VALUE COUNT(1) FROM c WHERE STARTSWITH(c.id, 'log:')", pk, nil)
		require.Len(t, logs, 1)
		assert.JSONEq(t, fmt.Sprint(a.V), string(logs[0]), "one log item per committed batch")
	})
}

// bumpBoth moves a and b to a.v+1 and logs it, guarded by a's etag.
func bumpBoth(t *testing.T, c *azcosmos.ContainerClient, pk azcosmos.PartitionKey) bool {
	var a counter
	resp, err := c.ReadItem(testCtx(t), pk, "a", nil)
	if !assert.NoError(t, err) || !assert.NoError(t, json.Unmarshal(resp.Value, &a)) {
		return false
	}
	next := a.V + 1
	b := c.NewTransactionalBatch(pk)
	b.CreateItem(mustJSON(t, counter{ID: fmt.Sprint("log:", next), Order: "o1", V: next}), nil)
	b.UpsertItem(mustJSON(t, counter{ID: "b", Order: "o1", V: next}), nil)
	b.ReplaceItem("a", mustJSON(t, counter{ID: "a", Order: "o1", V: next}), &azcosmos.TransactionalBatchItemOptions{IfMatchETag: &resp.ETag})
	out, err := c.ExecuteTransactionalBatch(testCtx(t), b, nil)
	if !assert.NoError(t, err) {
		return false
	}
	if !out.Success {
		assert.Contains(t, [][]int32{{424, 424, 412}, {409, 424, 424}}, statuses(out))
	}
	return out.Success
}

// TestContractChangeFeedUnderConcurrentWrites polls the change feed while
// writers create items: every item must arrive exactly once.
func TestContractChangeFeedUnderConcurrentWrites(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		readers := newReaders(t, c, azcosmos.ChangeFeedOptions{MaxItemCount: 7})
		var done atomic.Bool
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				order := fmt.Sprint("w", w)
				for i := range 50 {
					_, err := c.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString(order), mustJSON(t, item{ID: fmt.Sprint(order, ":", i), OrderID: order, Seq: i}), nil)
					assert.NoError(t, err)
				}
			})
		}
		go func() { wg.Wait(); done.Store(true) }()
		seen := map[string]int{}
		last := map[string]int{}
		for {
			finished := done.Load() // read before polling: a final poll follows the last write
			for _, id := range readAllRanges(t, readers) {
				seen[id]++
				order, seq := splitEventID(t, id)
				if prev, ok := last[order]; ok {
					assert.Greater(t, seq, prev, "commit order within %s", order)
				}
				last[order] = seq
			}
			if finished {
				break
			}
		}
		assert.Len(t, seen, 200, "every item arrives")
		for id, n := range seen {
			assert.Equal(t, 1, n, "item %s arrives once", id)
		}
	})
}

func splitEventID(t *testing.T, id string) (string, int) {
	order, seq, ok := strings.Cut(id, ":")
	require.True(t, ok, id)
	n, err := strconv.Atoi(seq)
	require.NoError(t, err)
	return order, n
}
