package cosmos_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// containerWith creates a container with a partition key definition and
// throughput.
func (e *env) containerWith(t *testing.T, pk azcosmos.PartitionKeyDefinition, tp azcosmos.ThroughputProperties) *azcosmos.ContainerClient {
	t.Helper()
	id := "c-" + randomID()
	_, err := e.db.CreateContainer(testCtx(t), azcosmos.ContainerProperties{ID: id, PartitionKeyDefinition: pk},
		&azcosmos.CreateContainerOptions{ThroughputProperties: &tp})
	require.NoError(t, err)
	c, err := e.db.NewContainer(id)
	require.NoError(t, err)
	return c
}

func orderKey() azcosmos.PartitionKeyDefinition {
	return azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}
}

// orderIDs returns n distinct order ids.
func orderIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("order-%03d", i)
	}
	return out
}

func TestContractThroughputSetsFeedRanges(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		tests := []struct {
			name string
			tp   azcosmos.ThroughputProperties
			min  int
		}{
			{"manual 40000", azcosmos.NewManualThroughputProperties(40000), 4},
			{"autoscale max 20000", azcosmos.NewAutoscaleThroughputProperties(20000), 2},
			{"manual 400", azcosmos.NewManualThroughputProperties(400), 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ranges := wholeRange(t, e.containerWith(t, orderKey(), tc.tp))
				assert.GreaterOrEqual(t, len(ranges), tc.min)
				sort.Slice(ranges, func(i, j int) bool { return ranges[i].MinInclusive < ranges[j].MinInclusive })
				assert.Equal(t, "", ranges[0].MinInclusive)
				assert.Equal(t, "FF", ranges[len(ranges)-1].MaxExclusive)
				for i := 1; i < len(ranges); i++ {
					assert.Equal(t, ranges[i-1].MaxExclusive, ranges[i].MinInclusive, "the ranges tile the EPK space")
				}
			})
		}
	})
}

// TestContractReadManyAcrossPartitions proves that the emulator places
// keys where the SDK's own EPK says: ReadManyItems sends each item only
// to the range the SDK computed for it.
func TestContractReadManyAcrossPartitions(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		defs := map[string]azcosmos.PartitionKeyDefinition{
			"hash v2": orderKey(),
			"hash v1": {Paths: []string{"/orderId"}, Version: 1},
		}
		for name, def := range defs {
			t.Run(name, func(t *testing.T) {
				c := e.containerWith(t, def, azcosmos.NewManualThroughputProperties(40000))
				require.GreaterOrEqual(t, len(wholeRange(t, c)), 4)
				ids := orderIDs(60)
				var want []azcosmos.ItemIdentity
				for _, o := range ids {
					seedEvents(t, c, 1, o)
					want = append(want, azcosmos.ItemIdentity{ID: o + ":1", PartitionKey: azcosmos.NewPartitionKeyString(o)})
				}
				resp, err := c.ReadManyItems(testCtx(t), want, nil)
				require.NoError(t, err)
				assert.Equal(t, len(ids), len(resp.Items), "every item found in the range the SDK routed it to")
			})
		}
	})
}

func TestContractReadManyHierarchicalAcrossPartitions(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		def := azcosmos.PartitionKeyDefinition{Kind: azcosmos.PartitionKeyKindMultiHash, Paths: []string{"/tenant", "/orderId"}, Version: 2}
		c := e.containerWith(t, def, azcosmos.NewManualThroughputProperties(30000))
		var want []azcosmos.ItemIdentity
		for i, o := range orderIDs(30) {
			tenant := fmt.Sprintf("t%d", i%4)
			pk := azcosmos.NewPartitionKeyString(tenant).AppendString(o)
			doc := map[string]any{"id": o, "tenant": tenant, "orderId": o}
			_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, doc), nil)
			require.NoError(t, err)
			want = append(want, azcosmos.ItemIdentity{ID: o, PartitionKey: pk})
		}
		resp, err := c.ReadManyItems(testCtx(t), want, nil)
		require.NoError(t, err)
		assert.Equal(t, len(want), len(resp.Items))
	})
}

func TestContractChangeFeedPerFeedRange(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.containerWith(t, orderKey(), azcosmos.NewManualThroughputProperties(40000))
		ids := orderIDs(40)
		seedEvents(t, c, 2, ids...)
		readers := newReaders(t, c, azcosmos.ChangeFeedOptions{MaxItemCount: 7})
		require.GreaterOrEqual(t, len(readers), 4)
		seen := map[string]int{}
		nonEmpty := 0
		for _, r := range readers {
			got := r.next(t)
			if len(got) > 0 {
				nonEmpty++
			}
			for _, id := range got {
				seen[id]++
			}
		}
		assert.Len(t, seen, 2*len(ids), "every item, from exactly one range")
		for id, n := range seen {
			assert.Equal(t, 1, n, id)
		}
		assert.Greater(t, nonEmpty, 1, "items spread over several ranges")
	})
}

func TestContractCrossPartitionQueries(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.containerWith(t, orderKey(), azcosmos.NewManualThroughputProperties(40000))
		ids := orderIDs(20)
		seedEvents(t, c, 2, ids...)

		items, _ := queryAll(t, c, "SELECT * FROM c WHERE c.seq = 2", azcosmos.NewPartitionKey(), nil)
		assert.Len(t, items, len(ids), "a filter fans out and merges")

		counts, _ := queryAll(t, c, "SELECT VALUE COUNT(1) FROM c", azcosmos.NewPartitionKey(), nil)
		total := 0
		for _, raw := range counts {
			var n int
			require.NoError(t, json.Unmarshal(raw, &n))
			total += n
		}
		assert.Equal(t, 2*len(ids), total, "partial counts, one per partition, add up")

		ordered, _ := queryAll(t, c, "SELECT * FROM c WHERE c.orderId = 'order-001' ORDER BY c.seq", azcosmos.NewPartitionKeyString("order-001"), nil)
		assert.Equal(t, []int{1, 2}, seqs(t, ordered), "ORDER BY within one partition key is served")
		ordered, _ = queryAll(t, c, "SELECT * FROM c WHERE c.orderId = 'order-002' ORDER BY c.seq DESC", azcosmos.NewPartitionKey(), nil)
		assert.Equal(t, []int{2, 1}, seqs(t, ordered), "a filter that fixes the partition key targets one partition")

		for _, q := range []string{"SELECT * FROM c ORDER BY c.seq", "SELECT TOP 3 * FROM c", "SELECT COUNT(1) AS n FROM c", "SELECT * FROM c OFFSET 1 LIMIT 2"} {
			pager := c.NewQueryItemsPager(q, azcosmos.NewPartitionKey(), nil)
			_, err := pager.NextPage(testCtx(t))
			require.Equal(t, http.StatusBadRequest, statusOf(err), q)
			re := responseError(t, err)
			assert.Equal(t, "1004", re.RawResponse.Header.Get("x-ms-substatus"), q)
			body := errorBody(t, err)
			assert.Contains(t, body["message"], "can not be directly served by the gateway", q)
			assert.Contains(t, body["additionalErrorInfo"], "queryInfo", q)
		}

		off := false
		pager := c.NewQueryItemsPager("SELECT * FROM c", azcosmos.NewPartitionKey(), &azcosmos.QueryOptions{EnableCrossPartitionQuery: &off})
		_, err := pager.NextPage(testCtx(t))
		assert.Equal(t, http.StatusBadRequest, statusOf(err), "cross-partition queries disabled")
	})
}

func TestContractQueryMetrics(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		seedEvents(t, c, 3, "o1")
		pager := c.NewQueryItemsPager("SELECT * FROM c WHERE c.seq >= 2", azcosmos.NewPartitionKeyString("o1"),
			&azcosmos.QueryOptions{PopulateIndexMetrics: true})
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		require.NotNil(t, page.QueryMetrics)
		assert.Contains(t, *page.QueryMetrics, "retrievedDocumentCount=")
		assert.Contains(t, *page.QueryMetrics, "outputDocumentCount=2")
		require.NotNil(t, page.IndexMetrics)
		raw, err := base64.StdEncoding.DecodeString(*page.IndexMetrics)
		require.NoError(t, err)
		var usage map[string][]map[string]any
		require.NoError(t, json.Unmarshal(raw, &usage))
		require.Len(t, usage["UtilizedSingleIndexes"], 1)
		assert.Equal(t, "/seq/?", usage["UtilizedSingleIndexes"][0]["IndexSpec"])
	})
}

func TestContractTypeCheckingFunctions(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/pk")
		pk := azcosmos.NewPartitionKeyString("p")
		values := map[string]any{"null": nil, "bool": true, "number": 1.5, "string": "s", "array": []any{1}, "object": map[string]any{"a": 1}}
		for id, v := range values {
			_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, map[string]any{"id": id, "pk": "p", "v": v}), nil)
			require.NoError(t, err)
		}
		_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, map[string]any{"id": "missing", "pk": "p"}), nil)
		require.NoError(t, err)
		tests := map[string][]string{
			"IS_NULL": {"null"}, "IS_BOOL": {"bool"}, "IS_NUMBER": {"number"}, "IS_STRING": {"string"},
			"IS_ARRAY": {"array"}, "IS_OBJECT": {"object"}, "IS_PRIMITIVE": {"bool", "null", "number", "string"},
		}
		for fn, want := range tests {
			items, _ := queryAll(t, c, "SELECT VALUE c.id FROM c WHERE "+fn+"(c.v)", pk, nil)
			var got []string
			for _, raw := range items {
				var id string
				require.NoError(t, json.Unmarshal(raw, &id))
				got = append(got, id)
			}
			assert.ElementsMatch(t, want, got, fn)
		}
	})
}

func TestContractItemIDRules(t *testing.T) {
	forEachTarget(t, func(t *testing.T, e *env) {
		c := e.container(t, "/orderId")
		pk := azcosmos.NewPartitionKeyString("o1")
		for _, id := range []string{"a/b", `a\b`, "a?b", "a#b", strings.Repeat("x", 1024)} {
			_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, item{ID: id, OrderID: "o1"}), nil)
			assert.Equal(t, http.StatusBadRequest, statusOf(err), "id %.20q", id)
		}
		for _, id := range []string{strings.Repeat("x", 1023), "a b:c|d", "ünïcode"} {
			_, err := c.CreateItem(testCtx(t), pk, mustJSON(t, item{ID: id, OrderID: "o1"}), nil)
			require.NoError(t, err, "id %.20q", id)
			_, err = c.ReadItem(testCtx(t), pk, id, nil)
			assert.NoError(t, err, "id %.20q reads back", id)
		}
	})
}

// pkRangeJSON is one range as the pkranges resource lists it.
type pkRangeJSON struct {
	ID           string   `json:"id"`
	MinInclusive string   `json:"minInclusive"`
	MaxExclusive string   `json:"maxExclusive"`
	Parents      []string `json:"parents"`
}

// serverRanges reads a container's pkranges straight from the endpoint:
// azcosmos caches the routing map process-wide and refreshes it only when
// a request meets a 410, so ReadFeedRanges can lag behind a split.
func serverRanges(t *testing.T, e *env, c *azcosmos.ContainerClient) []pkRangeJSON {
	t.Helper()
	return serverRangesIn(t, e, e.db.ID(), c.ID())
}

func serverRangesIn(t *testing.T, e *env, dbID, id string) []pkRangeJSON {
	t.Helper()
	resp := signedGet(t, e, "pkranges", "dbs/"+dbID+"/colls/"+id, "/pkranges", nil)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		PartitionKeyRanges []pkRangeJSON
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.PartitionKeyRanges
}

// signedGet sends a GET signed with the account key to link+suffix.
func signedGet(t *testing.T, e *env, resType, link, suffix string, headers map[string]string) *http.Response {
	t.Helper()
	date := time.Now().UTC().Format(http.TimeFormat)
	key, err := base64.StdEncoding.DecodeString(e.key)
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("get\n" + resType + "\n" + link + "\n" + strings.ToLower(date) + "\n\n"))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, strings.TrimSuffix(e.endpoint, "/")+"/"+link+suffix, nil)
	require.NoError(t, err)
	req.Header.Set("x-ms-date", date)
	req.Header.Set("x-ms-version", "2020-07-15")
	req.Header.Set("Authorization", url.QueryEscape("type=master&ver=1.0&sig="+sig))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	return resp
}
