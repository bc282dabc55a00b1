package cosmos_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feedReader drains a container's change feed through the SDK, one
// continuation per feed range, as the Functions host does.
type feedReader struct {
	c     *azcosmos.ContainerClient
	opts  azcosmos.ChangeFeedOptions
	token string
}

// next reads pages until the feed is caught up and returns the item ids.
func (f *feedReader) next(t *testing.T) []string {
	t.Helper()
	var ids []string
	for range 1000 {
		o := f.opts
		if f.token != "" {
			o.Continuation = &f.token
		}
		resp, err := f.c.ReadChangeFeed(testCtx(t), &o)
		require.NoError(t, err)
		if resp.ContinuationToken != "" {
			f.token = resp.ContinuationToken
		}
		if len(resp.Items) == 0 {
			return ids
		}
		for _, raw := range resp.Items {
			var it item
			require.NoError(t, json.Unmarshal(raw, &it))
			ids = append(ids, it.ID)
		}
	}
	t.Fatal("the change feed never caught up")
	return nil
}

func wholeRange(t *testing.T, c *azcosmos.ContainerClient) []azcosmos.FeedRange {
	t.Helper()
	ranges, err := c.ReadFeedRanges(testCtx(t), nil)
	require.NoError(t, err)
	require.NotEmpty(t, ranges)
	return ranges
}

// readAllRanges drains every feed range once from its own reader.
func readAllRanges(t *testing.T, readers []*feedReader) []string {
	var ids []string
	for _, r := range readers {
		ids = append(ids, r.next(t)...)
	}
	return ids
}

func newReaders(t *testing.T, c *azcosmos.ContainerClient, base azcosmos.ChangeFeedOptions) []*feedReader {
	var out []*feedReader
	for _, fr := range wholeRange(t, c) {
		o := base
		o.FeedRange = &fr
		out = append(out, &feedReader{c: c, opts: o})
	}
	return out
}

func TestContractChangeFeedIncremental(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		readers := newReaders(t, c, azcosmos.ChangeFeedOptions{MaxItemCount: 2})
		assert.Empty(t, readAllRanges(t, readers), "an empty container")

		seedEvents(t, c, 3, "o1")
		assert.Equal(t, []string{"o1:3", "o1:2", "o1:1"}, readAllRanges(t, readers), "commit order")
		assert.Empty(t, readAllRanges(t, readers), "caught up")

		pk := azcosmos.NewPartitionKeyString("o1")
		for seq := range 3 {
			_, err := c.UpsertItem(ctx, pk, mustJSON(t, item{ID: "o1:3", OrderID: "o1", Seq: 10 + seq}), nil)
			require.NoError(t, err)
		}
		_, err := c.DeleteItem(ctx, pk, "o1:1", nil)
		require.NoError(t, err)
		_, err = c.CreateItem(ctx, pk, mustJSON(t, item{ID: "o1:4", OrderID: "o1"}), nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"o1:3", "o1:4"}, readAllRanges(t, readers), "latest versions only, no deletes")
	})
}

func TestContractChangeFeedFromBeginningShowsLatestVersion(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		ctx := testCtx(t)
		seedEvents(t, c, 2, "o1", "o2")
		_, err := c.ReplaceItem(ctx, azcosmos.NewPartitionKeyString("o1"), "o1:2", mustJSON(t, item{ID: "o1:2", OrderID: "o1", Seq: 22}), nil)
		require.NoError(t, err)
		ids := readAllRanges(t, newReaders(t, c, azcosmos.ChangeFeedOptions{}))
		// Commit order holds within a partition key; across keys it may not.
		assert.Equal(t, []string{"o1:1", "o1:2"}, withPrefix(ids, "o1:"))
		assert.Equal(t, []string{"o2:2", "o2:1"}, withPrefix(ids, "o2:"))
		assert.Len(t, ids, 4, "one entry per item: the latest version")
	})
}

func TestContractChangeFeedPerPartitionKey(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 2, "o1", "o2", "o3")
		pk := azcosmos.NewPartitionKeyString("o2")
		readers := newReaders(t, c, azcosmos.ChangeFeedOptions{PartitionKey: &pk})
		assert.Equal(t, []string{"o2:2", "o2:1"}, readAllRanges(t, readers))
		seedEvents(t, c, 1, "o4")
		_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, item{ID: "o2:9", OrderID: "o2"}), nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"o2:9"}, readAllRanges(t, readers))
	})
}

func TestContractChangeFeedFromTime(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 1, "before")
		// StartFrom has whole-second precision: start at the next second.
		start := time.Now().Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(start) + 10*time.Millisecond)
		seedEvents(t, c, 1, "after")

		from := start
		assert.Equal(t, []string{"after:1"}, readAllRanges(t, newReaders(t, c, azcosmos.ChangeFeedOptions{StartFrom: &from})))
		past := start.Add(-time.Hour)
		assert.Equal(t, []string{"before:1", "after:1"}, readAllRanges(t, newReaders(t, c, azcosmos.ChangeFeedOptions{StartFrom: &past})))
		future := start.Add(time.Hour)
		assert.Empty(t, readAllRanges(t, newReaders(t, c, azcosmos.ChangeFeedOptions{StartFrom: &future})))
	})
}

func TestContractChangeFeedContinuationResumes(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 2, "o1")
		first := newReaders(t, c, azcosmos.ChangeFeedOptions{})
		require.Len(t, readAllRanges(t, first), 2)
		seedEvents(t, c, 1, "o2")
		// New readers from saved continuations, as after a host restart.
		var resumed []*feedReader
		for _, r := range first {
			resumed = append(resumed, &feedReader{c: c, token: r.token})
		}
		assert.Equal(t, []string{"o2:1"}, readAllRanges(t, resumed))
	})
}

func withPrefix(ids []string, prefix string) []string {
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return out
}

func TestContractChangeFeedCaughtUpIs304(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 1, "o1")
		readers := newReaders(t, c, azcosmos.ChangeFeedOptions{})
		require.Len(t, readAllRanges(t, readers), 1)
		o := azcosmos.ChangeFeedOptions{Continuation: &readers[0].token}
		resp, err := c.ReadChangeFeed(testCtx(t), &o)
		require.NoError(t, err)
		assert.Equal(t, 304, resp.RawResponse.StatusCode)
		assert.Empty(t, resp.Items)
		assert.NotEmpty(t, resp.ContinuationToken, "a caught-up read still returns a continuation")
	})
}
