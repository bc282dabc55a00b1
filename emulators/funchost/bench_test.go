package funchost

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
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
