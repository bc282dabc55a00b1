package cosmos_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// restartable starts emulators on one data directory, one after another.
type restartable struct {
	t    *testing.T
	opts cosmos.Options
	srv  *cosmos.Server
	hc   *http.Client
}

func (r *restartable) start() target {
	r.t.Helper()
	srv, err := cosmos.Start(r.opts)
	require.NoError(r.t, err)
	r.srv, r.hc = srv, httpClient(srv.TLSConfig())
	return target{name: "durable", endpoint: srv.Endpoint(), key: srv.Key(), http: r.hc}
}

func (r *restartable) stop() {
	require.NoError(r.t, r.srv.Close())
}

func TestRestartKeepsEverything(t *testing.T) {
	r := &restartable{t: t, opts: cosmos.Options{DataDir: t.TempDir(), TLS: true}}
	first := newClient(t, r.start(), cosmos.DefaultKey)
	ctx := testCtx(t)
	_, err := first.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, err := first.NewDatabase("db")
	require.NoError(t, err)
	for _, id := range []string{"kept", "dropped"} {
		_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: id, PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}, nil)
		require.NoError(t, err)
	}
	kept, err := db.NewContainer("kept")
	require.NoError(t, err)
	seedEvents(t, kept, 3, "o1")
	_, err = kept.DeleteItem(ctx, azcosmos.NewPartitionKeyString("o1"), "o1:2", nil)
	require.NoError(t, err)
	readers := newReaders(t, kept, azcosmos.ChangeFeedOptions{})
	require.Equal(t, []string{"o1:3", "o1:1"}, readAllRanges(t, readers))
	dropped, err := db.NewContainer("dropped")
	require.NoError(t, err)
	_, err = dropped.Delete(ctx, nil)
	require.NoError(t, err)
	r.stop()

	second := newClient(t, r.start(), cosmos.DefaultKey)
	defer r.stop()
	kept, err = second.NewContainer("db", "kept")
	require.NoError(t, err)
	var it item
	require.NoError(t, json.Unmarshal(readItem(t, kept, azcosmos.NewPartitionKeyString("o1"), "o1:3"), &it))
	assert.Equal(t, 3, it.Seq)
	_, err = kept.ReadItem(ctx, azcosmos.NewPartitionKeyString("o1"), "o1:2", nil)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "a delete survives a restart")
	gone, err := second.NewContainer("db", "dropped")
	require.NoError(t, err)
	_, err = gone.Read(ctx, nil)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "a dropped container stays dropped")

	seedEvents(t, kept, 1, "o2")
	for _, rd := range readers {
		rd.c = kept
	}
	assert.Equal(t, []string{"o2:1"}, readAllRanges(t, readers), "continuations from before the restart resume")
	all := readAllRanges(t, newReaders(t, kept, azcosmos.ChangeFeedOptions{}))
	assert.Equal(t, []string{"o1:3", "o1:1", "o2:1"}, all, "the change feed keeps its order")
}

func TestRestartKeepsPartitionsSplitsAndOffers(t *testing.T) {
	r := &restartable{t: t, opts: cosmos.Options{DataDir: t.TempDir()}}
	tg := r.start()
	first := newClient(t, tg, cosmos.DefaultKey)
	ctx := testCtx(t)
	auto := azcosmos.NewAutoscaleThroughputProperties(4000)
	_, err := first.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, &azcosmos.CreateDatabaseOptions{ThroughputProperties: &auto})
	require.NoError(t, err)
	db, err := first.NewDatabase("db")
	require.NoError(t, err)
	manual := azcosmos.NewManualThroughputProperties(20000)
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "orders", PartitionKeyDefinition: orderKey()}, &azcosmos.CreateContainerOptions{ThroughputProperties: &manual})
	require.NoError(t, err)
	orders, err := db.NewContainer("orders")
	require.NoError(t, err)
	_, err = orders.ReplaceThroughput(ctx, azcosmos.NewManualThroughputProperties(30000), nil)
	require.NoError(t, err)
	_, err = r.srv.Split("db", "orders", "1")
	require.NoError(t, err)
	ids := orderIDs(30)
	seedEvents(t, orders, 1, ids...)
	before, err := r.srv.Ranges("db", "orders")
	require.NoError(t, err)
	require.Len(t, before, 4, "2 at 20,000 RU/s, a third at 30,000, a fourth by the split")
	r.stop()

	tg = r.start()
	defer r.stop()
	second := newClient(t, tg, cosmos.DefaultKey)
	after, err := r.srv.Ranges("db", "orders")
	require.NoError(t, err)
	assert.Equal(t, before, after, "ranges survive a restart")
	orders, err = second.NewContainer("db", "orders")
	require.NoError(t, err)
	read, err := orders.ReadThroughput(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, int32(30000), manualOf(t, read))
	db, err = second.NewDatabase("db")
	require.NoError(t, err)
	shared, err := db.ReadThroughput(ctx, nil)
	require.NoError(t, err)
	maxRU, _ := shared.ThroughputProperties.AutoscaleMaxThroughput()
	assert.Equal(t, int32(4000), maxRU)

	e := &env{target: tg, db: db}
	status, substatus := rawFeedStatus(t, e, orders, "1")
	assert.Equal(t, http.StatusGone, status, "a split survives a restart")
	assert.Equal(t, "1002", substatus)
	var want []azcosmos.ItemIdentity
	for _, o := range ids {
		want = append(want, azcosmos.ItemIdentity{ID: o + ":1", PartitionKey: azcosmos.NewPartitionKeyString(o)})
	}
	resp, err := orders.ReadManyItems(ctx, want, nil)
	require.NoError(t, err)
	assert.Equal(t, len(ids), len(resp.Items), "items are placed in the same ranges after a restart")
	assert.Len(t, readAllRanges(t, newReaders(t, orders, azcosmos.ChangeFeedOptions{})), len(ids))
}
