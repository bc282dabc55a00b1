package cosmos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a time source the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// frozen starts an emulator whose throttle and faults read clk, and a
// client that never retries, so each 429 is seen.
func frozen(t *testing.T, opts Options) (*Server, *clock, *azcosmos.Client) {
	t.Helper()
	srv, err := Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	if srv.throttle != nil {
		srv.throttle.now = clk.Now
	}
	srv.faults.now = clk.Now
	cred, err := azcosmos.NewKeyCredential(srv.Key())
	require.NoError(t, err)
	client, err := azcosmos.NewClientWithKey(srv.Endpoint(), cred, &azcosmos.ClientOptions{
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	require.NoError(t, err)
	return srv, clk, client
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newContainer creates database db (with dbTP, if any) and container id
// (with tp, if any), partitioned by /pk.
func makeContainer(t *testing.T, client *azcosmos.Client, db, id string, dbTP, tp *azcosmos.ThroughputProperties) *azcosmos.ContainerClient {
	t.Helper()
	ctx := ctxFor(t)
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: db}, &azcosmos.CreateDatabaseOptions{ThroughputProperties: dbTP})
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		require.NoError(t, err)
	}
	d, err := client.NewDatabase(db)
	require.NoError(t, err)
	_, err = d.CreateContainer(ctx, azcosmos.ContainerProperties{ID: id,
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}},
		&azcosmos.CreateContainerOptions{ThroughputProperties: tp})
	require.NoError(t, err)
	c, err := d.NewContainer(id)
	require.NoError(t, err)
	return c
}

// fill spends 495 RU in one request: a batch of 100 small creates.
func fill(t *testing.T, c *azcosmos.ContainerClient, prefix string) {
	t.Helper()
	fillKey(t, c, "p", prefix)
}

// fillKey is fill in logical partition key.
func fillKey(t *testing.T, c *azcosmos.ContainerClient, key, prefix string) {
	t.Helper()
	b := c.NewTransactionalBatch(azcosmos.NewPartitionKeyString(key))
	for i := range 100 {
		b.CreateItem(fmt.Appendf(nil, `{"id":"%s-%d","pk":%q}`, prefix, i, key), nil)
	}
	resp, err := c.ExecuteTransactionalBatch(ctxFor(t), b, nil)
	require.NoError(t, err)
	require.True(t, resp.Success)
	require.InDelta(t, 495, resp.RequestCharge, 0.01)
}

// readStatus reads a missing item and returns the status and headers.
func readStatus(t *testing.T, c *azcosmos.ContainerClient) (int, http.Header) {
	t.Helper()
	return readStatusKey(t, c, "p")
}

// readStatusKey is readStatus in logical partition key.
func readStatusKey(t *testing.T, c *azcosmos.ContainerClient, key string) (int, http.Header) {
	t.Helper()
	_, err := c.ReadItem(ctxFor(t), azcosmos.NewPartitionKeyString(key), "missing", nil)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	return re.StatusCode, re.RawResponse.Header
}

func manual(ru int32) *azcosmos.ThroughputProperties {
	tp := azcosmos.NewManualThroughputProperties(ru)
	return &tp
}

func TestProvisionedThroughputThrottlesPerSecond(t *testing.T) {
	_, clk, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "manual", nil, manual(400))
	fill(t, c, "a") // 400 − 495: 95 RU in debt

	status, h := readStatus(t, c)
	require.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "3200", h.Get("x-ms-substatus"))
	assert.Equal(t, "239", h.Get("x-ms-retry-after-ms"), "95 RU at 400 RU/s, rounded up, +1 ms")
	assert.Equal(t, "0.00", h.Get("x-ms-request-charge"))

	clk.advance(200 * time.Millisecond) // 80 RU back: still in debt
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusTooManyRequests, status)
	clk.advance(39 * time.Millisecond)
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusNotFound, status, "after the retry-after the request is served")
}

func TestBudgetIsKeptAcrossSecondsNotBeyondOne(t *testing.T) {
	_, clk, client := frozen(t, Options{})
	c := makeContainer(t, client, "db", "manual", nil, manual(1000))
	status, _ := readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status)
	clk.advance(time.Hour) // an idle hour banks one second, not an hour
	fill(t, c, "a")
	fill(t, c, "b") // 1000 − 990 = 10 RU left
	fill(t, c, "c") // admitted with 10 RU, now 485 in debt
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusTooManyRequests, status)
}

func TestSharedDatabaseThroughputCoversItsContainers(t *testing.T) {
	_, _, client := frozen(t, Options{})
	a := makeContainer(t, client, "shared", "a", manual(400), nil)
	b := makeContainer(t, client, "shared", "b", nil, nil)
	fill(t, a, "a")
	status, _ := readStatus(t, b)
	assert.Equal(t, http.StatusTooManyRequests, status, "b spends the database's budget that a emptied")
}

func TestAutoscaleServesUpToItsMaximum(t *testing.T) {
	srv, _, client := frozen(t, Options{})
	tp := azcosmos.NewAutoscaleThroughputProperties(1000)
	c := makeContainer(t, client, "db", "auto", nil, &tp)
	status, _ := readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status)
	budgets := srv.Budgets()
	require.Len(t, budgets, 1)
	assert.InDelta(t, 100, budgets[0].ScaledTo, 0.01, "idle autoscale runs at 10% of its maximum")

	fill(t, c, "a")
	assert.InDelta(t, 496, srv.Budgets()[0].ScaledTo, 0.01, "it scales to what the last second used")
	fill(t, c, "b") // 1000 − 1 − 990: 9 RU left
	status, _ = readStatus(t, c)
	require.Equal(t, http.StatusNotFound, status)
	fill(t, c, "c")
	status, _ = readStatus(t, c)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.InDelta(t, 1000, srv.Budgets()[0].ScaledTo, 0.01, "and never past its maximum")
	assert.Equal(t, int64(1), srv.Budgets()[0].Throttled)
}

func TestServerlessIsNotThrottledUnlessLimited(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		tp        *azcosmos.ThroughputProperties
		throttled bool
	}{
		{"serverless", Options{}, nil, false},
		{"serverless with a limit", Options{ServerlessRUPerSecond: 100}, nil, true},
		{"provisioned, throttling off", Options{NoThrottle: true}, manual(400), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, client := frozen(t, tc.opts)
			c := makeContainer(t, client, "db", "c", nil, tc.tp)
			fill(t, c, "a") // 495 RU: more than either budget holds
			status, _ := readStatus(t, c)
			assert.Equal(t, tc.throttled, status == http.StatusTooManyRequests, "status %d", status)
		})
	}
}

func TestProvisionIsValidatedAndKept(t *testing.T) {
	dir := t.TempDir()
	srv, _, client := frozen(t, Options{DataDir: dir})
	_, err := client.CreateDatabase(ctxFor(t), azcosmos.DatabaseProperties{ID: "db"}, &azcosmos.CreateDatabaseOptions{ThroughputProperties: manual(350)})
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusBadRequest, re.StatusCode, "below Cosmos DB's 400 RU/s minimum")

	makeContainer(t, client, "db", "kept", nil, manual(400))
	makeContainer(t, client, "db", "serverless", nil, nil)
	replaced := makeContainer(t, client, "db", "replaced", nil, nil)
	_, err = replaced.ReplaceThroughput(ctxFor(t), azcosmos.NewManualThroughputProperties(400), nil)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	_, _, client = frozen(t, Options{DataDir: dir})
	d, _ := client.NewDatabase("db")
	for _, tc := range []struct {
		id        string
		throttled bool
	}{{"kept", true}, {"serverless", false}, {"replaced", true}} {
		c, _ := d.NewContainer(tc.id)
		fill(t, c, "a")
		status, _ := readStatus(t, c)
		assert.Equal(t, tc.throttled, status == http.StatusTooManyRequests, "%s after the restart: %d", tc.id, status)
	}
}
