package funchost

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cosmosProxy passes the host's Cosmos DB requests to the emulator, calling
// see with each one first (it may hold the request). It returns the
// connection string to give the host.
func cosmosProxy(t *testing.T, tc *testCosmos, see func(*http.Request)) string {
	t.Helper()
	target, err := url.Parse(tc.srv.Endpoint())
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the emulator names its endpoint after Host: keep the SDK on the proxy
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		see(r)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(tc.conn, tc.srv.Endpoint(), srv.URL+"/", 1)
}

func isFeedRead(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/colls/orders/docs") && r.Header.Get("A-IM") != ""
}

func isLeaseWrite(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/colls/leases/docs/")
}

// TestNextPageIsReadWhileTheCheckpointIsWritten holds the first lease write
// after a full page's delivery (the batch's checkpoint) at the emulator
// until the next change feed read arrives: the host reads on while the
// checkpoint waits, instead of after it.
func TestNextPageIsReadWhileTheCheckpointIsWritten(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "a", "b")
	fr := newFeedRelay(t, ok)
	var delivered atomic.Bool
	fr.hold = func() { delivered.Store(true) }
	readOn := make(chan struct{})
	var sawRead, heldOne sync.Once
	overlapped := make(chan bool, 1)
	conn := cosmosProxy(t, tc, func(r *http.Request) {
		switch {
		case !delivered.Load():
		case isFeedRead(r):
			sawRead.Do(func() { close(readOn) })
		case isLeaseWrite(r):
			heldOne.Do(func() {
				select {
				case <-readOn:
					overlapped <- true
				case <-time.After(10 * time.Second):
					overlapped <- false
				}
			})
		}
	})
	settings := tc.settings()
	settings["COSMOS"] = conn
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"maxItemsPerInvocation":2`, "")}, nil)
	startHost(t, root, fr.relay, settings, fastPoll)

	assert.ElementsMatch(t, []string{"a", "b"}, fr.next(t).Docs)
	select {
	case ok := <-overlapped:
		assert.True(t, ok, "the next page was read only after the checkpoint was written")
	case <-time.After(30 * time.Second):
		t.Fatal("no lease write after the delivery")
	}
	tc.insert(t, "c")
	assert.Equal(t, []string{"c"}, fr.next(t).Docs, "the page read ahead is followed by the next one")
	require.Eventually(t, func() bool { return tc.lease(t, "tax-0").ContinuationToken != "" }, 10*time.Second, 20*time.Millisecond)
}

// TestNextBatchIsDeliveredWhileTheCheckpointIsWritten holds the first
// batch's checkpoint (a full page) at the emulator until the second batch
// has reached the handler: one batch is in flight at a time, but the next
// one does not wait for the last one's lease write.
func TestNextBatchIsDeliveredWhileTheCheckpointIsWritten(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "a")
	fr := newFeedRelay(t, ok)
	var delivered atomic.Int32
	var insertOnce sync.Once
	secondBatch := make(chan struct{})
	fr.hold = func() {
		switch delivered.Add(1) {
		case 1: // before the first batch is answered, so the next read finds b
			insertOnce.Do(func() { tc.insert(t, "b") })
		case 2:
			close(secondBatch)
		}
	}
	var heldOne sync.Once
	overlapped := make(chan bool, 1)
	conn := cosmosProxy(t, tc, func(r *http.Request) {
		if delivered.Load() == 0 || !isLeaseWrite(r) {
			return
		}
		heldOne.Do(func() {
			select {
			case <-secondBatch:
				overlapped <- true
			case <-time.After(10 * time.Second):
				overlapped <- false
			}
		})
	})
	settings := tc.settings()
	settings["COSMOS"] = conn
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"maxItemsPerInvocation":1`, "")}, nil)
	startHost(t, root, fr.relay, settings, fastPoll)

	assert.Equal(t, []string{"a"}, fr.next(t).Docs)
	assert.Equal(t, []string{"b"}, fr.next(t).Docs)
	select {
	case ok := <-overlapped:
		assert.True(t, ok, "the second batch was delivered only after the first one's checkpoint was written")
	case <-time.After(30 * time.Second):
		t.Fatal("no lease write after the first delivery")
	}
	assert.Equal(t, 0, int(fr.maxIn.Load()-1), "one batch in flight at a time")
}

// TestAfterAShortPageTheCheckpointComesFirst: a page shorter than
// maxItemsPerInvocation drained the feed, so the next read waits for the
// checkpoint (reading at once would mostly find nothing and cost a read).
// The checkpoint is held a moment at the emulator, in which no read may come.
func TestAfterAShortPageTheCheckpointComesFirst(t *testing.T) {
	tc := startCosmos(t)
	tc.insert(t, "a")
	fr := newFeedRelay(t, ok)
	var delivered atomic.Bool
	fr.hold = func() { delivered.Store(true) }
	var mu sync.Mutex
	var events []string
	note := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	read := make(chan struct{})
	var sawRead, heldOne sync.Once
	conn := cosmosProxy(t, tc, func(r *http.Request) {
		switch {
		case !delivered.Load():
		case isFeedRead(r):
			note("read")
			sawRead.Do(func() { close(read) })
		case isLeaseWrite(r):
			heldOne.Do(func() {
				select {
				case <-read:
				case <-time.After(300 * time.Millisecond): // a read in flight would have come by now
				}
			})
			note("lease write")
		}
	})
	settings := tc.settings()
	settings["COSMOS"] = conn
	root := stageApp(t, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(`,"maxItemsPerInvocation":5`, "")}, nil)
	startHost(t, root, fr.relay, settings, fastPoll)

	assert.Equal(t, []string{"a"}, fr.next(t).Docs)
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("no read after the delivery")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "lease write", events[0], "the checkpoint before the next read: %v", events)
}
