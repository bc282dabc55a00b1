package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/shared/config"
)

// retriesAgainst creates a container on a fresh emulator, injects f on
// it, makes one read with client and reports the status it ended on and
// how many tries the fault saw.
func retriesAgainst(t *testing.T, f cosmos.Fault, client func(conn string) *azcosmos.Client) (int, int64) {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client(srv.ConnectionString())
	_, err = c.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, _ := c.NewDatabase("db")
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "c", PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}}}, nil)
	require.NoError(t, err)
	container, _ := db.NewContainer("c")
	f.Op, f.Container, f.Rate = cosmos.OpRead, "c", 1
	_, err = srv.InjectFault(f)
	require.NoError(t, err)
	_, err = container.ReadItem(ctx, azcosmos.NewPartitionKeyString("x"), "x", nil)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re.StatusCode, srv.Faults()[0].Matched
}

// appClient is the handler's Cosmos DB client.
func appClient(t *testing.T) func(string) *azcosmos.Client {
	return func(conn string) *azcosmos.Client {
		c, err := newCosmosClient(config.Connection{String: conn}, tracing.Provider{})
		require.NoError(t, err)
		return c
	}
}

// appClientQuickBackoff is the handler's client with millisecond backoffs,
// for statuses that carry no retry-after.
func appClientQuickBackoff(t *testing.T) func(string) *azcosmos.Client {
	return func(conn string) *azcosmos.Client {
		opts := cosmosClientOptions(tracing.Provider{})
		opts.Retry.RetryDelay, opts.Retry.MaxRetryDelay = time.Millisecond, 5*time.Millisecond
		c, err := azcosmos.NewClientFromConnectionString(conn, opts)
		require.NoError(t, err)
		return c
	}
}

func TestCosmosClientRetriesThrottlingTenTimes(t *testing.T) {
	status, tries := retriesAgainst(t, cosmos.Fault{Status: http.StatusTooManyRequests, RetryAfter: cosmos.Duration(time.Millisecond)}, appClient(t))
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, int64(10), tries, "one try and nine retries, each after the server's retry-after")
}

func TestCosmosClientRetriesRetryWith(t *testing.T) {
	status, tries := retriesAgainst(t, cosmos.Fault{Status: 449}, appClientQuickBackoff(t))
	assert.Equal(t, 449, status)
	assert.Equal(t, int64(10), tries, "449 is retried like 429 (azcore alone would not)")
}

func TestCosmosClientDoesNotSleepThroughALongRetryAfter(t *testing.T) {
	status, tries := retriesAgainst(t, cosmos.Fault{Status: http.StatusTooManyRequests, RetryAfter: cosmos.Duration(30 * time.Second)}, appClient(t))
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, int64(1), tries, "a retry-after over 2 s goes back to the caller, whose host retries later")
}

// TestCosmosHTTPClientKeepsItsConnections: after a burst of calls in
// flight at once, as many calls again reuse those connections instead of
// dialling new ones (the SDK's default client keeps only 100 idle).
func TestCosmosHTTPClientKeepsItsConnections(t *testing.T) {
	const inFlight = 200
	var dialled atomic.Int64
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/burst" {
			arrived.Done()
			arrived.Wait() // every call of the burst holds its connection at once
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	client := cosmosHTTPClient()
	burst := func(path string) {
		var done sync.WaitGroup
		for range inFlight {
			done.Go(func() {
				resp, err := client.Get(srv.URL + path)
				if assert.NoError(t, err) {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
		}
		done.Wait()
	}
	arrived.Add(inFlight)
	burst("/burst")
	require.Equal(t, int64(inFlight), dialled.Load(), "the burst needs a connection per call")
	burst("/again")
	assert.Equal(t, int64(inFlight), dialled.Load(), "the second round dials nothing")
}

// countedConn counts the writes made on a connection.
type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// writesPerCreate is how many writes one azcosmos CreateItem makes on the
// wire when the client's transport is wrap(a transport counting them).
func writesPerCreate(t *testing.T, wrap func(http.RoundTripper) http.RoundTripper) int64 {
	t.Helper()
	var writes atomic.Int64
	var d net.Dialer
	counting := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countedConn{c, &writes}, nil
	}}
	t.Cleanup(counting.CloseIdleConnections)
	container := emulatorContainer(t, &http.Client{Transport: wrap(counting)})
	writes.Store(0)
	_, err := container.CreateItem(context.Background(), azcosmos.NewPartitionKeyString("o1"), []byte(`{"id":"o1","total":12}`), nil)
	require.NoError(t, err)
	return writes.Load()
}

// emulatorContainer is a container "c" (partition key /id) on a fresh
// emulator, reached through client.
func emulatorContainer(t *testing.T, client *http.Client) *azcosmos.ContainerClient {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	opts := &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: client}}
	c, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), opts)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, _ := c.NewDatabase("db")
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "c", PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}}}, nil)
	require.NoError(t, err)
	container, _ := db.NewContainer("c")
	return container
}

// TestWholeBodiesSendACallInOneWrite: net/http alone sends an azcosmos
// call's headers and body in two writes; through wholeBodies, in one.
func TestWholeBodiesSendACallInOneWrite(t *testing.T) {
	assert.Equal(t, int64(2), writesPerCreate(t, func(rt http.RoundTripper) http.RoundTripper { return rt }),
		"net/http flushes the headers of a body it does not know to be in memory")
	assert.Equal(t, int64(1), writesPerCreate(t, func(rt http.RoundTripper) http.RoundTripper { return wholeBodies{rt} }))
}

// failFirstWrite, once armed, answers the first request with a body with
// 429 (throttled) without sending it, and records the bodies that reach next.
type failFirstWrite struct {
	next   http.RoundTripper
	armed  atomic.Bool
	failed atomic.Bool
	mu     sync.Mutex
	bodies []string
}

func (f *failFirstWrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if !f.armed.Load() || req.ContentLength <= 0 {
		return f.next.RoundTrip(req)
	}
	if !f.failed.Swap(true) {
		_ = req.Body.Close()
		return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}}, Body: http.NoBody, Request: req}, nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(b))
	f.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(b))
	return f.next.RoundTrip(req)
}

// TestWholeBodiesResendTheBodyOnRetry: the SDK's retry of a failed write
// sends the same bytes again, and the item is stored whole.
func TestWholeBodiesResendTheBodyOnRetry(t *testing.T) {
	f := &failFirstWrite{next: http.DefaultTransport}
	container := emulatorContainer(t, &http.Client{Transport: wholeBodies{f}})
	f.armed.Store(true)
	item := `{"id":"o1","total":12}`
	ctx := context.Background()
	_, err := container.CreateItem(ctx, azcosmos.NewPartitionKeyString("o1"), []byte(item), nil)
	require.NoError(t, err)
	assert.True(t, f.failed.Load(), "the first attempt failed")
	assert.Equal(t, []string{item}, f.bodies, "the retry sent the item as the first attempt would have")
	got, err := container.ReadItem(ctx, azcosmos.NewPartitionKeyString("o1"), "o1", nil)
	require.NoError(t, err)
	assert.Contains(t, string(got.Value), `"total":12`)
}

// TestWholeBodiesLeaveTheCallersRequestAlone: RoundTrip reads the body but
// hands the transport a copy of the request, not the caller's.
func TestWholeBodiesLeaveTheCallersRequestAlone(t *testing.T) {
	var sent *http.Request
	rt := wholeBodies{roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		assert.Equal(t, "payload", string(b))
		again, err := r.GetBody()
		require.NoError(t, err)
		b, err = io.ReadAll(again)
		require.NoError(t, err)
		assert.Equal(t, "payload", string(b), "GetBody gives the bytes again")
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})}
	body := io.NopCloser(io.MultiReader(strings.NewReader("payload")))
	req, err := http.NewRequest(http.MethodPost, "http://cosmos.invalid/docs", body)
	require.NoError(t, err)
	req.ContentLength = int64(len("payload"))
	_, err = rt.RoundTrip(req)
	require.NoError(t, err)
	assert.NotSame(t, req, sent)
	assert.True(t, req.Body == body, "the caller's request keeps its body")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
