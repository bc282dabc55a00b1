package cosmos_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// testClock is an emulator clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_800_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ttlContainer creates a container on /orderId with the given defaultTtl
// (nil: time to live off).
func ttlContainer(t *testing.T, e *env, defaultTTL *int32) *azcosmos.ContainerClient {
	t.Helper()
	id := "ttl-" + randomID()
	props := azcosmos.ContainerProperties{ID: id, DefaultTimeToLive: defaultTTL,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}
	_, err := e.db.CreateContainer(testCtx(t), props, nil)
	require.NoError(t, err)
	c, err := e.db.NewContainer(id)
	require.NoError(t, err)
	return c
}

// ttlOnWithoutDefault starts an emulator on a test clock, with no sweeps,
// and creates a container with defaultTtl -1.
func ttlOnWithoutDefault(t *testing.T) (*testClock, *azcosmos.ContainerClient) {
	t.Helper()
	clk := newTestClock()
	_, e := startServer(t, cosmos.Options{Now: clk.Now, SweepInterval: time.Hour})
	on := int32(-1)
	return clk, ttlContainer(t, e, &on)
}

func ttlItem(id string, ttl any) []byte {
	v := map[string]any{"id": id, "orderId": "o1"}
	if ttl != nil {
		v["ttl"] = ttl
	}
	b, _ := json.Marshal(v)
	return b
}

func readable(t *testing.T, c *azcosmos.ContainerClient, id string) bool {
	t.Helper()
	_, err := c.ReadItem(testCtx(t), azcosmos.NewPartitionKeyString("o1"), id, nil)
	if statusOf(err) == http.StatusNotFound {
		return false
	}
	require.NoError(t, err)
	return true
}

func queried(t *testing.T, c *azcosmos.ContainerClient) []string {
	t.Helper()
	var ids []string
	pager := c.NewQueryItemsPager("SELECT c.id FROM c", azcosmos.NewPartitionKeyString("o1"), nil)
	for pager.More() {
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		for _, raw := range page.Items {
			ids = append(ids, idOf(raw))
		}
	}
	return ids
}

func fed(t *testing.T, c *azcosmos.ContainerClient) []string {
	t.Helper()
	return readAllRanges(t, newReaders(t, c, azcosmos.ChangeFeedOptions{}))
}

func TestTTLFollowsTheContainerDefaultAndTheItem(t *testing.T) {
	clk := newTestClock()
	_, e := startServer(t, cosmos.Options{Now: clk.Now, SweepInterval: time.Hour})
	minute := int32(60)
	c := ttlContainer(t, e, &minute)
	ctx := testCtx(t)
	pk := azcosmos.NewPartitionKeyString("o1")
	for id, ttl := range map[string]any{"default": nil, "never": -1, "longer": 120, "shorter": 10} {
		_, err := c.CreateItem(ctx, pk, ttlItem(id, ttl), nil)
		require.NoError(t, err, id)
	}
	assert.ElementsMatch(t, []string{"default", "never", "longer", "shorter"}, queried(t, c))

	clk.advance(10 * time.Second)
	assert.False(t, readable(t, c, "shorter"), "its own ttl of 10 s is up")
	assert.ElementsMatch(t, []string{"default", "never", "longer"}, queried(t, c))
	clk.advance(50 * time.Second)
	assert.False(t, readable(t, c, "default"), "the container's 60 s are up")
	assert.True(t, readable(t, c, "longer"))
	clk.advance(time.Hour)
	assert.ElementsMatch(t, []string{"never"}, queried(t, c), "only ttl -1 outlives them all")
	assert.ElementsMatch(t, []string{"never"}, fed(t, c), "the change feed no longer has them")
	resp, err := c.ReadItem(ctx, pk, "never", nil)
	require.NoError(t, err)
	assert.Contains(t, string(resp.Value), `"ttl":-1`)
}

func TestTTLLastsFromTheLastWrite(t *testing.T) {
	clk, c := ttlOnWithoutDefault(t)
	ctx := testCtx(t)
	pk := azcosmos.NewPartitionKeyString("o1")
	_, err := c.CreateItem(ctx, pk, ttlItem("a", 30), nil)
	require.NoError(t, err)
	_, err = c.CreateItem(ctx, pk, ttlItem("plain", nil), nil)
	require.NoError(t, err)
	clk.advance(20 * time.Second)
	_, err = c.ReplaceItem(ctx, pk, "a", ttlItem("a", 30), nil)
	require.NoError(t, err)
	clk.advance(20 * time.Second)
	assert.True(t, readable(t, c, "a"), "30 s from the replace, not from the create")
	clk.advance(10 * time.Second)
	assert.False(t, readable(t, c, "a"))
	clk.advance(1000 * time.Hour)
	assert.True(t, readable(t, c, "plain"), "defaultTtl -1: an item without ttl never expires")
}

func TestAnExpiredItemIsGoneForWritesToo(t *testing.T) {
	clk, c := ttlOnWithoutDefault(t)
	ctx := testCtx(t)
	pk := azcosmos.NewPartitionKeyString("o1")
	for _, id := range []string{"replace", "patch", "delete", "create", "upsert", "batch"} {
		_, err := c.CreateItem(ctx, pk, ttlItem(id, 5), nil)
		require.NoError(t, err)
	}
	clk.advance(5 * time.Second)

	_, err := c.ReplaceItem(ctx, pk, "replace", ttlItem("replace", nil), nil)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "replace")
	var patch azcosmos.PatchOperations
	patch.AppendSet("/note", "x")
	_, err = c.PatchItem(ctx, pk, "patch", patch, nil)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "patch")
	_, err = c.DeleteItem(ctx, pk, "delete", nil)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "delete")
	created, err := c.CreateItem(ctx, pk, ttlItem("create", nil), nil)
	require.NoError(t, err, "its id is free again")
	assert.Equal(t, http.StatusCreated, created.RawResponse.StatusCode)
	upserted, err := c.UpsertItem(ctx, pk, ttlItem("upsert", nil), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, upserted.RawResponse.StatusCode, "an upsert creates it anew")
	b := c.NewTransactionalBatch(pk)
	b.CreateItem(ttlItem("batch", nil), nil)
	res, err := c.ExecuteTransactionalBatch(ctx, b, nil)
	require.NoError(t, err)
	assert.True(t, res.Success, "a batch create of an expired id commits")

	assert.ElementsMatch(t, []string{"create", "upsert", "batch"}, queried(t, c))
	clk.advance(1000 * time.Hour)
	assert.True(t, readable(t, c, "create"), "written again without ttl, it no longer expires")
}

func TestTTLIsOffWithoutADefault(t *testing.T) {
	clk := newTestClock()
	_, e := startServer(t, cosmos.Options{Now: clk.Now})
	c := ttlContainer(t, e, nil)
	_, err := c.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString("o1"), ttlItem("a", 1), nil)
	require.NoError(t, err)
	clk.advance(1000 * time.Hour)
	assert.True(t, readable(t, c, "a"), "an item's ttl does nothing while the container has no defaultTtl")

	// Turning it on applies to what is there.
	ctx := testCtx(t)
	props, err := c.Read(ctx, nil)
	require.NoError(t, err)
	assert.Nil(t, props.ContainerProperties.DefaultTimeToLive)
	on := int32(-1)
	props.ContainerProperties.DefaultTimeToLive = &on
	_, err = c.Replace(ctx, *props.ContainerProperties, nil)
	require.NoError(t, err)
	props, err = c.Read(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, props.ContainerProperties.DefaultTimeToLive)
	assert.Equal(t, int32(-1), *props.ContainerProperties.DefaultTimeToLive)
	assert.False(t, readable(t, c, "a"), "with time to live on, its ttl of 1 s is long up")
}

func TestTTLOutsideItsRangeIsABadRequest(t *testing.T) {
	_, e := startServer(t, cosmos.Options{})
	on := int32(-1)
	c := ttlContainer(t, e, &on)
	ctx := testCtx(t)
	pk := azcosmos.NewPartitionKeyString("o1")
	for _, ttl := range []any{0, -2, 1.5, "10", 2147483648, false} {
		_, err := c.CreateItem(ctx, pk, ttlItem("bad", ttl), nil)
		require.Equal(t, http.StatusBadRequest, statusOf(err), "ttl %v", ttl)
		var re *azcore.ResponseError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), "which means never expire", "ttl %v", ttl)
	}
	raw := `{"id":"null","orderId":"o1","ttl":null}`
	_, err := c.CreateItem(ctx, pk, []byte(raw), nil)
	assert.Equal(t, http.StatusBadRequest, statusOf(err), "null is not a ttl: leave it out for the default")
	_, err = c.CreateItem(ctx, pk, ttlItem("max", 2147483647), nil)
	require.NoError(t, err)

	for _, def := range []int32{0, -5} {
		props := azcosmos.ContainerProperties{ID: "bad-" + randomID(), DefaultTimeToLive: &def,
			PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}
		_, err := e.db.CreateContainer(ctx, props, nil)
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "defaultTtl %d", def)
		if err != nil {
			assert.True(t, strings.Contains(err.Error(), "defaultTtl"), "%v", err)
		}
	}
}

// TestSweepDeletesExpiredItemsForGood expires an item on a durable
// emulator, lets the sweeper run, and reopens the data directory with the
// clock set back: the item is not there to come back.
func TestSweepDeletesExpiredItemsForGood(t *testing.T) {
	clk := newTestClock()
	r := &restartable{t: t, opts: cosmos.Options{DataDir: t.TempDir(), Now: clk.Now, SweepInterval: 10 * time.Millisecond}}
	tg := r.start()
	ctx := testCtx(t)
	client := newClient(t, tg, tg.key)
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase("db")
	require.NoError(t, err)
	on := int32(-1)
	c := ttlContainer(t, &env{target: tg, client: client, db: db}, &on)
	pk := azcosmos.NewPartitionKeyString("o1")
	for id, ttl := range map[string]any{"gone": 5, "kept": nil} {
		_, err := c.CreateItem(ctx, pk, ttlItem(id, ttl), nil)
		require.NoError(t, err)
	}
	clk.advance(5 * time.Second)
	require.Eventually(t, func() bool { return r.srv.Expired() == 1 }, 30*time.Second, 10*time.Millisecond,
		"the sweeper deletes the expired item")
	r.stop()

	r.opts.Now = func() time.Time { return time.Unix(1_800_000_000, 0) } // before it expired
	r.opts.SweepInterval = time.Hour
	tg = r.start()
	defer r.stop()
	again, err := newClient(t, tg, tg.key).NewContainer("db", c.ID())
	require.NoError(t, err)
	assert.False(t, readable(t, again, "gone"), "deleted for good, not only hidden")
	assert.True(t, readable(t, again, "kept"))
}

// TestSweepFollowsRewritesAndADefaultSwitchedOn: the sweeper deletes what
// expires when a container's time to live is switched on, keeps an item
// rewritten since its first version would have expired, and deletes it
// once its rewrite has expired. A sentinel item that expires last tells
// that a sweep has run past the rewritten item's first expiry.
func TestSweepFollowsRewritesAndADefaultSwitchedOn(t *testing.T) {
	clk := newTestClock()
	srv, e := startServer(t, cosmos.Options{Now: clk.Now, SweepInterval: 5 * time.Millisecond})
	c := ttlContainer(t, e, nil)
	ctx := testCtx(t)
	pk := azcosmos.NewPartitionKeyString("o1")
	put := func(id string, ttl any) {
		t.Helper()
		_, err := c.UpsertItem(ctx, pk, ttlItem(id, ttl), nil)
		require.NoError(t, err)
	}
	swept := func(n int64, why string) {
		t.Helper()
		require.Eventually(t, func() bool { return srv.Expired() == n }, 30*time.Second, 5*time.Millisecond, why)
	}
	put("early", 5)
	put("forever", nil)
	clk.advance(10 * time.Second)
	props, err := c.Read(ctx, nil)
	require.NoError(t, err)
	on := int32(-1)
	props.ContainerProperties.DefaultTimeToLive = &on
	_, err = c.Replace(ctx, *props.ContainerProperties, nil)
	require.NoError(t, err)
	swept(1, "switched on, the item whose ttl is long up is deleted")

	put("rewritten", 5)
	clk.advance(3 * time.Second)
	put("rewritten", 5)
	clk.advance(3 * time.Second) // 6 s after the first write, 3 s after the rewrite
	put("sentinel", 1)
	clk.advance(time.Second)
	swept(2, "the sentinel goes")
	assert.True(t, readable(t, c, "rewritten"), "the rewrite counts, not the first write")
	assert.True(t, readable(t, c, "forever"))

	clk.advance(3 * time.Second)
	swept(3, "5 s after the rewrite it goes")
	assert.False(t, readable(t, c, "rewritten"))
}
