package chaos

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckEventsFindsGapsAndDuplicates(t *testing.T) {
	orders := []orderDoc{{ID: "o1", Version: 2}, {ID: "o2", Version: 2}}
	good := []eventDoc{{"o1:A", "o1", 1, "A"}, {"o1:B", "o1", 2, "B"}, {"o2:A", "o2", 1, "A"}, {"o2:B", "o2", 2, "B"}}
	assert.True(t, checkEvents(orders, good).OK)

	gap := []eventDoc{{"o1:A", "o1", 1, "A"}, {"o1:B", "o1", 3, "B"}, {"o2:A", "o2", 1, "A"}, {"o2:B", "o2", 2, "B"}}
	assert.False(t, checkEvents(orders, gap).OK, "seq 1, 3")
	twice := append(good[:4:4], eventDoc{"o2:B", "o2", 2, "B"})
	assert.False(t, checkEvents(orders, twice).OK, "an event id twice")
	short := good[:3]
	assert.False(t, checkEvents(orders, short).OK, "version 2 with one event")
}

func TestCheckPaymentsFindsDoubleChargesAndMissingRefunds(t *testing.T) {
	orders := []orderDoc{{ID: "f", Status: "Fulfilled"}, {ID: "c", Status: "Cancelled"}, {ID: "d", Status: "Cancelled"}}
	ledger := []ledgerDoc{
		{ID: "charge~f", Kind: "charge", OrderID: "f", Status: "captured", Amount: 10, Attempts: 1},
		{ID: "charge~c", Kind: "charge", OrderID: "c", Status: "captured", Amount: 20, Attempts: 1},
		{ID: "refund~c", Kind: "refund", OrderID: "c", Status: "refunded", Amount: 20, Attempts: 1},
		{ID: "charge~d", Kind: "charge", OrderID: "d", Status: "declined", Amount: 30, Attempts: 1},
	}
	assert.True(t, checkPayments(orders, ledger).OK)

	assert.False(t, checkPayments(orders, ledger[:2]).OK, "cancelled capture without a refund")
	asked := append([]ledgerDoc{}, ledger...)
	asked[0].Attempts = 2
	assert.False(t, checkPayments(orders, asked).OK, "the bank asked twice")
	twice := append(append([]ledgerDoc{}, ledger...), ledgerDoc{ID: "other", Kind: "charge", OrderID: "f", Status: "captured", Attempts: 1})
	assert.False(t, checkPayments(orders, twice).OK, "two charges")
	refundedDecline := append(append([]ledgerDoc{}, ledger...), ledgerDoc{ID: "refund~d", Kind: "refund", OrderID: "d"})
	assert.False(t, checkPayments(orders, refundedDecline).OK, "refund without capture")
}

func TestCheckStockAddsUp(t *testing.T) {
	orders := []orderDoc{{ID: "f", Status: "Fulfilled", Lines: []line{{"LAMP-LTD", 1}}}, {ID: "c", Status: "Cancelled", Lines: []line{{"LAMP-LTD", 1}}}}
	inv := []inventoryDoc{{ID: "LAMP-LTD", SKU: "LAMP-LTD", Kind: "stock", Available: 2},
		{ID: "res~f", SKU: "LAMP-LTD", Kind: "reservation", OrderID: "f", Quantity: 1}}
	inv = append(inv, untouched(t)...)
	c, err := checkStock(orders, inv)
	assert.NoError(t, err)
	assert.True(t, c.OK, c.Detail)

	inv[0].Available = 1
	c, _ = checkStock(orders, inv)
	assert.False(t, c.OK, "3 − 1 reserved ≠ 1 available")
	inv[0].Available = 2
	inv[1].OrderID = "c"
	c, _ = checkStock(orders, inv)
	assert.False(t, c.OK, "a cancelled order holds stock; the fulfilled one none")
}

// untouched is the stock document of every other demo SKU, at its initial stock.
func untouched(t *testing.T) []inventoryDoc {
	t.Helper()
	docs := map[string]int{"TEE-BLK-M": 500, "TEE-WHT-L": 500, "MUG-CLASSIC": 1000, "BOOK-GOPL": 300, "COFFEE-1KG": 800,
		"GIFT-25": 100000, "STICKER-PK": 5000, "KEYBOARD-65": 40}
	var out []inventoryDoc
	for sku, n := range docs {
		out = append(out, inventoryDoc{ID: sku, SKU: sku, Kind: "stock", Available: n})
	}
	return out
}

func TestCheckKeysFindsTwoOrdersForAKey(t *testing.T) {
	orders := []orderDoc{{ID: "a", IdempotencyKey: "k1"}, {ID: "b", IdempotencyKey: "k2"}}
	assert.True(t, checkKeys(orders, map[string]string{"k1": "a"}, 2).OK)
	assert.False(t, checkKeys(append(orders, orderDoc{ID: "c", IdempotencyKey: "k1"}), nil, 2).OK)
	assert.False(t, checkKeys(orders, map[string]string{"k1": "b"}, 2).OK, "answered with another order")
	assert.False(t, checkKeys(orders, nil, 3).OK, "a key placed nothing")
}

func TestChildrenListsThisProcesssChildren(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	kids := children(os.Getpid())
	assert.Equal(t, "sleep 30 ", kids[cmd.Process.Pid])
	ppid, state := statOf(cmd.Process.Pid)
	assert.Equal(t, os.Getpid(), ppid)
	assert.NotEqual(t, "Z", state)
}
