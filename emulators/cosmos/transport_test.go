package cosmos_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
)

// exchange is one item request as the SDK's transport returned it.
type exchange struct {
	Request          string
	Status           int
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Body             string
}

// recorder records the item requests (…/docs…) passing through next.
type recorder struct {
	next policy.Transporter
	host string // the emulator's host:port, written as HOST
	mu   sync.Mutex
	got  []exchange
}

var timestamps = regexp.MustCompile(`"_ts":\d+`)

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil || !strings.Contains(req.URL.Path, "/docs") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	h := resp.Header.Clone()
	h.Del("Date")
	h.Del("X-Ms-Activity-Id")
	norm := strings.ReplaceAll(timestamps.ReplaceAllString(string(body), `"_ts":0`), r.host, "HOST")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, exchange{Request: req.Method + " " + req.URL.Path + " " + req.Header.Get("If-None-Match"),
		Status: resp.StatusCode, Header: h, ContentLength: resp.ContentLength,
		TransferEncoding: resp.TransferEncoding, Body: norm})
	return resp, nil
}

// itemScenario runs the item requests the local host makes, and the
// refusals it must see, against a fresh emulator reached through
// transport(srv), and returns what the transport answered.
func itemScenario(t *testing.T, transport func(*cosmos.Server) policy.Transporter) []exchange {
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0", ContainerPartitions: map[string]int{"c": 2}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	ctx := testCtx(t)
	setup, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), nil)
	require.NoError(t, err)
	_, err = setup.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, _ := setup.NewDatabase("db")
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "c",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/pk"}}}, nil)
	require.NoError(t, err)

	rec := &recorder{next: transport(srv), host: strings.TrimSuffix(strings.TrimPrefix(srv.Endpoint(), "http://"), "/")}
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), &azcosmos.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: rec, Retry: policy.RetryOptions{MaxRetries: -1}}})
	require.NoError(t, err)
	c, err := client.NewContainer("db", "c")
	require.NoError(t, err)
	itemRequests(ctx, t, srv, c)
	return rec.got
}

func itemRequests(ctx context.Context, t *testing.T, srv *cosmos.Server, c *azcosmos.ContainerClient) {
	pk := azcosmos.NewPartitionKeyString("p")
	pad := strings.Repeat("x", 1500) // a page of two is over net/http's 2 KB: chunked over TCP
	for i := range 3 {
		_, err := c.CreateItem(ctx, pk, fmt.Appendf(nil, `{"id":"a%d","pk":"p","n":%d,"pad":%q}`, i, i, pad), nil)
		require.NoError(t, err)
	}
	_, err := c.ReadItem(ctx, pk, "a0", nil)
	require.NoError(t, err)
	_, err = c.ReadItem(ctx, pk, "missing", nil)
	require.Equal(t, http.StatusNotFound, statusOf(err))
	stale := azcore.ETag(`"stale"`)
	_, err = c.ReplaceItem(ctx, pk, "a0", []byte(`{"id":"a0","pk":"p"}`), &azcosmos.ItemOptions{IfMatchEtag: &stale})
	require.Equal(t, http.StatusPreconditionFailed, statusOf(err))

	_, err = srv.InjectFault(cosmos.Fault{Op: cosmos.OpRead, Container: "c", Status: http.StatusTooManyRequests, Rate: 1})
	require.NoError(t, err)
	_, err = c.ReadItem(ctx, pk, "a1", nil)
	require.Equal(t, http.StatusTooManyRequests, statusOf(err))
	srv.ClearFaults()

	// The change feed of each range, two items a page, continuation by
	// continuation until it answers 304.
	ranges, err := c.ReadFeedRanges(ctx, nil)
	require.NoError(t, err)
	for _, r := range ranges {
		o := azcosmos.ChangeFeedOptions{MaxItemCount: 2, FeedRange: &r}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "the change feed never caught up")
			resp, err := c.ReadChangeFeed(ctx, &o)
			require.NoError(t, err)
			o.FeedRange, o.Continuation = nil, &resp.ContinuationToken
			if len(resp.Items) == 0 {
				break
			}
		}
	}
}

// TestTransportAnswersAsTheListenerDoes makes the same item requests to
// two fresh emulators, one over TCP and one through Server.Transport:
// every answer has the same status, headers, framing and body.
func TestTransportAnswersAsTheListenerDoes(t *testing.T) {
	overTCP := itemScenario(t, func(*cosmos.Server) policy.Transporter { return &http.Client{} })
	inProcess := itemScenario(t, func(s *cosmos.Server) policy.Transporter { return s.Transport() })
	require.NotEmpty(t, overTCP)
	statuses := map[int]bool{}
	for _, x := range overTCP {
		statuses[x.Status] = true
	}
	for _, want := range []int{http.StatusCreated, http.StatusOK, http.StatusNotFound, http.StatusPreconditionFailed,
		http.StatusTooManyRequests, http.StatusNotModified} {
		assert.True(t, statuses[want], "the scenario makes no request answered %d", want)
	}
	assert.Equal(t, overTCP, inProcess)
}
