package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/ordersflow/orderpipeline/shared/catalog"
)

type orderDoc struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Version        int    `json:"version"`
	Total          int64  `json:"total"`
	IdempotencyKey string `json:"idempotencyKey"`
	Lines          []line `json:"lines"`
}

type eventDoc struct {
	ID      string `json:"id"`
	OrderID string `json:"orderId"`
	Seq     int    `json:"seq"`
	Type    string `json:"type"`
}

type ledgerDoc struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	OrderID  string `json:"orderId"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Attempts int    `json:"attempts"`
}

type inventoryDoc struct {
	ID        string `json:"id"`
	SKU       string `json:"sku"`
	Kind      string `json:"kind"`
	OrderID   string `json:"orderId"`
	Quantity  int    `json:"quantity"`
	Available int    `json:"available"`
}

// db reads the stack's Cosmos DB as the audit needs it.
type db struct{ client *azcosmos.Client }

func query[T any](ctx context.Context, d db, container, q string) ([]T, error) {
	c, err := d.client.NewContainer("commerce", container)
	if err != nil {
		return nil, err
	}
	var out []T
	pager := c.NewQueryItemsPager(q, azcosmos.NewPartitionKey(), nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", container, err)
		}
		for _, raw := range page.Items {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// audit waits for the orders to finish, then checks every promise.
func (r *run) audit(ctx context.Context) error {
	client, err := azcosmos.NewClientFromConnectionString(r.stack.cosmos, nil)
	if err != nil {
		return err
	}
	d := db{client}
	orders, err := r.settle(ctx, d)
	if err != nil {
		return err
	}
	r.report.Stored = len(orders)
	r.report.Statuses = map[string]int{}
	for _, o := range orders {
		r.report.Statuses[o.Status]++
	}
	r.check(checkFinal(orders))
	r.check(checkKeys(orders, r.ids, r.cfg.Orders))
	events, err := query[eventDoc](ctx, d, "orders", "SELECT c.id, c.orderId, c.seq, c.type FROM c WHERE c.kind = 'event'")
	if err != nil {
		return err
	}
	r.check(checkEvents(orders, events))
	ledger, err := query[ledgerDoc](ctx, d, "payments", "SELECT * FROM c")
	if err != nil {
		return err
	}
	r.check(checkPayments(orders, ledger))
	for _, e := range ledger {
		if e.Kind == "refund" {
			r.report.Refunds++
		}
	}
	inv, err := query[inventoryDoc](ctx, d, "inventory", "SELECT * FROM c")
	if err != nil {
		return err
	}
	stock, err := checkStock(orders, inv)
	if err != nil {
		return err
	}
	r.check(stock)
	r.check(r.checkBus(ctx, events))
	r.check(r.checkDeadLetters(ctx))
	return nil
}

func (r *run) check(c Check) {
	r.report.Checks = append(r.report.Checks, c)
	mark := "ok  "
	if !c.OK {
		mark = "FAIL"
	}
	r.logf("%s %s: %s", mark, c.Name, c.Detail)
}

// settle polls until every stored order is Fulfilled or Cancelled,
// replaying dead letters as they appear, for at most cfg.Settle.
func (r *run) settle(ctx context.Context, d db) ([]orderDoc, error) {
	deadline := time.Now().Add(r.cfg.Settle)
	for {
		r.report.Replayed += r.shop.replay(ctx)
		orders, err := query[orderDoc](ctx, d, "orders",
			"SELECT c.id, c.status, c.version, c.total, c.idempotencyKey, c.lines FROM c WHERE c.kind = 'order'")
		if err == nil && countFinal(orders) == len(orders) {
			r.logf("settled: %d orders final, %d dead letters replayed", len(orders), r.report.Replayed)
			return orders, nil
		}
		if time.Now().After(deadline) {
			r.logf("settle: %d of %d orders final after %s (last error %v)", countFinal(orders), len(orders), r.cfg.Settle, err)
			return orders, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func final(status string) bool { return status == "Fulfilled" || status == "Cancelled" }

func countFinal(orders []orderDoc) int {
	n := 0
	for _, o := range orders {
		if final(o.Status) {
			n++
		}
	}
	return n
}

func checkFinal(orders []orderDoc) Check {
	by := map[string]int{}
	for _, o := range orders {
		by[o.Status]++
	}
	return Check{Name: "every order Fulfilled or Cancelled", OK: countFinal(orders) == len(orders) && len(orders) > 0,
		Detail: fmt.Sprintf("%d orders: %s", len(orders), counts(by))}
}

// checkKeys: one stored order per Idempotency-Key, every key placed, and
// the order each client was answered with is that one.
func checkKeys(orders []orderDoc, answered map[string]string, n int) Check {
	byKey := map[string][]string{}
	for _, o := range orders {
		byKey[o.IdempotencyKey] = append(byKey[o.IdempotencyKey], o.ID)
	}
	var bad []string
	for key, ids := range byKey {
		if len(ids) != 1 || key == "" {
			bad = append(bad, fmt.Sprintf("%q→%v", key, ids))
		}
	}
	for key, id := range answered {
		if ids := byKey[key]; len(ids) != 1 || ids[0] != id {
			bad = append(bad, fmt.Sprintf("%s answered %s, stored %v", key, id, ids))
		}
	}
	return Check{Name: "one order per Idempotency-Key", OK: len(bad) == 0 && len(byKey) == n,
		Detail: fmt.Sprintf("%d keys, %d orders answered; problems: %s", len(byKey), len(answered), some(bad))}
}

// checkEvents: no event twice, and each order's events are seq 1..n with
// n its version.
func checkEvents(orders []orderDoc, events []eventDoc) Check {
	byOrder := map[string][]eventDoc{}
	ids := map[string]int{}
	for _, e := range events {
		byOrder[e.OrderID] = append(byOrder[e.OrderID], e)
		ids[e.ID]++
	}
	var bad []string
	for id, n := range ids {
		if n > 1 {
			bad = append(bad, fmt.Sprintf("event %s ×%d", id, n))
		}
	}
	for _, o := range orders {
		if p := seqProblem(o, byOrder[o.ID]); p != "" {
			bad = append(bad, p)
		}
	}
	return Check{Name: "every event once, seq 1..n without a gap", OK: len(bad) == 0,
		Detail: fmt.Sprintf("%d events of %d orders; problems: %s", len(events), len(byOrder), some(bad))}
}

func seqProblem(o orderDoc, evs []eventDoc) string {
	sort.Slice(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
	types := map[string]bool{}
	for i, e := range evs {
		if e.Seq != i+1 || types[e.Type] {
			return fmt.Sprintf("order %s: event %d is seq %d %s", o.ID, i+1, e.Seq, e.Type)
		}
		types[e.Type] = true
	}
	if len(evs) != o.Version {
		return fmt.Sprintf("order %s: version %d, %d events", o.ID, o.Version, len(evs))
	}
	return ""
}

// checkPayments: at most one charge per order, asked of the bank once;
// a fulfilled order is captured and not refunded; a cancelled order that
// was captured is refunded in full.
func checkPayments(orders []orderDoc, ledger []ledgerDoc) Check {
	charges, refunds := map[string][]ledgerDoc{}, map[string][]ledgerDoc{}
	for _, e := range ledger {
		switch e.Kind {
		case "charge":
			charges[e.OrderID] = append(charges[e.OrderID], e)
		case "refund":
			refunds[e.OrderID] = append(refunds[e.OrderID], e)
		}
	}
	var bad []string
	captured, refunded := 0, 0
	for _, o := range orders {
		c, rf := charges[o.ID], refunds[o.ID]
		isCaptured := len(c) == 1 && c[0].Status == "captured"
		if isCaptured {
			captured++
		}
		refunded += len(rf)
		switch {
		case len(c) > 1 || (len(c) == 1 && c[0].Attempts != 1):
			bad = append(bad, fmt.Sprintf("order %s charged %d times (%v)", o.ID, len(c), c))
		case o.Status == "Fulfilled" && (!isCaptured || len(rf) != 0):
			bad = append(bad, fmt.Sprintf("fulfilled order %s: %d charges, %d refunds", o.ID, len(c), len(rf)))
		case o.Status == "Cancelled" && isCaptured && (len(rf) != 1 || rf[0].Amount != c[0].Amount):
			bad = append(bad, fmt.Sprintf("cancelled order %s captured but %d refunds", o.ID, len(rf)))
		case !isCaptured && len(rf) != 0:
			bad = append(bad, fmt.Sprintf("order %s refunded without a capture", o.ID))
		}
	}
	return Check{Name: "no order charged twice; every cancelled capture refunded", OK: len(bad) == 0,
		Detail: fmt.Sprintf("%d captures, %d refunds; problems: %s", captured, refunded, some(bad))}
}

// checkStock: for every SKU, initial − reserved == available, and the
// reservations are exactly the fulfilled orders' lines.
func checkStock(orders []orderDoc, inv []inventoryDoc) (Check, error) {
	items, err := catalog.Demo()
	if err != nil {
		return Check{}, err
	}
	want := map[string]int{} // "sku order" → quantity, from fulfilled orders
	for _, o := range orders {
		if o.Status == "Fulfilled" {
			for _, l := range o.Lines {
				want[l.SKU+" "+o.ID] += l.Quantity
			}
		}
	}
	available, reserved := map[string]int{}, map[string]int{}
	var bad []string
	for _, d := range inv {
		switch d.Kind {
		case "stock":
			available[d.SKU] = d.Available
		case "reservation":
			reserved[d.SKU] += d.Quantity
			if want[d.SKU+" "+d.OrderID] != d.Quantity {
				bad = append(bad, fmt.Sprintf("reservation %s of %s for an order that is not fulfilled with it", d.ID, d.SKU))
			}
			delete(want, d.SKU+" "+d.OrderID)
		}
	}
	for k := range want {
		bad = append(bad, "no reservation for fulfilled line "+k)
	}
	var used []string
	for _, it := range items {
		if it.Stock-reserved[it.SKU] != available[it.SKU] {
			bad = append(bad, fmt.Sprintf("%s: %d − %d reserved ≠ %d available", it.SKU, it.Stock, reserved[it.SKU], available[it.SKU]))
		}
		if reserved[it.SKU] > 0 {
			used = append(used, fmt.Sprintf("%s %d−%d=%d", it.SKU, it.Stock, reserved[it.SKU], available[it.SKU]))
		}
	}
	return Check{Name: "stock adds up (initial − reserved = available; reservations = fulfilled lines)", OK: len(bad) == 0,
		Detail: fmt.Sprintf("%s; problems: %s", strings.Join(used, ", "), some(bad))}, nil
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// some shows the first few problems.
func some(bad []string) string {
	if len(bad) == 0 {
		return "none"
	}
	sort.Strings(bad)
	if len(bad) > 5 {
		return fmt.Sprintf("%s … (%d in all)", strings.Join(bad[:5], "; "), len(bad))
	}
	return strings.Join(bad, "; ")
}
