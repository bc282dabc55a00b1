package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/order"
)

func (f *fixture) checkout(t *testing.T, body []byte, key string) (*http.Response, string) {
	t.Helper()
	w := f.do(http.MethodPost, "/api/orders", body, jsonHeaders("Idempotency-Key", key))
	return w.Result(), w.Body.String()
}

func orderIDOf(t *testing.T, body string) string {
	t.Helper()
	var v orderView
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v.ID
}

// TestOrderIDIsRandomNotFromTheKey: knowing an Idempotency-Key must not
// tell anyone the order id (GetOrder would then show them the order).
func TestOrderIDIsRandomNotFromTheKey(t *testing.T) {
	body := readTestdata(t, "checkout_request.json")
	var ids []string
	for range 2 {
		resp, b := newFixture(t).checkout(t, body, "key-1")
		require.Equal(t, http.StatusAccepted, resp.StatusCode, b)
		ids = append(ids, orderIDOf(t, b))
	}
	assert.Regexp(t, `^ord_[0-9a-f]{32}$`, ids[0])
	assert.NotEqual(t, ids[0], ids[1], "the same key and body on two fresh stores: two random ids")
	assert.NotEqual(t, order.IDForKey("key-1"), ids[0])
	assert.NotContains(t, ids[0], strings.TrimPrefix(order.IDForKey("key-1"), "ord_"))
}

func TestIdempotencyKeysAreScopedPerCustomer(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	other := []byte(strings.Replace(string(body), `"c-42"`, `"c-43"`, 1))
	r1, b1 := f.checkout(t, body, "shared-key")
	r2, b2 := f.checkout(t, other, "shared-key")
	require.Equal(t, http.StatusAccepted, r1.StatusCode, b1)
	require.Equal(t, http.StatusAccepted, r2.StatusCode, b2, "another customer's key is another request")
	assert.Empty(t, r2.Header.Get("Idempotent-Replayed"))
	assert.NotEqual(t, orderIDOf(t, b1), orderIDOf(t, b2))
	orders, _ := f.store.count()
	assert.Equal(t, 2, orders)

	r3, b3 := f.checkout(t, other, "shared-key")
	assert.Equal(t, "true", r3.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, b2, b3, "each customer's retry replays their own answer")
}

func TestReusedKeyNeverRevealsTheOrder(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	_, first := f.checkout(t, body, "key-1")
	id := orderIDOf(t, first)
	changed := []byte(strings.Replace(string(body), `"quantity": 2`, `"quantity": 3`, 1))
	resp, b := f.checkout(t, changed, "key-1")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, b, "idempotency-key-reused")
	assert.NotContains(t, b, strings.TrimPrefix(id, "ord_"))
	assert.Empty(t, resp.Header.Get("Location"))
}

// TestCrashBetweenRecordAndOrder: the record is written, then the process
// "dies" before the order batch. The client saw no 202; its retry with the
// same key finishes that very order, and nothing is placed twice.
func TestCrashBetweenRecordAndOrder(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	f.store.failCreates = 1
	resp, b := f.checkout(t, body, "key-crash")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, b)
	orders, _ := f.store.count()
	require.Zero(t, orders, "the order batch never ran")
	require.Len(t, f.keys.records, 1, "but the record did")

	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, got := f.checkout(t, body, "key-crash")
			assert.Equal(t, http.StatusAccepted, r.StatusCode, got)
			bodies[i] = got
		}()
	}
	wg.Wait()
	orders, events := f.store.count()
	assert.Equal(t, 1, orders)
	assert.Equal(t, 1, events)
	for _, got := range bodies {
		assert.Equal(t, bodies[0], got)
	}
	var rec order.IdempotencyRecord
	for _, r := range f.keys.records {
		rec = r
	}
	assert.Equal(t, rec.Order.ID, orderIDOf(t, bodies[0]), "the order the first request meant to write")
}

// TestDuplicateOvertakesTheFirst: a duplicate arrives while the first
// request is between its two writes. It finishes the order from the record
// and answers; the first then finds its order written and answers the same.
func TestDuplicateOvertakesTheFirst(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	between := make(chan struct{})
	resume := make(chan struct{})
	var once sync.Once
	f.keys.afterCreate = func(order.IdempotencyRecord) {
		once.Do(func() { close(between); <-resume }) // only the first request stops here
	}
	firstDone := make(chan string)
	go func() {
		r, b := f.checkout(t, body, "key-race")
		assert.Equal(t, http.StatusAccepted, r.StatusCode, b)
		firstDone <- b
	}()
	<-between
	r, second := f.checkout(t, body, "key-race")
	require.Equal(t, http.StatusAccepted, r.StatusCode, second)
	assert.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	close(resume)
	first := <-firstDone
	assert.Equal(t, first, second, "byte for byte")
	orders, events := f.store.count()
	assert.Equal(t, 1, orders)
	assert.Equal(t, 1, events)
}

// TestAFirstKeyedCheckoutReadsNoRecord: the record is created straight
// away; only a retry, which loses the create, reads it.
func TestAFirstKeyedCheckoutReadsNoRecord(t *testing.T) {
	f := newFixture(t)
	body := readTestdata(t, "checkout_request.json")
	resp, first := f.checkout(t, body, "key-first")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, first)
	assert.Zero(t, f.keys.reads, "a first request reads no record")
	resp, again := f.checkout(t, body, "key-first")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, again)
	assert.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, first, again)
	assert.Equal(t, 1, f.keys.reads, "the retry reads the record it lost the create to")
}

// TestARetryOutlivesTheCatalog: a SKU leaves the catalog after an order
// of it was placed with a key; the retry still gets that order, and a new
// key is refused the SKU.
func TestARetryOutlivesTheCatalog(t *testing.T) {
	items, err := catalog.Demo()
	require.NoError(t, err)
	cat := &memCatalog{items: items}
	f := newFixture(t, func(d *Deps) { d.Catalog = cat })
	body := readTestdata(t, "checkout_request.json")
	resp, first := f.checkout(t, body, "key-gone")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, first)
	cat.items = nil

	resp, again := f.checkout(t, body, "key-gone")
	require.Equal(t, http.StatusAccepted, resp.StatusCode, again)
	assert.Equal(t, first, again)
	resp, other := f.checkout(t, body, "key-new")
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, other)
	orders, _ := f.store.count()
	assert.Equal(t, 1, orders)
}
