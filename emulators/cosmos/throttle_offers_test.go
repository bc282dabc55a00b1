package cosmos

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// keyPerRange finds a partition key value owned by each live range of a
// container: range id → key.
func keyPerRange(t *testing.T, srv *Server, db, coll string) map[string]string {
	t.Helper()
	c, err := srv.store.container(db, coll)
	require.NoError(t, err)
	rt := c.routing()
	keys := map[string]string{}
	for i := 0; len(keys) < len(rt.Live) && i < 10000; i++ {
		key := "k" + strconv.Itoa(i)
		id := rt.owner(c.pk.effectivePK([]any{key})).ID
		if _, ok := keys[id]; !ok {
			keys[id] = key
		}
	}
	require.Len(t, keys, len(rt.Live))
	return keys
}

// budgetRates maps range id → the RU/s of its budget.
func budgetRates(srv *Server) map[string]float64 {
	out := map[string]float64{}
	for _, b := range srv.Budgets() {
		out[b.RangeID] = b.RUPerSec
	}
	return out
}

func TestManualThroughputIsSpentPerPartition(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "big", nil, manual(20000))
	keys := keyPerRange(t, srv, "db", "big")
	require.Len(t, keys, 2, "20,000 RU/s needs two physical partitions")
	var hot, cold string
	for id, key := range keys {
		if hot == "" {
			hot = key
		} else {
			cold = key
		}
		status, _ := readStatusKey(t, c, key)
		require.Equal(t, http.StatusNotFound, status)
		assert.InDelta(t, 10000, budgetRates(srv)[id], 0.01, "each partition gets half the offer")
	}
	for i := range 21 { // 21 × 495 RU: past one partition's 10,000
		fillKey(t, c, hot, "f"+strconv.Itoa(i))
	}
	status, _ := readStatusKey(t, c, hot)
	assert.Equal(t, http.StatusTooManyRequests, status, "the hot partition spent its budget")
	status, _ = readStatusKey(t, c, cold)
	assert.Equal(t, http.StatusNotFound, status, "the other partition keeps its own")
}

func TestAutoscaleIsDividedOverPartitions(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	tp := azcosmos.NewAutoscaleThroughputProperties(20000)
	c := makeContainer(t, client, "db", "auto", nil, &tp)
	keys := keyPerRange(t, srv, "db", "auto")
	require.Len(t, keys, 2)
	for _, key := range keys {
		status, _ := readStatusKey(t, c, key)
		require.Equal(t, http.StatusNotFound, status)
	}
	budgets := srv.Budgets()
	require.Len(t, budgets, 2)
	for _, b := range budgets {
		assert.InDelta(t, 10000, b.RUPerSec, 0.01, "each partition serves up to half the maximum")
		assert.InDelta(t, 1000, b.ScaledTo, 0.01, "and idles at 10% of its share")
	}
}

func TestReplacedThroughputIsTheNewBudget(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "manual", nil, manual(400))
	fill(t, c, "a")
	status, _ := readStatus(t, c)
	require.Equal(t, http.StatusTooManyRequests, status)

	_, err := c.ReplaceThroughput(ctxFor(t), azcosmos.NewManualThroughputProperties(1000), nil)
	require.NoError(t, err)
	status, _ = readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status, "the new budget starts full")
	assert.InDelta(t, 1000, budgetRates(srv)["0"], 0.01)
	fill(t, c, "b")
	fill(t, c, "c") // 1000 − 1 − 990: 9 RU left
	status, _ = readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status, "1,000 RU/s serves what 400 could not")
	fill(t, c, "d")
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusTooManyRequests, status, "and no more than 1,000")
}

func TestServerlessGetsABudgetOnceThroughputIsSet(t *testing.T) {
	_, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "serverless", nil, nil)
	read, err := c.ReadThroughput(ctxFor(t), nil)
	require.NoError(t, err)
	ru, _ := read.ThroughputProperties.ManualThroughput()
	assert.Equal(t, int32(400), ru, "a container without throughput shows Cosmos DB's default offer")
	fill(t, c, "a")
	fill(t, c, "b")
	status, _ := readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status, "but that offer is not enforced")

	_, err = c.ReplaceThroughput(ctxFor(t), azcosmos.NewManualThroughputProperties(400), nil)
	require.NoError(t, err)
	fill(t, c, "c")
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusTooManyRequests, status, "throughput set by a replace is enforced")
}

func TestSplitDividesTheBudgetOverTheChildren(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "split", nil, manual(400))
	status, _ := readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status)
	require.InDelta(t, 400, budgetRates(srv)["0"], 0.01)

	res, err := srv.Split("db", "split", "0")
	require.NoError(t, err)
	keys := keyPerRange(t, srv, "db", "split")
	hot, cold := keys[res.Children[0].ID], keys[res.Children[1].ID]
	for _, key := range []string{hot, cold} {
		status, _ := readStatusKey(t, c, key)
		require.Equal(t, http.StatusNotFound, status)
	}
	rates := budgetRates(srv)
	assert.InDelta(t, 200, rates[res.Children[0].ID], 0.01, "each child serves half the offer")
	assert.InDelta(t, 200, rates[res.Children[1].ID], 0.01)
	fillKey(t, c, hot, "a") // 495 RU: more than a child's 200
	status, _ = readStatusKey(t, c, hot)
	assert.Equal(t, http.StatusTooManyRequests, status)
	status, _ = readStatusKey(t, c, cold)
	assert.Equal(t, http.StatusNotFound, status)
}

// crossPartitionCharge fills c with ten small items spread over key
// values and returns the charge of a query across every partition.
func crossPartitionCharge(t *testing.T, c *azcosmos.ContainerClient) float32 {
	t.Helper()
	for i := range 10 {
		key := "k" + strconv.Itoa(i)
		_, err := c.CreateItem(ctxFor(t), azcosmos.NewPartitionKeyString(key), []byte(`{"id":"`+key+`","pk":"`+key+`","n":`+strconv.Itoa(i)+`}`), nil)
		require.NoError(t, err)
	}
	pager := c.NewQueryItemsPager("SELECT * FROM c WHERE c.n >= 3", azcosmos.NewPartitionKey(), nil)
	var total float32
	items := 0
	for pager.More() {
		page, err := pager.NextPage(ctxFor(t))
		require.NoError(t, err)
		total += page.RequestCharge
		items += len(page.Items)
	}
	require.Equal(t, 7, items)
	return total
}

func TestCrossPartitionQueryIsCharged(t *testing.T) {
	srv, _, client := frozen(t, Options{NoThrottle: true})
	wide := makeContainer(t, client, "db", "wide", nil, manual(30000))
	ranges, err := srv.Ranges("db", "wide")
	require.NoError(t, err)
	require.Len(t, ranges, 3)
	one := makeContainer(t, client, "db", "one", nil, manual(400))
	fanned := crossPartitionCharge(t, wide)
	assert.Greater(t, fanned, float32(1), "the fan-out carries the charge of the documents it loaded")
	assert.Equal(t, crossPartitionCharge(t, one), fanned, "as much as the same query on one partition")
}

// TestOlderStoresKeepServerlessUnthrottled opens a data directory written
// before offers marked the default (no marker, no flag): a container's
// untouched 400 RU/s offer is taken for the default, an explicit 1,000
// RU/s stays enforced.
func TestOlderStoresKeepServerlessUnthrottled(t *testing.T) {
	dir := t.TempDir()
	srv, _, client := frozen(t, Options{DataDir: dir})
	makeContainer(t, client, "db", "serverless", nil, nil)
	makeContainer(t, client, "db", "manual", nil, manual(1000))
	require.NoError(t, srv.Close())

	db, err := bolt.Open(filepath.Join(dir, "cosmos.db"), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		offers := tx.Bucket(bucketOffers)
		err := offers.ForEach(func(k, v []byte) error {
			var o offer
			require.NoError(t, json.Unmarshal(v, &o))
			o.Default = false
			b, _ := json.Marshal(o)
			return offers.Put(k, b)
		})
		require.NoError(t, err)
		return tx.Bucket(bucketMeta).Delete(keyOfferDefaults)
	}))
	require.NoError(t, db.Close())

	_, _, client = frozen(t, Options{DataDir: dir})
	d, _ := client.NewDatabase("db")
	for id, throttled := range map[string]bool{"serverless": false, "manual": true} {
		c, _ := d.NewContainer(id)
		fill(t, c, "a")
		fill(t, c, "b")
		fill(t, c, "c")
		status, _ := readStatus(t, c)
		assert.Equal(t, throttled, status == http.StatusTooManyRequests, "%s: %d", id, status)
	}
}
