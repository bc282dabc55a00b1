package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckoutPricesFromTheCatalog(t *testing.T) {
	f := newFixture(t)
	w := f.do(http.MethodPost, "/api/orders", readTestdata(t, "checkout_request.json"), jsonHeaders())
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var v orderView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, "/api/orders/"+v.ID, w.Header().Get("Location"))
	assert.Equal(t, "Placed", string(v.Status))
	assert.Equal(t, int64(2*1250+3999), v.Subtotal)
	assert.Equal(t, int64(1250), v.Lines[0].UnitPrice)
	assert.Equal(t, int64(2500), v.Lines[0].LineTotal)
	orders, events := f.store.count()
	assert.Equal(t, 1, orders)
	assert.Equal(t, 1, events)
}

func TestCheckoutRejectsBadInput(t *testing.T) {
	valid := string(readTestdata(t, "checkout_request.json"))
	lines := make([]string, 101)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"sku":"S%d","quantity":1}`, i)
	}
	cases := []struct {
		name        string
		body        string
		contentType string
		status      int
		field       string
	}{
		{"malformed json", `{"customerId":`, "application/json", 400, ""},
		{"not an object", `[1,2]`, "application/json", 400, ""},
		{"null", `null`, "application/json", 400, ""},
		{"two objects", valid + valid, "application/json", 400, ""},
		{"unknown field", strings.Replace(valid, `"currency"`, `"price": 1, "currency"`, 1), "application/json", 400, "price"},
		{"client price on a line", strings.Replace(valid, `"quantity": 2`, `"quantity": 2, "unitPrice": 1`, 1), "application/json", 400, "lines[0].unitPrice"},
		{"wrong type", strings.Replace(valid, `"quantity": 2`, `"quantity": "2"`, 1), "application/json", 400, "lines[0].quantity"},
		{"fractional quantity", strings.Replace(valid, `"quantity": 2`, `"quantity": 2.5`, 1), "application/json", 400, "lines[0].quantity"},
		{"huge quantity", strings.Replace(valid, `"quantity": 2`, `"quantity": 99999999999999999999999`, 1), "application/json", 400, "lines[0].quantity"},
		{"missing customer", strings.Replace(valid, `"customerId": "c-42",`, ``, 1), "application/json", 400, "customerId"},
		{"quantity zero", strings.Replace(valid, `"quantity": 2`, `"quantity": 0`, 1), "application/json", 400, "lines[0].quantity"},
		{"quantity 1000", strings.Replace(valid, `"quantity": 2`, `"quantity": 1000`, 1), "application/json", 400, "lines[0].quantity"},
		{"101 lines", strings.Replace(valid, `"lines": [`, `"lines": [`+strings.Join(lines, ",")+",", 1), "application/json", 400, "lines"},
		{"unknown sku", strings.Replace(valid, `MUG-CLASSIC`, `NOPE`, 1), "application/json", 422, "lines[0].sku"},
		{"currency mismatch", strings.Replace(valid, `"USD"`, `"EUR"`, 1), "application/json", 422, "currency"},
		{"no tax jurisdiction", strings.Replace(valid, `"region": "CA"`, `"region": "ZZ"`, 1), "application/json", 422, "shipTo"},
		{"huge body", `{"customerId":"` + strings.Repeat("x", 70<<10) + `"}`, "application/json", 413, ""},
		{"text body", valid, "text/plain", 415, ""},
		{"no content type", valid, "", 415, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.do(http.MethodPost, "/api/orders", []byte(tc.body), map[string]string{"Content-Type": tc.contentType})
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, tc.status, p.Status)
			assert.Equal(t, tc.field, p.Field)
			assert.NotEmpty(t, p.Detail)
			assert.Equal(t, "/api/orders", p.Instance)
			orders, events := f.store.count()
			assert.Zero(t, orders+events, "nothing is written for bad input")
		})
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	first := f.do(http.MethodPost, "/api/orders", body, jsonHeaders("Idempotency-Key", "key-1"))
	require.Equal(t, http.StatusAccepted, first.Code)
	f.runSaga(t, f.onlyOrderID(t))

	again := f.do(http.MethodPost, "/api/orders", body, jsonHeaders("Idempotency-Key", "key-1"))
	assert.Equal(t, http.StatusAccepted, again.Code)
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, first.Body.String(), again.Body.String(), "same body as the first answer, though the order moved on")
	assert.Equal(t, first.Header().Get("Location"), again.Header().Get("Location"))
	orders, _ := f.store.count()
	assert.Equal(t, 1, orders)

	other := strings.Replace(string(body), `"quantity": 2`, `"quantity": 3`, 1)
	w := f.do(http.MethodPost, "/api/orders", []byte(other), jsonHeaders("Idempotency-Key", "key-1"))
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	assert.Contains(t, w.Body.String(), "idempotency-key-reused")
}

func TestConcurrentRequestsWithOneKeyCreateOneOrder(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	var wg sync.WaitGroup
	codes := make([]int, 16)
	bodies := make([]string, 16)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := f.do(http.MethodPost, "/api/orders", body, jsonHeaders("Idempotency-Key", "same"))
			codes[i], bodies[i] = w.Code, w.Body.String()
		}(i)
	}
	wg.Wait()
	orders, events := f.store.count()
	assert.Equal(t, 1, orders)
	assert.Equal(t, 1, events)
	for i := range codes {
		assert.Equal(t, http.StatusAccepted, codes[i])
		assert.Equal(t, bodies[0], bodies[i])
	}
}

func TestBadIdempotencyKey(t *testing.T) {
	f := newFixture(t)
	w := f.do(http.MethodPost, "/api/orders", readTestdata(t, "checkout_request.json"),
		jsonHeaders("Idempotency-Key", strings.Repeat("k", 300)))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "Idempotency-Key")
}

func TestUnavailableStoreIs503WithoutSDKText(t *testing.T) {
	f := newFixture(t)
	f.store.err = fmt.Errorf("dial tcp 10.0.0.1: secret detail: %w", errUnavailable())
	w := f.do(http.MethodPost, "/api/orders", readTestdata(t, "checkout_request.json"), jsonHeaders())
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.NotContains(t, w.Body.String(), "secret")
}

func (f *fixture) onlyOrderID(t *testing.T) string {
	t.Helper()
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	require.Len(t, f.store.orders, 1)
	for id := range f.store.orders {
		return id
	}
	return ""
}

// TestForwardedCheckout replays a request as the host forwards it: the raw
// HTTP request at its own path, with the host's invocation id header.
func TestForwardedCheckout(t *testing.T) {
	f := newFixture(t)
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(readTestdata(t, "checkout_forwarded.http"))))
	require.NoError(t, err)
	r.RequestURI = ""
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r.WithContext(context.Background()))
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, "corr-forwarded-1", w.Header().Get("X-Correlation-ID"))
	var v orderView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Regexp(t, `^ord_[0-9a-f]{32}$`, v.ID)
	assert.Equal(t, "corr-forwarded-1", v.CorrelationID)
}

func TestBadInputDetailSaysWhatIsWrong(t *testing.T) {
	valid := string(readTestdata(t, "checkout_request.json"))
	cases := map[string]struct{ body, detail string }{
		"string for an integer": {strings.Replace(valid, `"quantity": 2`, `"quantity": "2"`, 1), "lines[0].quantity must be an integer, not string"},
		"fraction":              {strings.Replace(valid, `"quantity": 2`, `"quantity": 2.5`, 1), "lines[0].quantity must be an integer, not number"},
		"unknown field":         {strings.Replace(valid, `"currency"`, `"price": 1, "currency"`, 1), `unknown field "price"`},
		"malformed":             {`{"customerId": }`, "malformed JSON at byte"},
		"array for an object":   {strings.Replace(valid, `"payment": {`, `"payment": [], "x": {`, 1), "payment must be an object, not array"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newFixture(t).do(http.MethodPost, "/api/orders", []byte(tc.body), jsonHeaders())
			var p Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Contains(t, p.Detail, tc.detail)
		})
	}
}

// TestCheckoutIsStrictJSON: a duplicate member (the last would win, after a
// validator read the first), a member whose name differs only in case, and
// text that is not valid UTF-8 are all refused, never reinterpreted.
func TestCheckoutIsStrictJSON(t *testing.T) {
	valid := string(readTestdata(t, "checkout_request.json"))
	swapLines := `"lines": [{"sku": "LAMP-LTD", "quantity": 9}], "shipTo"`
	cases := []struct{ name, body, field string }{
		{"duplicate customerId", strings.Replace(valid, `"currency"`, `"customerId": "c-43", "currency"`, 1), "customerId"},
		{"duplicate lines", strings.Replace(valid, `"shipTo"`, swapLines, 1), "lines"},
		{"duplicate nested member", strings.Replace(valid, `"sku": "BOOK-GOPL",`, `"sku": "BOOK-GOPL", "sku": "LAMP-LTD",`, 1), "lines[1].sku"},
		{"CUSTOMERID", strings.Replace(valid, `"customerId"`, `"CUSTOMERID"`, 1), "CUSTOMERID"},
		{"case variant beside the real one", strings.Replace(valid, `"currency"`, `"CustomerId": "c-43", "currency"`, 1), "CustomerId"},
		{"Lines", strings.Replace(valid, `"lines"`, `"Lines"`, 1), "Lines"},
		{"SKU", strings.Replace(valid, `"sku": "BOOK-GOPL"`, `"SKU": "BOOK-GOPL"`, 1), "lines[1].SKU"},
		{"invalid UTF-8", strings.Replace(valid, `"c-42"`, "\"c-\xff42\"", 1), "customerId"},
		{"lone high surrogate", strings.Replace(valid, `"c-42"`, `"c-\ud800"`, 1), "customerId"},
		{"lone low surrogate", strings.Replace(valid, `"94103"`, `"\udc00"`, 1), "shipTo.postalCode"},
		{"escaped NUL", strings.Replace(valid, `"c-42"`, `"c-\u000042"`, 1), "customerId"},
		{"ESC", strings.Replace(valid, `"c-42"`, `"c-\u001b[31m"`, 1), "customerId"},
		{"CRLF", strings.Replace(valid, `"tok_visa"`, `"tok_visa\r\nX: y"`, 1), "payment.token"},
		{"bidi override", strings.Replace(valid, `"c-42"`, `"c-\u202e24"`, 1), "customerId"},
		{"bidi isolate in a sku", strings.Replace(valid, `"MUG-CLASSIC"`, `"MUG-\u2066CLASSIC"`, 1), "lines[0].sku"},
		{"60,000-character postal code", strings.Replace(valid, `"94103"`, `"`+strings.Repeat("9", 60000)+`"`, 1), "shipTo.postalCode"},
		{"60,000-character token", strings.Replace(valid, `"tok_visa"`, `"`+strings.Repeat("t", 60000)+`"`, 1), "payment.token"},
		{"60,000-character member name", strings.Replace(valid, `"currency"`, `"`+strings.Repeat("n", 60000)+`": 1, "currency"`, 1), strings.Repeat("n", 32) + "…"},
		{"129 characters of customer id", strings.Replace(valid, `"c-42"`, `"`+strings.Repeat("é", 129)+`"`, 1), "customerId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			w := f.do(http.MethodPost, "/api/orders", []byte(tc.body), jsonHeaders())
			require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			var p Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, tc.field, p.Field)
			assert.NotEmpty(t, p.Detail)
			assert.Less(t, w.Body.Len(), 600, "a problem quotes at most a short prefix of a bad value")
			orders, events := f.store.count()
			assert.Zero(t, orders+events)
		})
	}
}

func TestCheckoutCountsCharactersNotBytes(t *testing.T) {
	valid := string(readTestdata(t, "checkout_request.json"))
	body := strings.Replace(valid, `"c-42"`, `"`+strings.Repeat("é", 128)+`"`, 1)
	w := newFixture(t).do(http.MethodPost, "/api/orders", []byte(body), jsonHeaders())
	require.Equal(t, http.StatusAccepted, w.Code, "128 characters (256 bytes) is within the limit: %s", w.Body.String())
	var v orderView
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, strings.Repeat("é", 128), v.CustomerID)
}
