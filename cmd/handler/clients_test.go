package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
