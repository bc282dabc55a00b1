package cosmos

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// The ServeHTTP benchmarks measure what the emulator spends on one request
// of the kinds the pipeline sends, without the network or an SDK: a
// request is signed as azcosmos signs it and handed to ServeHTTP.

type benchEnv struct {
	srv  *Server
	date string
	sig  map[string]string // "verb link" → Authorization
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	return newBenchEnvWith(b, Options{})
}

func newBenchEnvWith(b *testing.B, opts Options) *benchEnv {
	b.Helper()
	srv, err := Start(opts)
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Close() })
	_, err = srv.store.createDatabase("db", nil)
	require.NoError(b, err)
	props := map[string]any{"id": "items", "partitionKey": map[string]any{"paths": []any{"/pk"}}}
	_, err = srv.store.createContainer("db", props, nil)
	require.NoError(b, err)
	return &benchEnv{srv: srv, date: "Tue, 01 Dec 2026 10:00:00 GMT", sig: map[string]string{}}
}

// request builds a signed request for the docs of the container.
func (e *benchEnv) request(method, path string, body []byte, headers ...string) *http.Request {
	r, _ := http.NewRequest(method, "http://127.0.0.1/"+path, bytes.NewReader(body))
	rt, _ := parseRoute("/" + path)
	key := method + " " + rt.resourceLink
	if _, ok := e.sig[key]; !ok {
		payload := strings.ToLower(method) + "\ndocs\n" + rt.resourceLink + "\n" + strings.ToLower(e.date) + "\n\n"
		e.sig[key] = url.QueryEscape("type=master&ver=1.0&sig=" + e.srv.auth.sign(payload))
	}
	h := r.Header
	h.Set("Authorization", e.sig[key])
	h.Set(hdrDate, e.date)
	h.Set("X-Ms-Version", "2020-07-15")
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Accept", contentTypeJSON)
	h.Set("User-Agent", "azsdk-go-azcosmos/v1.5.0 (go1.26; linux)")
	h.Set("X-Ms-Cosmos-Sdk-Supportedcapabilities", "1")
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return r
}

// sink is a ResponseWriter that keeps the status and discards the body.
type sink struct {
	h      http.Header
	status int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(status int)      { s.status = status }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }

func (e *benchEnv) serve(b *testing.B, w *sink, r *http.Request, body []byte, want int) {
	clear(w.h)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	e.srv.ServeHTTP(w, r)
	if w.status != want {
		b.Fatalf("status %d, want %d", w.status, want)
	}
}

func pkHeader(pk string) string { return `["` + pk + `"]` }

// BenchmarkServeCreate is cosmos-bench's create: a small item, a new
// partition key each time.
func BenchmarkServeCreate(b *testing.B) {
	e := newBenchEnv(b)
	w := &sink{h: http.Header{}}
	r := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := "c1-" + strconv.Itoa(i)
		body := fmt.Appendf(nil, `{"id":%q,"pk":%q,"orderId":"o-%d","seq":%d,"status":"Placed","total":12345}`, id, id, i, i)
		r.Header.Set(hdrPartitionKey, pkHeader(id))
		e.serve(b, w, r, body, http.StatusCreated)
	}
}

// orderBody is an order-sized item like the pipeline's.
func orderBody(id, pk, status string, version int) []byte {
	return fmt.Appendf(nil, `{"id":%q,"pk":%q,"kind":"order","orderId":%q,"status":%q,"version":%d,`+
		`"customerId":"cus_42","currency":"EUR","total":4870,"tax":811,`+
		`"lines":[{"sku":"MUG-CLASSIC","quantity":2,"unitPrice":1200},{"sku":"TEE-BLACK-M","quantity":1,"unitPrice":2470}],`+
		`"shipTo":{"country":"FR","city":"Lyon","postalCode":"69002"},"updatedAt":"2026-12-01T10:00:00.123456789Z"}`,
		id, pk, pk, status, version)
}

// BenchmarkServeStageBatch is a pipeline stage's write: one batch with an
// event document and the order's replacement.
func BenchmarkServeStageBatch(b *testing.B) {
	benchStageBatch(b, newBenchEnv(b))
}

// BenchmarkServeStageBatchDurable is BenchmarkServeStageBatch on a data
// directory: every batch is one journal commit, fsyncs included.
func BenchmarkServeStageBatchDurable(b *testing.B) {
	benchStageBatch(b, newBenchEnvWith(b, Options{DataDir: b.TempDir()}))
}

// BenchmarkServeStageBatchDurableParallel is the durable stage batch
// from 16 concurrent writers, each on orders of its own: the journal
// commits them in groups, as under bench-load.
func BenchmarkServeStageBatchDurableParallel(b *testing.B) { benchDurable(b, func(*benchEnv) {}) }

func benchDurable(b *testing.B, got func(*benchEnv)) {
	e := newBenchEnvWith(b, Options{DataDir: b.TempDir()})
	got(e)
	batch := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil, hdrIsBatch, "True", "X-Ms-Cosmos-Batch-Atomic", "True")
	var writers, seq atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r, w := batch.Clone(batch.Context()), &sink{h: http.Header{}}
		prefix := "ord_" + strconv.FormatInt(writers.Add(1), 10) + "_"
		for pb.Next() {
			i := seq.Add(1)
			pk := prefix + strconv.FormatInt(i%64, 10)
			event := fmt.Appendf(nil, `{"id":"evt_%d","pk":%q,"kind":"event","type":"PaymentCaptured","orderId":%q,"seq":%d,"at":"2026-12-01T10:00:00Z","data":{"amount":4870,"currency":"EUR"}}`, i, pk, pk, i)
			body := fmt.Appendf(nil, `[{"operationType":"Create","resourceBody":%s},{"operationType":"Upsert","resourceBody":%s}]`,
				event, orderBody(pk, pk, "Paid", int(i)))
			r.Header.Set(hdrPartitionKey, pkHeader(pk))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			clear(w.h)
			e.srv.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Errorf("status %d, want 200", w.status)
				return
			}
		}
	})
}

func benchStageBatch(b *testing.B, e *benchEnv) {
	w := &sink{h: http.Header{}}
	const orders = 1000
	create := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil)
	for i := range orders {
		pk := "ord_" + strconv.Itoa(i)
		create.Header.Set(hdrPartitionKey, pkHeader(pk))
		e.serve(b, w, create, orderBody(pk, pk, "Placed", 1), http.StatusCreated)
	}
	r := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil, hdrIsBatch, "True", "X-Ms-Cosmos-Batch-Atomic", "True")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		pk := "ord_" + strconv.Itoa(i%orders)
		event := fmt.Appendf(nil, `{"id":"evt_%d","pk":%q,"kind":"event","type":"PaymentCaptured","orderId":%q,"seq":%d,"at":"2026-12-01T10:00:00Z","data":{"amount":4870,"currency":"EUR"}}`, i, pk, pk, i)
		body := fmt.Appendf(nil, `[{"operationType":"Create","resourceBody":%s},{"operationType":"Replace","id":%q,"resourceBody":%s}]`,
			event, pk, orderBody(pk, pk, "Paid", i+2))
		r.Header.Set(hdrPartitionKey, pkHeader(pk))
		e.serve(b, w, r, body, http.StatusOK)
	}
}

// BenchmarkServeReserveBatch is a stock reservation: create the
// reservation and patch the stock under a filter, on one hot SKU.
func BenchmarkServeReserveBatch(b *testing.B) {
	e := newBenchEnv(b)
	w := &sink{h: http.Header{}}
	create := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil, hdrPartitionKey, pkHeader("MUG"))
	e.serve(b, w, create, []byte(`{"id":"stock","pk":"MUG","sku":"MUG","available":1000000000,"reserved":0}`), http.StatusCreated)
	r := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil, hdrIsBatch, "True", hdrPartitionKey, pkHeader("MUG"))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		body := fmt.Appendf(nil, `[{"operationType":"Create","resourceBody":{"id":"res_ord_%d","pk":"MUG","orderId":"ord_%d","quantity":1}},`+
			`{"operationType":"Patch","id":"stock","resourceBody":{"condition":"FROM c WHERE c.available >= 1","operations":[{"op":"incr","path":"/available","value":-1},{"op":"incr","path":"/reserved","value":1}]}}]`, i, i)
		e.serve(b, w, r, body, http.StatusOK)
	}
}

// BenchmarkServeRead is a point read of an order.
func BenchmarkServeRead(b *testing.B) {
	e := newBenchEnv(b)
	w := &sink{h: http.Header{}}
	create := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil, hdrPartitionKey, pkHeader("ord_1"))
	e.serve(b, w, create, orderBody("ord_1", "ord_1", "Placed", 1), http.StatusCreated)
	r := e.request(http.MethodGet, "dbs/db/colls/items/docs/ord_1", nil, hdrPartitionKey, pkHeader("ord_1"))
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, w, r, nil, http.StatusOK)
	}
}

// BenchmarkServeChangeFeed reads a page of 100 orders from the change feed
// of range 0, as the Functions host's trigger does.
func BenchmarkServeChangeFeed(b *testing.B) {
	e := newBenchEnv(b)
	w := &sink{h: http.Header{}}
	create := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil)
	for i := range 1000 {
		pk := "ord_" + strconv.Itoa(i)
		create.Header.Set(hdrPartitionKey, pkHeader(pk))
		e.serve(b, w, create, orderBody(pk, pk, "Placed", 1), http.StatusCreated)
	}
	r := e.request(http.MethodGet, "dbs/db/colls/items/docs", nil, hdrChangeFeed, "Incremental Feed",
		hdrPKRangeID, "0", hdrMaxItemCount, "100", "If-None-Match", `"500"`)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, w, r, nil, http.StatusOK)
	}
}

// BenchmarkServeChangeFeedOfFour is BenchmarkServeChangeFeed on a
// container of four ranges, as the pipeline's are: the page is read from
// the first range while the other three hold three quarters of the items.
func BenchmarkServeChangeFeedOfFour(b *testing.B) {
	e := newBenchEnv(b)
	c, err := e.srv.store.container("db", "items")
	require.NoError(b, err)
	c.grow(4)
	w := &sink{h: http.Header{}}
	create := e.request(http.MethodPost, "dbs/db/colls/items/docs", nil)
	for i := range 4000 {
		pk := "ord_" + strconv.Itoa(i)
		create.Header.Set(hdrPartitionKey, pkHeader(pk))
		e.serve(b, w, create, orderBody(pk, pk, "Placed", 1), http.StatusCreated)
	}
	r := e.request(http.MethodGet, "dbs/db/colls/items/docs", nil, hdrChangeFeed, "Incremental Feed",
		hdrPKRangeID, c.routing().Live[0].ID, hdrMaxItemCount, "100", "If-None-Match", `"2000"`)
	b.ReportAllocs()
	for b.Loop() {
		e.serve(b, w, r, nil, http.StatusOK)
	}
}

// BenchmarkServeReadMany is checkout's catalog lookup: azcosmos's
// ReadManyItems of three SKUs (catalog partitioned by /sku), one query on
// the range that holds them, with the parameters as the SDK writes them.
// The same cart every time: its parsed query is reused.
func BenchmarkServeReadMany(b *testing.B) {
	benchReadMany(b, func(int) string { return "SKU-9" })
}

// BenchmarkServeReadManyUncached is BenchmarkServeReadMany with a body
// never seen before each time (its third SKU does not exist).
func BenchmarkServeReadManyUncached(b *testing.B) {
	benchReadMany(b, func(i int) string { return "NONE-" + strconv.Itoa(i) })
}

func benchReadMany(b *testing.B, third func(int) string) {
	e := newBenchEnv(b)
	props := map[string]any{"id": "catalog", "partitionKey": map[string]any{"paths": []any{"/sku"}}}
	_, err := e.srv.store.createContainer("db", props, nil)
	require.NoError(b, err)
	w := &sink{h: http.Header{}}
	create := e.request(http.MethodPost, "dbs/db/colls/catalog/docs", nil)
	for i := range 12 {
		sku := "SKU-" + strconv.Itoa(i)
		create.Header.Set(hdrPartitionKey, pkHeader(sku))
		body := fmt.Appendf(nil, `{"id":%q,"sku":%q,"name":"Product %d","unitPrice":%d,"currency":"EUR","taxCode":"standard"}`, sku, sku, i, 1000+i)
		e.serve(b, w, create, body, http.StatusCreated)
	}
	r := e.request(http.MethodPost, "dbs/db/colls/catalog/docs", nil, hdrIsQuery, "True",
		"Content-Type", contentTypeQuery, hdrPKRangeID, "0")
	found := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		body := fmt.Appendf(nil, `{"query":"SELECT * FROM c WHERE (c.id = @param_id0 AND c.sku = @param_pk00) OR (c.id = @param_id1 AND c.sku = @param_pk10) OR (c.id = @param_id2 AND c.sku = @param_pk20)",`+
			`"parameters":[{"name":"@param_id0","value":"SKU-1"},{"name":"@param_pk00","value":"SKU-1"},{"name":"@param_id1","value":"SKU-5"},`+
			`{"name":"@param_pk10","value":"SKU-5"},{"name":"@param_id2","value":%q},{"name":"@param_pk20","value":%[1]q}]}`, third(i))
		e.serve(b, w, r, body, http.StatusOK)
		found, _ = strconv.Atoi(w.h.Get(hdrItemCount))
	}
	require.GreaterOrEqual(b, found, 2)
}
