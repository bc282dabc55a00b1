package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// TestReadFeedDocAgreesWithEncodingJSON: the member walk reads what a full
// decode reads, whatever the member order, spacing, escapes and nesting.
func TestReadFeedDocAgreesWithEncodingJSON(t *testing.T) {
	for name, doc := range map[string]string{
		"event": `{"id":"o1-2","orderId":"o1","kind":"event","seq":2,"type":"TaxApplied","at":"2026-12-01T23:29:23.123456Z",` +
			`"data":{"lines":[{"sku":"A","rate":"0.2","tax":10}],"kind":"order","seq":9},"_lsn":41}`,
		"spaced and reordered": " {\n \"_lsn\" : 7 ,\t\"at\": \"2026-12-01T23:29:23+01:00\", \"data\" : [ 1, {\"a\":\"}]\"} ] ," +
			" \"type\" : \"OrderPlaced\", \"seq\" : 1 , \"kind\" : \"event\", \"orderId\" : \"o\\\"2\\u00e9\" }\r\n",
		"escaped strings around": `{"note":"\\\"kind\":\"order\\\\","kind":"event","orderId":"o3","seq":10,"type":"OrderFulfilled",` +
			`"at":"2026-12-01T00:00:00Z","tags":["a,b","c]"],"n":null,"ok":true,"f":-1.5e3,"_lsn":3}`,
		"order version": `{"id":"o4","orderId":"o4","kind":"order","status":"Placed","lines":[{"sku":"A"}],` +
			`"last":{"kind":"event","seq":"not a number"},"_lsn":12}`,
		"no lsn":  `{"kind":"idempotency","orderId":"o5"}`,
		"empty":   `{}`,
		"unicode": `{"kind":"event","orderId":"ordé-6","seq":3,"type":"PaymentCaptured","at":"2026-12-01T00:00:00.5Z","data":{"n":"日本"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var want struct {
				OrderID string          `json:"orderId"`
				Kind    string          `json:"kind"`
				Type    order.EventType `json:"type"`
				Seq     int             `json:"seq"`
				At      time.Time       `json:"at"`
			}
			if err := json.Unmarshal([]byte(doc), &want); err != nil {
				require.NoError(t, json.Unmarshal([]byte(doc), &struct {
					Kind string `json:"kind"`
				}{}), "only an order version may have members an event decode rejects")
			}
			got, err := readFeedDoc([]byte(doc))
			require.NoError(t, err)
			assert.Equal(t, want.Kind, got.Kind)
			if want.Kind != order.KindEvent {
				assert.Equal(t, feedDoc{Kind: want.Kind}, got, "a non-event is only counted")
				return
			}
			assert.Equal(t, want.OrderID, got.OrderID)
			assert.Equal(t, want.Type, got.Type)
			assert.Equal(t, want.Seq, got.Seq)
			assert.True(t, want.At.Equal(got.At), "%s != %s", want.At, got.At)
		})
	}
}

func TestReadFeedDocRejectsWhatIsNotADocument(t *testing.T) {
	for _, doc := range []string{``, `[]`, `"x"`, `{"kind"}`, `{"kind":}`, `{"kind":"event"`, `{"kind":"event",}`,
		`{"kind":"event" "seq":1}`, `{"kind":"ev`, `{"kind":{"a":[1}`, `{"kind":7}`,
		`{"kind":"event","orderId":"o","seq":"1","type":"OrderPlaced","at":"2026-12-01T00:00:00Z"}`,
		`{"kind":"event","orderId":"o","seq":1,"type":"OrderPlaced","at":"yesterday"}`} {
		_, err := readFeedDoc([]byte(doc))
		assert.Error(t, err, doc)
	}
}

func TestOrderTrackKeepsSeqOrderWhateverTheArrival(t *testing.T) {
	var o orderTrack
	for _, seq := range []int{2, 1, 4, 3} {
		typ := order.TaxApplied
		if seq == 4 {
			typ = order.OrderFulfilled
		}
		o.add(trackedEvent{seq: seq, typ: typ})
		assert.Equal(t, seq == 4 || o.final, o.final, "final once the highest seq is a final event")
	}
	seqs := []int{}
	for _, e := range o.events {
		seqs = append(seqs, e.seq)
	}
	assert.Equal(t, []int{1, 2, 3, 4}, seqs)
	assert.True(t, o.final)
}

func TestContinuationLSNs(t *testing.T) {
	token := `{"version":1,"resourceId":"AQAAAIAAAAI=","continuation":[{"minInclusive":"","maxExclusive":"80","continuationToken":"\"36\""},` +
		`{"minInclusive":"80","maxExclusive":"FF","continuationToken":"\"12\""}]}`
	at, err := continuationLSNs(token)
	require.NoError(t, err)
	assert.Equal(t, []rangeLSN{{"", 36}, {"80", 12}}, at)
	for _, bad := range []string{`"36"`, `{"continuation":[]}`, `{"continuation":[{"continuationToken":"\"x\""}]}`} {
		_, err := continuationLSNs(bad)
		assert.Error(t, err, bad)
	}
}

func leaseJSON(id, token, min string, lsn int) []byte {
	cont := fmt.Sprintf(`{"continuation":[{"minInclusive":%q,"continuationToken":"\"%d\""}]}`, min, lsn)
	b, _ := json.Marshal(map[string]string{"id": id, "LeaseToken": token, "ContinuationToken": cont})
	return b
}

// TestUnreadCountsTheRangesPagesAfterTheCheckpoint: LSNs are the
// container's, so a lease's lag is what the tracker read from the lease's
// own range on pages that began at or after its checkpoint, summed over the
// stage's leases.
func TestUnreadCountsTheRangesPagesAfterTheCheckpoint(t *testing.T) {
	tr := newTrackerState()
	for _, p := range []struct {
		r    string
		from uint64
		docs int
	}{{"", 0, 3}, {"80", 0, 2}, {"C0", 0, 0}, {"", 10, 0}, {"", 10, 4}, {"80", 10, 5}, {"", 20, 1}, {"C0", 20, 0}} {
		tr.addPage(p.r, p.from, p.docs)
	}
	for _, l := range [][]byte{
		leaseJSON("tax-0", "0", "", 30), leaseJSON("tax-1", "1", "80", 30), leaseJSON("tax-2", "2", "C0", 0), // caught up
		leaseJSON("fulfil-0", "0", "", 10), leaseJSON("fulfil-1", "1", "80", 4), // "" 4+1 after 10, "80": 5 after 4 (the first page straddles)
		leaseJSON("payment-0", "0", "", 5), leaseJSON("payment-9", "9", "E0", 3), // a range the tracker does not read
		[]byte(`{"id":"publish-0","LeaseToken":"0","ContinuationToken":"not a token"}`),
	} {
		require.NoError(t, tr.addLease(l))
	}
	p := tr.progress()
	assert.Equal(t, map[string]int{"tax-": 0, "fulfil-": 10}, p.unread)
	line := sample{at: time.Now(), prog: p}.line(time.Now(), 0)
	assert.Contains(t, line, "unread tax 0 payment - fulfil 10 publish -")
}

func TestDocsAfter(t *testing.T) {
	pages := []pageMark{{0, 3}, {10, 7}, {20, 8}}
	for lsn, want := range map[uint64]int{0: 8, 5: 5, 10: 5, 11: 1, 20: 1, 25: 0} {
		assert.Equal(t, want, docsAfter(pages, lsn), lsn)
	}
}

// TestFeedReaderSaysWhenItIsBehind reads a two-range container of the
// emulator page by page with the tracker's client: behind while a range
// returned a full page, every page told with where it began, every
// document handed over once.
func TestFeedReaderSaysWhenItIsBehind(t *testing.T) {
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0", ContainerPartitions: map[string]int{"orders": 2}})
	require.NoError(t, err)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := newFeedClient(srv.ConnectionString())
	require.NoError(t, err)
	_, err = client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: "db"}, nil)
	require.NoError(t, err)
	db, _ := client.NewDatabase("db")
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "orders",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/orderId"}}}, nil)
	require.NoError(t, err)
	orders, _ := db.NewContainer("orders")
	const n = 40
	for i := range n {
		id := fmt.Sprintf("o%d", i)
		doc := fmt.Appendf(nil, `{"id":%q,"orderId":%q,"kind":"order"}`, id, id)
		_, err := orders.CreateItem(ctx, azcosmos.NewPartitionKeyString(id), doc, nil)
		require.NoError(t, err)
	}
	byRange, docs := map[string][]pageMark{}, 0
	kinds := map[string]int{}
	f := &feedReader{c: orders, page: 8, pageRead: func(r string, from uint64, n int) {
		byRange[r] = append(byRange[r], pageMark{from, n})
	}}
	rounds := 0
	for behind := true; behind; rounds++ {
		require.Less(t, rounds, n, "the reader finishes")
		behind, err = f.read(ctx, func(doc []byte) error {
			d, err := readFeedDoc(doc)
			kinds[d.Kind]++
			docs++
			return err
		})
		require.NoError(t, err)
	}
	assert.Equal(t, n, docs)
	assert.Equal(t, map[string]int{"order": n}, kinds)
	require.Len(t, f.ranges, 2)
	require.Len(t, byRange, 2, "pages of both ranges")
	for r, pages := range byRange {
		assert.Zero(t, pages[0].from, "the first page of %q begins at the start", r)
		for i, p := range pages {
			assert.LessOrEqual(t, p.docs, 8, "at most a page")
			if i > 0 {
				assert.Greater(t, p.from, pages[i-1].from, "each page begins after the one before")
			}
		}
	}
	assert.GreaterOrEqual(t, rounds, n/2/8, "a range gives at most a page a round")
	behind, err := f.read(ctx, func([]byte) error { t.Error("read again"); return nil })
	require.NoError(t, err)
	assert.False(t, behind, "caught up")
}

// benchDocs is a change feed's mix: an order version and an event.
var benchDocs = [][]byte{
	[]byte(`{"id":"ord-000042","orderId":"ord-000042","kind":"order","status":"Paid","customerId":"c-7","currency":"USD",` +
		`"lines":[{"sku":"SKU-001","name":"Widget","quantity":2,"unitPrice":4999,"taxCategory":"standard","taxRate":"0.2","tax":2000}],` +
		`"shipTo":{"country":"FR","region":"IDF","postalCode":"75001"},"subtotal":9998,"tax":2000,"total":11998,"version":3,` +
		`"updatedAt":"2026-12-01T23:29:23.123456Z","_rid":"dGVzdAAAAAAAAAAAAAAAAA==","_self":"dbs/x/colls/y/docs/z/",` +
		`"_etag":"\"0000a1b2-0000-0000-0000-000000000000\"","_attachments":"attachments/","_ts":1764631763,"_lsn":1042}`),
	[]byte(`{"id":"ord-000042-3","orderId":"ord-000042","kind":"event","seq":3,"type":"PaymentCaptured","at":"2026-12-01T23:29:23.123456Z",` +
		`"correlationId":"5b7c","data":{"paymentId":"pay-1","amount":11998,"currency":"USD"},` +
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","_rid":"dGVzdAAAAAAAAAAAAAAAAA==",` +
		`"_self":"dbs/x/colls/y/docs/z/","_etag":"\"0000a1b2-0000-0000-0000-000000000000\"","_attachments":"attachments/","_ts":1764631763,"_lsn":1043}`),
}

// BenchmarkAddOrderDoc is the tracker's cost per document of the feed.
func BenchmarkAddOrderDoc(b *testing.B) {
	tr := newTrackerState()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := tr.addOrderDoc(benchDocs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
