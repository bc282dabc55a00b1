package funchost

import (
	"fmt"
	"testing"
)

// feedPage is a change feed page as the emulator serves it: maxItems
// compact documents of the size the pipeline's events have.
func feedPage(n int) [][]byte {
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
	docs := feedPage(100)
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
