package funchost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

func startCosmos(t *testing.T) *testCosmos {
	t.Helper()
	return startCosmosWith(t, 1)
}

// startCosmosWith gives orders that many physical partitions.
func startCosmosWith(t *testing.T, partitions int) *testCosmos {
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

func createContainer(t *testing.T, db *azcosmos.DatabaseClient, id, pk string) *azcosmos.ContainerClient {
	t.Helper()
	_, err := db.CreateContainer(testCtx(t), azcosmos.ContainerProperties{ID: id,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{pk}}}, nil)
	require.NoError(t, err)
	c, err := db.NewContainer(id)
	require.NoError(t, err)
	return c
}

func testCtx(t *testing.T) context.Context {
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
	return map[string]string{"COSMOS": tc.conn, "COSMOS_DATABASE": "commerce", "LEASES": "leases"}
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
}

func newFeedRelay(t *testing.T, reply func(call) int) *feedRelay {
	fr := &feedRelay{calls: make(chan call, 1000), reply: reply}
	fr.relay = newRelay(t, fr.serve)
	return fr
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
	time.Sleep(5 * time.Millisecond) // widen the window for overlapping deliveries
	fr.mu.Lock()
	status := fr.reply(c)
	fr.mu.Unlock()
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
