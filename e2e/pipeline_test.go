package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/devstack"
)

// TestOrderJourneys runs every branch of the saga through the real host,
// handler and emulators on one stack. Each journey checks only its own
// order and the stock of SKUs no other journey touches, so any one of them
// can run alone.
func TestOrderJourneys(t *testing.T) {
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	conn := st.Settings()["COSMOS"]
	cases := []struct {
		name   string
		token  string
		lines  []line
		status string
		events []string
		check  func(t *testing.T, o orderBody, before map[string]stockDoc)
	}{
		{"fulfilled", "tok_visa", []line{{"MUG-CLASSIC", 2}}, "Fulfilled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "OrderFulfilled"},
			func(t *testing.T, _ orderBody, before map[string]stockDoc) {
				assert.Equal(t, before["MUG-CLASSIC"].Available-2, stock(t, conn, "MUG-CLASSIC").Available, "2 mugs reserved")
			}},
		{"declined", "tok_declined", []line{{"TEE-WHT-L", 1}}, "Cancelled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentDeclined", "OrderCancelled"},
			func(t *testing.T, _ orderBody, before map[string]stockDoc) {
				assert.Equal(t, before["TEE-WHT-L"], stock(t, conn, "TEE-WHT-L"), "nothing reserved, nothing written")
			}},
		{"a short line releases what was reserved and refunds", "tok_visa",
			[]line{{"LAMP-LTD", 2}, {"KEYBOARD-65", 41}}, "Cancelled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "FulfilmentFailed", "PaymentRefunded", "OrderCancelled"},
			func(t *testing.T, o orderBody, before map[string]stockDoc) {
				assert.JSONEq(t, `{"reason":"insufficient stock","sku":"KEYBOARD-65"}`, string(o.event("FulfilmentFailed").Data))
				lamp := stock(t, conn, "LAMP-LTD")
				assert.Equal(t, before["LAMP-LTD"].Available, lamp.Available, "stock is back after the refunded order")
				assert.NotEqual(t, before["LAMP-LTD"].ETag, lamp.ETag, "the lamps were reserved, then released")
				assert.Equal(t, before["KEYBOARD-65"], stock(t, conn, "KEYBOARD-65"), "the short line reserved nothing")
			}},
		{"gateway unavailable once, then retried", "tok_unavailable", []line{{"STICKER-PK", 3}}, "Fulfilled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "OrderFulfilled"},
			func(t *testing.T, o orderBody, _ map[string]stockDoc) {
				charge := ledgerEntryOf(t, conn, "charge~"+o.ID)
				assert.Equal(t, 2, charge.Attempts, "the first attempt was unavailable")
				assert.Equal(t, "captured", charge.Status, "captured once, by the retry")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := map[string]stockDoc{}
			for _, l := range tc.lines {
				before[l.SKU] = stock(t, conn, l.SKU)
			}
			id := c.mustPlaceBody(t, checkoutLines(tc.token, tc.lines...))
			o := c.waitTerminal(t, id, 30*time.Second)
			assert.Equal(t, tc.status, o.Status)
			require.Equal(t, tc.events, o.types())
			for i, e := range o.Events {
				assert.Equal(t, i+1, e.Seq)
			}
			tc.check(t, o, before)
		})
	}
}

func TestIdempotencyKeyReplay(t *testing.T) {
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	body := checkoutBody("tok_visa", "BOOK-GOPL", 1)
	first, firstBody, err := c.place(body, "e2e-key-1")
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, first.StatusCode)
	var o orderBody
	require.NoError(t, json.Unmarshal(firstBody, &o))
	c.waitTerminal(t, o.ID, 30*time.Second)

	again, againBody, err := c.place(body, "e2e-key-1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, again.StatusCode)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, string(firstBody), string(againBody))

	other, _, err := c.place(checkoutBody("tok_visa", "BOOK-GOPL", 2), "e2e-key-1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, other.StatusCode)
	assert.Equal(t, "application/problem+json", other.Header.Get("Content-Type"))
}

type ledgerEntry struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	OrderID  string `json:"orderId"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

// ledger reads the payment gateway's ledger straight from Cosmos DB.
func ledger(t *testing.T, conn string) []ledgerEntry {
	t.Helper()
	var out []ledgerEntry
	queryAll(t, conn, "payments", "SELECT * FROM c", func(raw []byte) {
		var e ledgerEntry
		require.NoError(t, json.Unmarshal(raw, &e))
		out = append(out, e)
	})
	return out
}

// storedOrders lists the id of every order document in Cosmos DB.
func storedOrders(t *testing.T, conn string) []string {
	t.Helper()
	var ids []string
	queryAll(t, conn, "orders", "SELECT VALUE c.id FROM c WHERE c.kind = 'order'", func(raw []byte) {
		var id string
		require.NoError(t, json.Unmarshal(raw, &id))
		ids = append(ids, id)
	})
	return ids
}

// queryAll runs a cross-partition query against a container of the stack.
func queryAll(t *testing.T, conn, container, q string, each func([]byte)) {
	t.Helper()
	client, err := azcosmos.NewClientFromConnectionString(conn, nil)
	require.NoError(t, err)
	c, err := client.NewContainer("commerce", container)
	require.NoError(t, err)
	pager := c.NewQueryItemsPager(q, azcosmos.NewPartitionKey(), nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		require.NoError(t, err)
		for _, raw := range page.Items {
			each(raw)
		}
	}
}

// stockDoc is a SKU's stock document in the inventory container.
type stockDoc struct {
	Available int    `json:"available"`
	ETag      string `json:"_etag"`
}

// stock reads a SKU's stock document straight from Cosmos DB.
func stock(t *testing.T, conn, sku string) stockDoc {
	t.Helper()
	var docs []stockDoc
	queryAll(t, conn, "inventory", "SELECT * FROM c WHERE c.id = '"+sku+"' AND c.kind = 'stock'", func(raw []byte) {
		var d stockDoc
		require.NoError(t, json.Unmarshal(raw, &d))
		docs = append(docs, d)
	})
	require.Len(t, docs, 1, "stock of %s", sku)
	return docs[0]
}

// ledgerEntryOf reads the ledger entry of one idempotency key.
func ledgerEntryOf(t *testing.T, conn, key string) ledgerEntry {
	t.Helper()
	for _, e := range ledger(t, conn) {
		if e.ID == key {
			return e
		}
	}
	require.FailNow(t, "no ledger entry", key)
	return ledgerEntry{}
}
func available(t *testing.T, c *client, sku string) int {
	t.Helper()
	resp, err := c.http.Get(c.base + "/api/products")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Products []struct {
			SKU       string `json:"sku"`
			Available int    `json:"available"`
		} `json:"products"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	for _, p := range body.Products {
		if p.SKU == sku {
			return p.Available
		}
	}
	return -1
}
