package handlers

// Fuzz targets for the three decoders that read bytes from outside: the
// checkout body (decoder and validator), the host's invocation envelope and
// the change feed documents inside it. `go test` (so `make test`) runs the
// seeds below and the corpus in testdata/fuzz/<Target>; `make fuzz` runs
// each target for FUZZTIME.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/ordersflow/orderpipeline/shared/order"
)

// maxDetail bounds a problem's detail: it quotes at most a short prefix of
// anything the client sent.
const maxDetail = 300

func addTestdata(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzCheckoutRequest: whatever the body, the answer is a request that
// holds every rule, or a 4xx problem with a short detail; an accepted
// request survives a round trip unchanged.
func FuzzCheckoutRequest(f *testing.F) {
	addTestdata(f, "checkout_request.json")
	f.Add([]byte(`{"customerId":"a","customerId":"b"}`))
	f.Add([]byte(`{"CUSTOMERID":"c","lines":[{"SKU":"MUG-CLASSIC","quantity":1}]}`))
	f.Add([]byte("{\"customerId\":\"\xff\",\"payment\":{\"token\":\"\\ud800\"}}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/orders", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		req, err := readPlaceRequest(r)
		if err != nil {
			p := toProblem(err)
			if p.Status < 400 || p.Status >= 500 {
				t.Fatalf("bad input answered %d: %v", p.Status, err)
			}
			if len(p.Detail) > maxDetail || len(p.Field) > maxDetail {
				t.Fatalf("problem quotes too much: %d-byte detail, %d-byte field", len(p.Detail), len(p.Field))
			}
			return
		}
		assertAcceptable(t, req)
	})
}

func assertAcceptable(t *testing.T, req order.PlaceRequest) {
	t.Helper()
	for _, s := range []string{req.CustomerID, req.Currency, req.ShipTo.Country, req.ShipTo.Region, req.ShipTo.PostalCode, req.Payment.Token} {
		if err := order.CheckText("field", s, order.MaxPaymentToken); err != nil {
			t.Fatalf("accepted a bad string: %v", err)
		}
	}
	if n := len(req.Lines); n < 1 || n > order.MaxLines {
		t.Fatalf("accepted %d lines", n)
	}
	for _, l := range req.Lines {
		if l.Quantity < order.MinQuantity || l.Quantity > order.MaxQuantity || utf8.RuneCountInString(l.SKU) > order.MaxSKU {
			t.Fatalf("accepted line %+v", l)
		}
	}
	again, err := jsonv2.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var back order.PlaceRequest
	if err := decodeStrict(again, &back); err != nil {
		t.Fatalf("an accepted request does not decode again: %v", err)
	}
	if !reflect.DeepEqual(req, back) {
		t.Fatalf("round trip changed the request:\n%+v\n%+v", req, back)
	}
}

// FuzzInvocationEnvelope: any envelope either yields documents that are
// each valid JSON, or fails as a permanent error (it is dead-lettered, not
// retried forever); and decodeInvocation answers as the reference decoder
// (Unmarshal of the whole envelope, the library's unquoting) does: the same
// documents and RetryContext, or the same error.
func FuzzInvocationEnvelope(f *testing.F) {
	addTestdata(f, "applytax_first_attempt.json", "applytax_last_retry.json", "applytax_no_retry_policy.json", "applytax_undecodable.json")
	f.Add([]byte(`{"Data":{"documents":"\"\\\"[]\\\"\""},"Metadata":{}}`))
	f.Add([]byte(`{"Metadata":{"RetryContext":{"RetryCount":1,"MaxRetryCount":-1,"Exception":{}}},"Data":{"x":1,"documents":[{"id":"a"}]}}`))
	f.Add([]byte(`{"Data":{"documents":"[{\"id\":\"\\u00e9\"}]","documents":"[]"}}`))
	f.Add([]byte(`{"Data":null,"Metadata":{"RetryContext":{"RetryCount":"1"}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, envelope []byte) {
		r := httptest.NewRequest(http.MethodPost, "/ApplyTax", bytes.NewReader(envelope))
		rc, docs, err := decodeInvocation(r, documentsBinding)
		wantRC, want, wantErr := refDecodeInvocation(httptest.NewRequest(http.MethodPost, "/ApplyTax", bytes.NewReader(envelope)), documentsBinding)
		sameDecoding(t, wantRC, rc, want, docs, wantErr, err)
		if err != nil {
			if !errors.Is(err, order.ErrPermanent) {
				t.Fatalf("envelope error is not permanent: %v", err)
			}
			return
		}
		for i, d := range docs {
			if !json.Valid(d) {
				t.Fatalf("document %d is not JSON: %q", i, d)
			}
		}
	})
}

// FuzzChangeFeedDocument: eventOf either picks out a well-formed event,
// ignores the document, or fails permanently; never a transient error for a
// document that will never decode.
func FuzzChangeFeedDocument(f *testing.F) {
	for _, name := range []string{"applytax_first_attempt.json", "applytax_undecodable.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		var inv invokeRequest
		if err := json.Unmarshal(b, &inv); err != nil {
			f.Fatal(err)
		}
		docs, _ := decodeDocuments(inv.Data[documentsBinding])
		for _, d := range docs {
			f.Add([]byte(d))
		}
	}
	f.Add([]byte(`{"id":"x","kind":"event","type":"OrderPlaced","seq":0}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ev, ok, err := eventOf(doc, allEvents...)
		switch {
		case ok && err != nil:
			t.Fatalf("ok with an error: %v", err)
		case ok && (ev.Kind != order.KindEvent || ev.OrderID == "" || ev.Seq < 1):
			t.Fatalf("accepted a malformed event: %+v", ev)
		case err != nil && !errors.Is(err, order.ErrPermanent):
			t.Fatalf("decode error is not permanent: %v", err)
		}
	})
}
