package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// testCosmos is an emulator with database "commerce", container "orders"
// (/orderId) and container "leases" (/id).
type testCosmos struct {
	srv    *cosmos.Server
	conn   string
	orders *azcosmos.ContainerClient
	leases *azcosmos.ContainerClient
	db     *azcosmos.DatabaseClient
}

func startCosmos(t testing.TB) *testCosmos {
	t.Helper()
	return startCosmosWith(t, 1)
}

// startCosmosWith gives orders that many physical partitions.
func startCosmosWith(t testing.TB, partitions int) *testCosmos {
	t.Helper()
	s, err := cosmos.Start(cosmos.Options{ContainerPartitions: map[string]int{"orders": partitions}})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	client, err := azcosmos.NewClientFromConnectionString(s.ConnectionString(), nil)
	require.NoError(t, err)
	ctx := testCtx(t)
	_, err = client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "commerce"}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase("commerce")
	require.NoError(t, err)
	tc := &testCosmos{srv: s, conn: s.ConnectionString(), db: db}
	tc.orders = createContainer(t, db, "orders", "/orderId")
	tc.leases = createContainer(t, db, "leases", "/id")
	return tc
}

func createContainer(t testing.TB, db *azcosmos.DatabaseClient, id, pk string) *azcosmos.ContainerClient {
	t.Helper()
	_, err := db.CreateContainer(testCtx(t), azcosmos.ContainerProperties{ID: id,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{pk}}}, nil)
	require.NoError(t, err)
	c, err := db.NewContainer(id)
	require.NoError(t, err)
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (tc *testCosmos) insert(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		doc := fmt.Sprintf(`{"id":%q,"orderId":%q,"type":"OrderPlaced"}`, id, id)
		_, err := tc.orders.CreateItem(testCtx(t), azcosmos.NewPartitionKeyString(id), []byte(doc), nil)
		require.NoError(t, err)
	}
}

func (tc *testCosmos) lease(t *testing.T, id string) leaseDoc {
	t.Helper()
	resp, err := tc.leases.ReadItem(testCtx(t), azcosmos.NewPartitionKeyString(id), id, nil)
	require.NoError(t, err)
	var d leaseDoc
	require.NoError(t, json.Unmarshal(resp.Value, &d))
	return d
}

func (tc *testCosmos) settings() map[string]string {
	return map[string]string{"COSMOS": tc.conn, "COSMOS_DATABASE": "commerce", "LEASES": "leases", "AzureWebJobsStorage": storageConn}
}

// triggerFn is a cosmosDBTrigger function.json with short lease timings;
// feedPollDelay is a minute so that only Config.FeedPollDelay keeps the
// tests fast. extra is added to the binding, retry is the retry section.
func triggerFn(extra, retry string) string {
	fj := `{"bindings":[{"type":"cosmosDBTrigger","direction":"in","name":"documents","connection":"COSMOS",
		"databaseName":"%COSMOS_DATABASE%","containerName":"orders","leaseContainerName":"%LEASES%",
		"leaseContainerPrefix":"tax-","startFromBeginning":true,"feedPollDelay":60000,
		"leaseExpirationInterval":2000,"leaseRenewInterval":400,"leaseAcquireInterval":100` + extra + `}]`
	if retry != "" {
		fj += `,"retry":` + retry
	}
	return fj + "}"
}

func fastPoll(c *Config) { c.FeedPollDelay = 20 * time.Millisecond }

// call is one invocation as the handler saw it.
type call struct {
	Pid, InvocationID, ContentType string
	Path                           string
	Docs                           []string
	Retry                          *retryContext
	RetryRaw                       json.RawMessage
	Sys                            sysMetadata
	At                             time.Time
}

// feedRelay records invocations and answers with reply(call)'s status.
type feedRelay struct {
	*relay
	calls    chan call
	inFlight atomic.Int32
	maxIn    atomic.Int32
	mu       sync.Mutex
	reply    func(call) int
	hold     func() // if set, runs before each invocation is answered
}

func newFeedRelay(t testing.TB, reply func(call) int) *feedRelay {
	fr := &feedRelay{calls: make(chan call, 1000), reply: reply}
	fr.relay = newRelay(t, fr.serve)
	return fr
}

// holdUntilLeaseWritten keeps every invocation open until a lease document
// has been written (renewed, or taken) while it was in flight, polling with
// a deadline. By then every other host has tried to acquire the lease
// several times, so a host delivering a range another host owns would
// overlap an open invocation and show in maxIn.
func (fr *feedRelay) holdUntilLeaseWritten(t *testing.T, tc *testCosmos) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.hold = func() {
		before := tc.leaseETags(t)
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if !maps.Equal(before, tc.leaseETags(t)) {
				return
			}
			if time.Now().After(deadline) {
				t.Error("no lease was written within 10s of an invocation")
				return
			}
		}
	}
}

// leaseETags maps each lease document to its ETag.
func (tc *testCosmos) leaseETags(t *testing.T) map[string]string {
	out := map[string]string{}
	pager := tc.leases.NewQueryItemsPager("SELECT c.id, c._etag FROM c", azcosmos.NewPartitionKey(), nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Errorf("read leases: %v", err)
			return out
		}
		for _, raw := range page.Items {
			var d struct {
				ID   string `json:"id"`
				ETag string `json:"_etag"`
			}
			if err := json.Unmarshal(raw, &d); err == nil {
				out[d.ID] = d.ETag
			}
		}
	}
	return out
}

func (fr *feedRelay) setReply(reply func(call) int) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.reply = reply
}

func (fr *feedRelay) serve(w http.ResponseWriter, r *http.Request) {
	n := fr.inFlight.Add(1)
	defer fr.inFlight.Add(-1)
	for m := fr.maxIn.Load(); n > m && !fr.maxIn.CompareAndSwap(m, n); m = fr.maxIn.Load() {
	}
	c, err := decodeCall(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fr.mu.Lock()
	status, hold := fr.reply(c), fr.hold
	fr.mu.Unlock()
	if hold != nil {
		hold()
	}
	fr.calls <- c
	if status == notJSON {
		io.WriteString(w, `{"Outputs":{}}`) // 200 without Content-Type: application/json
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"Outputs":{},"Logs":["processed `+strings.Join(c.Docs, ",")+`"],"ReturnValue":null}`)
}

func decodeCall(r *http.Request) (call, error) {
	c := call{Pid: r.Header.Get("X-Handler-Pid"), InvocationID: r.Header.Get(headerInvocationID),
		ContentType: r.Header.Get("Content-Type"), Path: r.URL.Path, At: time.Now()}
	var req invocationRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return c, err
	}
	docs, err := unwrapDocuments(req.Data["documents"])
	if err != nil {
		return c, err
	}
	for _, d := range docs {
		c.Docs = append(c.Docs, d.ID)
	}
	if err := json.Unmarshal(req.Metadata["sys"], &c.Sys); err != nil {
		return c, err
	}
	if raw, ok := req.Metadata["RetryContext"]; ok {
		c.RetryRaw = raw
		if err := json.Unmarshal(raw, &c.Retry); err != nil {
			return c, err
		}
	}
	return c, nil
}

// unwrapDocuments decodes Data.documents the way the handler must: unwrap
// while the value is a JSON string, then decode the array.
func unwrapDocuments(raw json.RawMessage) ([]struct {
	ID string `json:"id"`
}, error) {
	for len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = json.RawMessage(s)
	}
	var docs []struct {
		ID string `json:"id"`
	}
	return docs, json.Unmarshal(raw, &docs)
}

// next waits for the next invocation.
func (fr *feedRelay) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-fr.calls:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no invocation within 30s")
		return call{}
	}
}

// until collects invocations until every id has been seen.
func (fr *feedRelay) until(t *testing.T, ids ...string) []call {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var calls []call
	for len(want) > 0 {
		c := fr.next(t)
		calls = append(calls, c)
		for _, d := range c.Docs {
			delete(want, d)
		}
	}
	return calls
}

func ok(call) int { return http.StatusOK }

// notJSON makes the relay answer 200 with a body that is not application/json.
const notJSON = 0

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
