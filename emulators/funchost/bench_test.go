package funchost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/internal/feedpage"
)

// eventPage is a change feed page as the emulator serves it: maxItems
// compact documents of the size the pipeline's events have.
func eventPage(n int) [][]byte {
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = fmt.Appendf(nil, `{"id":"ord-%06d-3","orderId":"ord-%06d","kind":"event","type":"TaxApplied","seq":3,`+
			`"at":"2026-12-01T23:29:23.123456Z","data":{"taxCents":1234,"rate":"0.20","region":"FR","lines":[{"sku":"SKU-001","qty":2,"cents":4999}]},`+
			`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","note":"caf\u00e9 \"quoted\" \\ path",`+
			`"_rid":"dGVzdAAAAAAAAAAAAAAAAA==","_self":"dbs/x/colls/y/docs/z/","_etag":"\"0000a1b2-0000-0000-0000-000000000000\"","_attachments":"attachments/","_ts":1764631763,"_lsn":%d}`,
			i, i, 1000+i)
	}
	return docs
}

func BenchmarkDocumentsValue(b *testing.B) {
	docs := eventPage(100)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		documentsValue(docs)
	}
}

// BenchmarkForwardedRequest is one checkout-sized request forwarded to
// the handler and answered by it, one after another from a keep-alive
// client. The handler is another process: its CPU is not in the figures.
func BenchmarkForwardedRequest(b *testing.B) {
	h, _ := startHost(b, stageApp(b, forwardingHostJSON, httpFunctions, nil), newRelay(b, nil), nil)
	body := strings.Repeat(`{"sku":"SKU-001","qty":1},`, 20)
	b.ReportAllocs()
	for b.Loop() {
		resp, got := do(b, http.MethodPost, h.URL()+"/api/hooks/__conn", body, nil)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d %s", resp.StatusCode, got)
		}
	}
}

// BenchmarkHandlerOutput is the handler's log at info under load: chunks
// of zerolog lines from its stdout pipe, printed on a console that is a
// file (each write a system call, as on a terminal or a pipe).
func BenchmarkHandlerOutput(b *testing.B) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := &lineWriter{con: &console{w: f}, prefix: "handler: "}
	var chunk []byte
	for i := range 40 {
		chunk = fmt.Appendf(chunk, `{"level":"info","function":"ApplyTax","invocation_id":"7f0c2a4e-1b7d-4c55-9a55-%012d","order_id":"ord-%06d","ru":10.29,"time":"2026-12-01T23:29:23Z","message":"event appended"}`+"\n", i, i)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		w.Write(chunk) //nolint:errcheck // never fails
	}
}

// BenchmarkChangeFeedDelivery is one event document through a listener:
// written to a 4-partition container, read from the change feed,
// delivered to the handler in a batch and checkpointed. The documents are
// written 100 at a time by 4 writers, so batches fill as under load.
func BenchmarkChangeFeedDelivery(b *testing.B) {
	tc := startCosmosWith(b, 4)
	var delivered atomic.Int64
	all := make(chan struct{})
	fr := newFeedRelay(b, func(c call) int {
		if delivered.Add(int64(len(c.Docs))) == int64(b.N) {
			close(all)
		}
		return http.StatusOK
	})
	go func() {
		for range fr.calls { // keep the relay from blocking on its record
		}
	}()
	root := stageApp(b, forwardingHostJSON, map[string]string{"ApplyTax": triggerFn(``, "")}, nil)
	startHost(b, root, fr.relay, tc.settings(), fastPoll)
	docs := eventPage(100)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < b.N; i += 4 {
				id := fmt.Sprintf("b-%d", i)
				doc := bytes.Replace(docs[i%len(docs)], []byte(`"orderId":"ord-`), []byte(`"orderId":"`+id+`-`), 1)
				doc = bytes.Replace(doc, []byte(`"id":"ord-`), []byte(`"id":"`+id+`-`), 1)
				var d struct {
					OrderID string `json:"orderId"`
				}
				_ = json.Unmarshal(doc, &d)
				if _, err := tc.orders.CreateItem(context.Background(), azcosmos.NewPartitionKeyString(d.OrderID), doc, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatalf("delivered %d of %d", delivered.Load(), b.N)
	}
}

// BenchmarkReadChangeFeedPage is a listener's read of a full page of 100
// event documents from the in-process emulator, both sides of the HTTP
// exchange: with the host's client, whose pages feedpage splits, over TCP
// and through the emulator's in-process transport (as in devstack), and
// with a plain azcosmos client, which decodes every document.
func BenchmarkReadChangeFeedPage(b *testing.B) {
	tc := startCosmosWith(b, 1)
	for i, doc := range eventPage(100) {
		_, err := tc.orders.CreateItem(context.Background(), azcosmos.NewPartitionKeyString(fmt.Sprintf("ord-%06d", i)), doc, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	inProcess := hostOptionsWith(tc.srv.Transport())
	for name, opts := range map[string]*azcosmos.ClientOptions{"host": triggerClientOptions, "host-inproc": inProcess, "sdk": nil} {
		b.Run(name, func(b *testing.B) {
			c, ranges := ordersFeed(b, tc.conn, opts)
			b.ReportAllocs()
			for b.Loop() {
				ctx, page := feedpage.Capture(context.Background())
				resp, err := c.ReadChangeFeed(ctx, &azcosmos.ChangeFeedOptions{FeedRange: &ranges[0], MaxItemCount: 100})
				if err != nil {
					b.Fatal(err)
				}
				if n := len(page.Documents(resp)); n != 100 {
					b.Fatalf("%d documents", n)
				}
			}
		})
	}
}

// BenchmarkIdleChangeFeedPoll is a listener's poll of a caught-up lease
// (the emulator answers 304), the request an idle host makes most: over
// TCP and through the emulator's in-process transport.
func BenchmarkIdleChangeFeedPoll(b *testing.B) {
	tc := startCosmosWith(b, 1)
	_, err := tc.orders.CreateItem(context.Background(), azcosmos.NewPartitionKeyString("ord-000000"), eventPage(1)[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	for name, opts := range map[string]*azcosmos.ClientOptions{"tcp": triggerClientOptions, "inproc": hostOptionsWith(tc.srv.Transport())} {
		b.Run(name, func(b *testing.B) {
			c, ranges := ordersFeed(b, tc.conn, opts)
			resp, err := c.ReadChangeFeed(context.Background(), &azcosmos.ChangeFeedOptions{FeedRange: &ranges[0]})
			if err != nil || len(resp.Items) != 1 {
				b.Fatalf("first page: %d items, %v", len(resp.Items), err)
			}
			caughtUp := resp.ContinuationToken
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.ReadChangeFeed(context.Background(), &azcosmos.ChangeFeedOptions{Continuation: &caughtUp})
				if err != nil || len(resp.Items) != 0 {
					b.Fatalf("poll: %d items, %v", len(resp.Items), err)
				}
			}
		})
	}
}

// hostOptionsWith are the host's client options with transport t.
func hostOptionsWith(t policy.Transporter) *azcosmos.ClientOptions {
	o := *triggerClientOptions
	o.Transport = t
	return &o
}

// ordersFeed is the orders container through a client with opts, and its
// feed ranges.
func ordersFeed(b *testing.B, conn string, opts *azcosmos.ClientOptions) (*azcosmos.ContainerClient, []azcosmos.FeedRange) {
	client, err := azcosmos.NewClientFromConnectionString(conn, opts)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := client.NewContainer("commerce", "orders")
	ranges, err := c.ReadFeedRanges(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return c, ranges
}
