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
// handler and emulators on one stack.
func TestOrderJourneys(t *testing.T) {
	st := startStack(t, devstack.Options{})
	c := newClient(st.URL())
	cases := []struct {
		name   string
		token  string
		sku    string
		qty    int
		status string
		events []string
	}{
		{"fulfilled", "tok_visa", "MUG-CLASSIC", 2, "Fulfilled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "OrderFulfilled"}},
		{"declined", "tok_declined", "MUG-CLASSIC", 1, "Cancelled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentDeclined", "OrderCancelled"}},
		{"more than the stock", "tok_visa", "LAMP-LTD", 4, "Cancelled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "FulfilmentFailed", "PaymentRefunded", "OrderCancelled"}},
		{"gateway unavailable once, then retried", "tok_unavailable", "STICKER-PK", 3, "Fulfilled",
			[]string{"OrderPlaced", "TaxApplied", "PaymentCaptured", "OrderFulfilled"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := c.mustPlace(t, tc.token, tc.sku, tc.qty)
			o := c.waitTerminal(t, id, 30*time.Second)
			assert.Equal(t, tc.status, o.Status)
			assert.Equal(t, tc.events, o.types())
			for i, e := range o.Events {
				assert.Equal(t, i+1, e.Seq)
			}
		})
	}
	t.Run("the retried charge was attempted twice and captured once", func(t *testing.T) {
		entries := ledger(t, st.Settings()["COSMOS"])
		var unavailable int
		for _, e := range entries {
			if e.Attempts == 2 {
				unavailable++
			}
			if e.Kind == "charge" && e.Status == "captured" {
				assert.LessOrEqual(t, e.Attempts, 2)
			}
		}
		assert.Equal(t, 1, unavailable)
	})
	t.Run("stock is back after the refunded order", func(t *testing.T) {
		assert.Equal(t, 3, available(t, c, "LAMP-LTD"))
	})
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
