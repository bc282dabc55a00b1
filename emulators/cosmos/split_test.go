package cosmos_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// startServer runs an in-process emulator and returns it with a fresh
// database on it. Splits are an operator action, so these tests need the
// emulator itself, not just an endpoint.
func startServer(t *testing.T, opts cosmos.Options) (*cosmos.Server, *env) {
	t.Helper()
	srv, err := cosmos.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	tg := target{name: "in-process", endpoint: srv.Endpoint(), key: srv.Key(), http: httpClient(srv.TLSConfig())}
	return srv, newEnv(t, tg)
}

// drainFeed reads a composite change feed token until a read returns no
// items, and returns the ids read and the token to resume from.
func drainFeed(ctx context.Context, c *azcosmos.ContainerClient, opts azcosmos.ChangeFeedOptions) ([]string, string, error) {
	var ids []string
	for range 1000 {
		resp, err := c.ReadChangeFeed(ctx, &opts)
		if err != nil {
			return ids, "", err
		}
		if resp.ContinuationToken != "" {
			token := resp.ContinuationToken
			opts.Continuation, opts.FeedRange = &token, nil
		}
		if len(resp.Items) == 0 {
			return ids, *opts.Continuation, nil
		}
		for _, raw := range resp.Items {
			ids = append(ids, idOf(raw))
		}
	}
	return ids, "", errors.New("the change feed never caught up")
}

func idOf(raw []byte) string {
	var it struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &it)
	return it.ID
}

func TestSplitRetiresTheRangeForItsChildren(t *testing.T) {
	srv, e := startServer(t, cosmos.Options{})
	c := e.container(t, "/orderId")
	seedEvents(t, c, 1, orderIDs(10)...)
	whole := wholeRange(t, c)[0]
	before, token, err := drainFeed(testCtx(t), c, azcosmos.ChangeFeedOptions{FeedRange: &whole})
	require.NoError(t, err)
	require.Len(t, before, 10)

	res, err := srv.Split(e.db.ID(), c.ID(), "0")
	require.NoError(t, err)
	assert.Equal(t, "0", res.Parent)
	ranges := serverRanges(t, e, c)
	require.Len(t, ranges, 2)
	for i, r := range ranges {
		assert.Equal(t, []string{"0"}, r.Parents)
		assert.Equal(t, res.Children[i].ID, r.ID)
	}
	assert.Equal(t, ranges[0].MaxExclusive, ranges[1].MinInclusive)

	status, substatus := rawFeedStatus(t, e, c, "0")
	assert.Equal(t, http.StatusGone, status, "the old range id is gone")
	assert.Equal(t, "1002", substatus)

	seedEvents(t, c, 1, orderIDs(20)[10:]...)
	after, _, err := drainFeed(testCtx(t), c, azcosmos.ChangeFeedOptions{Continuation: &token})
	require.NoError(t, err, "the old range's continuation resumes on its children")
	assert.ElementsMatch(t, eventIDs(orderIDs(20)[10:]), after, "every later item, none before the continuation")
	assert.Len(t, wholeRange(t, c), 2, "after the 410 the SDK's routing map has the children")

	_, err = srv.Split(e.db.ID(), c.ID(), "0")
	require.Error(t, err, "a gone range cannot be split again")
}

func eventIDs(orders []string) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o + ":1"
	}
	return out
}

// rawFeedStatus reads the change feed of one range id straight from the
// endpoint, bypassing the SDK's routing map, and returns status and
// substatus.
func rawFeedStatus(t *testing.T, e *env, c *azcosmos.ContainerClient, rangeID string) (int, string) {
	t.Helper()
	resp := signedGet(t, e, "docs", "dbs/"+e.db.ID()+"/colls/"+c.ID(), "/docs", map[string]string{
		"A-IM": "Incremental Feed", "x-ms-documentdb-partitionkeyrangeid": rangeID,
	})
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-ms-substatus")
}

// TestSplitUnderConcurrentWritesAndFeedReads splits ranges while writers
// create items and a reader follows the change feed with one composite
// continuation, as the Functions host does: every item is delivered.
func TestSplitUnderConcurrentWritesAndFeedReads(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(t *testing.T) cosmos.Options
	}{
		{"memory", func(*testing.T) cosmos.Options { return cosmos.Options{Partitions: 2} }},
		{"durable", func(t *testing.T) cosmos.Options { return cosmos.Options{Partitions: 2, DataDir: t.TempDir()} }},
	} {
		t.Run(tc.name, func(t *testing.T) { splitUnderLoad(t, tc.opts(t)) })
	}
}

func splitUnderLoad(t *testing.T, opts cosmos.Options) {
	srv, e := startServer(t, opts)
	c := e.container(t, "/orderId")
	require.Len(t, serverRanges(t, e, c), 2)
	const writers, perWriter = 4, 60
	ctx := testCtx(t)
	written := make(chan string, writers*perWriter)
	halfway := make(chan struct{})
	var once sync.Once
	g, gctx := errgroup.WithContext(ctx)
	for w := range writers {
		g.Go(func() error { return writeOrders(gctx, c, w, perWriter, written, halfway, &once) })
	}
	splitDone := make(chan error, 1)
	go func() {
		<-halfway
		splitDone <- splitAll(srv, e.db.ID(), c.ID())
	}()

	seen := map[string]int{}
	whole := azcosmos.FeedRange{MinInclusive: "", MaxExclusive: "FF"}
	feedOpts := azcosmos.ChangeFeedOptions{FeedRange: &whole, MaxItemCount: 25}
	writersDone := make(chan error, 1)
	go func() { writersDone <- g.Wait() }()
	want := map[string]bool{}
	finished := false
	for deadline := time.Now().Add(45 * time.Second); ; {
		require.True(t, time.Now().Before(deadline), "the change feed did not deliver every item: %d of %d", len(seen), len(want))
		ids, token, err := drainFeed(ctx, c, feedOpts)
		require.NoError(t, err)
		feedOpts.Continuation, feedOpts.FeedRange = &token, nil
		for _, id := range ids {
			seen[id]++
		}
		select {
		case err := <-writersDone:
			require.NoError(t, err)
			finished = true
		default:
		}
		if finished {
			for len(written) > 0 {
				want[<-written] = true
			}
			if len(want) == writers*perWriter && covers(seen, want) {
				break
			}
		}
	}
	require.NoError(t, <-splitDone)
	assert.Len(t, seen, writers*perWriter, "nothing but what was written")
	assert.GreaterOrEqual(t, len(serverRanges(t, e, c)), 4, "both ranges split while traffic ran")
	assertReadMany(t, c, want)
}

func covers(seen map[string]int, want map[string]bool) bool {
	for id := range want {
		if seen[id] == 0 {
			return false
		}
	}
	return true
}

// writeOrders creates n items, one order each; it closes halfway (once)
// after the first half of its items.
func writeOrders(ctx context.Context, c *azcosmos.ContainerClient, w, n int, written chan<- string, halfway chan struct{}, once *sync.Once) error {
	for i := range n {
		o := fmt.Sprintf("w%d-o%03d", w, i)
		doc := fmt.Sprintf(`{"id":%q,"orderId":%q,"seq":1}`, o+":1", o)
		if _, err := c.CreateItem(ctx, azcosmos.NewPartitionKeyString(o), []byte(doc), nil); err != nil {
			return fmt.Errorf("create %s: %w", o, err)
		}
		written <- o + ":1"
		if i == n/2 {
			once.Do(func() { close(halfway) })
		}
	}
	return nil
}

// splitAll splits every range the container has.
func splitAll(srv *cosmos.Server, db, coll string) error {
	ranges, err := srv.Ranges(db, coll)
	if err != nil {
		return err
	}
	for _, r := range ranges {
		if _, err := srv.Split(db, coll, r.ID); err != nil {
			return err
		}
	}
	return nil
}

func assertReadMany(t *testing.T, c *azcosmos.ContainerClient, want map[string]bool) {
	t.Helper()
	var ids []azcosmos.ItemIdentity
	for id := range want {
		ids = append(ids, azcosmos.ItemIdentity{ID: id, PartitionKey: azcosmos.NewPartitionKeyString(id[:len(id)-2])})
	}
	resp, err := c.ReadManyItems(testCtx(t), ids, nil)
	require.NoError(t, err, "ReadMany meets the split ranges (410) and re-routes")
	assert.Equal(t, len(want), len(resp.Items))
}

func TestControlEndpointSplits(t *testing.T) {
	srv, e := startServer(t, cosmos.Options{})
	c := e.container(t, "/orderId")
	ctl := cosmos.ControlClient{Endpoint: srv.Endpoint(), Key: srv.Key()}
	res, err := ctl.Split(testCtx(t), cosmos.SplitRequest{Database: e.db.ID(), Container: c.ID(), Range: "0"})
	require.NoError(t, err)
	assert.Equal(t, "0", res.Parent)
	assert.Len(t, serverRanges(t, e, c), 2)

	tests := []struct {
		name   string
		ctl    cosmos.ControlClient
		req    cosmos.SplitRequest
		status int
	}{
		{"gone range", ctl, cosmos.SplitRequest{Database: e.db.ID(), Container: c.ID(), Range: "0"}, http.StatusGone},
		{"unknown range", ctl, cosmos.SplitRequest{Database: e.db.ID(), Container: c.ID(), Range: "99"}, http.StatusNotFound},
		{"unknown container", ctl, cosmos.SplitRequest{Database: e.db.ID(), Container: "nope", Range: "1"}, http.StatusNotFound},
		{"missing fields", ctl, cosmos.SplitRequest{Database: e.db.ID()}, http.StatusBadRequest},
		{"wrong key", cosmos.ControlClient{Endpoint: srv.Endpoint(), Key: "d3Jvbmc="}, cosmos.SplitRequest{Database: e.db.ID(), Container: c.ID(), Range: "1"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.ctl.Split(testCtx(t), tc.req)
			var ce *cosmos.ControlError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.status, ce.Status)
			assert.NotEmpty(t, ce.Detail)
		})
	}
}

func TestPartitionsOptionSetsTheCount(t *testing.T) {
	_, e := startServer(t, cosmos.Options{Partitions: 3, ContainerPartitions: map[string]int{"orders": 5}})
	assert.Len(t, serverRanges(t, e, e.container(t, "/orderId")), 3)
	_, err := e.db.CreateContainer(testCtx(t), azcosmos.ContainerProperties{ID: "orders", PartitionKeyDefinition: orderKey()}, nil)
	require.NoError(t, err)
	assert.Len(t, serverRangesIn(t, e, e.db.ID(), "orders"), 5)
	_, err = cosmos.Start(cosmos.Options{Partitions: -1})
	assert.Error(t, err)
	_, err = cosmos.Start(cosmos.Options{Consistency: "Sloppy"})
	assert.Error(t, err)
}

// TestPKRangesIncrementalFeed follows the pkranges change feed azcosmos
// refreshes its routing map with: If-None-Match is the etag last read.
func TestPKRangesIncrementalFeed(t *testing.T) {
	srv, e := startServer(t, cosmos.Options{Partitions: 2})
	c := e.container(t, "/orderId")
	link := "dbs/" + e.db.ID() + "/colls/" + c.ID()
	first := signedGet(t, e, "pkranges", link, "/pkranges", map[string]string{"A-IM": "Incremental Feed"})
	require.Equal(t, http.StatusOK, first.StatusCode)
	etag := first.Header.Get("etag")
	_ = first.Body.Close()
	caughtUp := signedGet(t, e, "pkranges", link, "/pkranges", map[string]string{"A-IM": "Incremental Feed", "If-None-Match": etag})
	_ = caughtUp.Body.Close()
	assert.Equal(t, http.StatusNotModified, caughtUp.StatusCode, "nothing changed")

	_, err := srv.Split(e.db.ID(), c.ID(), "1")
	require.NoError(t, err)
	changed := signedGet(t, e, "pkranges", link, "/pkranges", map[string]string{"A-IM": "Incremental Feed", "If-None-Match": etag})
	defer changed.Body.Close()
	require.Equal(t, http.StatusOK, changed.StatusCode)
	assert.NotEqual(t, etag, changed.Header.Get("etag"))
	var body struct {
		PartitionKeyRanges []pkRangeJSON
	}
	require.NoError(t, json.NewDecoder(changed.Body).Decode(&body))
	require.Len(t, body.PartitionKeyRanges, 2, "only the children are new")
	for _, r := range body.PartitionKeyRanges {
		assert.Equal(t, []string{"1"}, r.Parents)
	}
}
