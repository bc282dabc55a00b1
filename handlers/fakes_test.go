package handlers

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/inventory"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
	"github.com/ordersflow/orderpipeline/shared/tax"
)

// memOrders is an in-memory order store with ETags and an injectable error.
type memOrders struct {
	mu     sync.Mutex
	orders map[string]order.Order
	events map[string]order.Event
	tag    int
	reads  int // Order calls
	err    error
	// failCreates makes that many CreateOrder calls fail as if the
	// process died before the batch reached Cosmos DB.
	failCreates int
}

func newMemOrders() *memOrders {
	return &memOrders{orders: map[string]order.Order{}, events: map[string]order.Event{}}
}

func (m *memOrders) Order(_ context.Context, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return order.Order{}, m.err
	}
	o, ok := m.orders[id]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}

func (m *memOrders) Event(_ context.Context, id string, t order.EventType) (order.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev, ok := m.events[order.EventID(id, t)]
	if !ok {
		return order.Event{}, order.ErrNotFound
	}
	return ev, nil
}

func (m *memOrders) Events(_ context.Context, id string) ([]order.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []order.Event
	for _, ev := range m.events {
		if ev.OrderID == id {
			out = append(out, ev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func (m *memOrders) CreateOrder(_ context.Context, o order.Order, ev order.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.failCreates > 0 {
		m.failCreates--
		return fmt.Errorf("create order %s: %w", o.ID, order.ErrUnavailable)
	}
	_, orderExists := m.orders[o.ID]
	_, eventExists := m.events[ev.ID]
	if orderExists || eventExists {
		return order.ErrConflict
	}
	m.commit(o, ev)
	return nil
}

func (m *memOrders) Append(_ context.Context, o order.Order, events ...order.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	for _, ev := range events {
		if _, ok := m.events[ev.ID]; ok {
			return order.ErrConflict
		}
	}
	if cur, ok := m.orders[o.ID]; !ok || cur.ETag != o.ETag {
		return order.ErrConflict
	}
	m.commit(o, events...)
	return nil
}

func (m *memOrders) commit(o order.Order, events ...order.Event) {
	m.tag++
	o.ETag = fmt.Sprintf("etag-%d", m.tag)
	m.orders[o.ID] = o
	for _, ev := range events {
		m.events[ev.ID] = ev
	}
}

func (m *memOrders) count() (orders, events int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.orders), len(m.events)
}

func (m *memOrders) types(id string) []order.EventType {
	evs, _ := m.Events(context.Background(), id)
	out := make([]order.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// memIdempotency keeps idempotency records; afterCreate, when set, runs
// after a record is written and before the call returns (a barrier for
// tests of what happens between the record and the order).
type memIdempotency struct {
	mu          sync.Mutex
	records     map[string]order.IdempotencyRecord
	afterCreate func(order.IdempotencyRecord)
	reads       int // IdempotencyRecord calls
}

func (m *memIdempotency) CreateIdempotencyRecord(_ context.Context, rec order.IdempotencyRecord) error {
	m.mu.Lock()
	if _, ok := m.records[rec.ID]; ok {
		m.mu.Unlock()
		return fmt.Errorf("record %s: %w", rec.ID, order.ErrConflict)
	}
	m.records[rec.ID] = rec
	hook := m.afterCreate
	m.mu.Unlock()
	if hook != nil {
		hook(rec)
	}
	return nil
}

func (m *memIdempotency) IdempotencyRecord(_ context.Context, id string) (order.IdempotencyRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	rec, ok := m.records[id]
	if !ok {
		return rec, fmt.Errorf("record %s: %w", id, order.ErrNotFound)
	}
	return rec, nil
}

// memCatalog serves the demo catalog.
type memCatalog struct{ items []catalog.Item }

func (c memCatalog) Products(_ context.Context, skus []string) (map[string]catalog.Product, error) {
	out := map[string]catalog.Product{}
	for _, it := range c.items {
		for _, s := range skus {
			if it.SKU == s {
				out[s] = it.Product
			}
		}
	}
	return out, nil
}

func (c memCatalog) Catalog(context.Context) ([]catalog.Listing, error) {
	out := make([]catalog.Listing, len(c.items))
	for i, it := range c.items {
		out[i] = catalog.Listing{Product: it.Product, Available: it.Stock}
	}
	return out, nil
}

// fakeGateway approves tok_visa, declines the rest, counts calls.
type fakeGateway struct {
	mu              sync.Mutex
	charges, refund int
	err             error
}

func (g *fakeGateway) Charge(_ context.Context, r payment.Request) (payment.Receipt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return payment.Receipt{}, g.err
	}
	g.charges++
	if r.Token != payment.TokenVisa {
		return payment.Receipt{DeclineReason: "card_declined"}, nil
	}
	return payment.Receipt{PaymentID: "pay_" + r.OrderID, Approved: true}, nil
}

func (g *fakeGateway) Refund(_ context.Context, r payment.Request) (payment.Receipt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refund++
	return payment.Receipt{PaymentID: "re_" + r.OrderID, Approved: true}, nil
}

// memStock holds stock per SKU and one reservation per (order, SKU).
type memStock struct {
	mu        sync.Mutex
	available map[string]int
	held      map[[2]string]int // (order, SKU) → quantity
}

func newMemStock(initial map[string]int) *memStock {
	s := &memStock{available: map[string]int{}, held: map[[2]string]int{}}
	for sku, n := range initial {
		s.available[sku] = n
	}
	return s
}

func (s *memStock) Reserve(_ context.Context, orderID, sku string, qty int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	have, known := s.available[sku]
	switch {
	case !known:
		return fmt.Errorf("stock of %s: %w", sku, order.ErrNotFound)
	case s.held[[2]string{orderID, sku}] > 0:
		return nil
	case have < qty:
		return inventory.ErrInsufficientStock
	}
	s.available[sku] -= qty
	s.held[[2]string{orderID, sku}] = qty
	return nil
}

func (s *memStock) Release(_ context.Context, orderID, sku string, _ int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := [2]string{orderID, sku}
	s.available[sku] += s.held[key]
	delete(s.held, key)
	return nil
}

func (s *memStock) availableOf(sku string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.available[sku]
}

// fakePublisher records what it publishes, keeping eventbus.Publisher's
// rules: an order with a bad event sends none of its events; once a send
// fails nothing more is sent and every order not wholly sent gets err.
type fakePublisher struct {
	mu        sync.Mutex
	published []order.Event
	calls     int              // Publish calls
	err       error            // sends fail with it (after room more events)
	room      int              // events that still go out before err applies
	bad       map[string]error // event id -> the permanent error of its order
}

func (p *fakePublisher) Publish(_ context.Context, orders [][]order.Event) []order.Published {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	out := make([]order.Published, len(orders))
	failed := false
	for i, events := range orders {
		if err := p.badIn(events); err != nil && !failed {
			out[i].Err = err
			continue
		}
		for _, ev := range events {
			if failed = failed || (p.err != nil && p.room == 0); failed {
				out[i].Err = p.err
				break
			}
			p.room = max(p.room-1, 0)
			p.published = append(p.published, ev)
			out[i].Sent++
		}
	}
	return out
}

func (p *fakePublisher) badIn(events []order.Event) error {
	for _, ev := range events {
		if err := p.bad[ev.ID]; err != nil {
			return err
		}
	}
	return nil
}

// memDeadLetters keeps dead letters in a map.
type memDeadLetters struct {
	mu  sync.Mutex
	all map[string]deadletter.DeadLetter
	err error // returned by DeadLetter when set
}

func newMemDeadLetters() *memDeadLetters {
	return &memDeadLetters{all: map[string]deadletter.DeadLetter{}}
}

func (d *memDeadLetters) PutDeadLetter(_ context.Context, dl deadletter.DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.all[dl.ID] = dl
	return nil
}

func (d *memDeadLetters) DeadLetter(_ context.Context, id string) (deadletter.DeadLetter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return deadletter.DeadLetter{}, d.err
	}
	dl, ok := d.all[id]
	if !ok {
		return dl, order.ErrNotFound
	}
	return dl, nil
}

func (d *memDeadLetters) DeadLetters(context.Context) ([]deadletter.DeadLetter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []deadletter.DeadLetter{}
	for _, dl := range d.all {
		out = append(out, dl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

func (d *memDeadLetters) DeleteDeadLetter(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.all[id]; !ok {
		return fmt.Errorf("dead letter %s: %w", id, order.ErrNotFound)
	}
	delete(d.all, id)
	return nil
}

type fixture struct {
	srv   *Server
	store *memOrders
	keys  *memIdempotency
	gw    *fakeGateway
	stock *memStock
	pub   *fakePublisher
	dead  *memDeadLetters
}

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newFixture is a server on fakes; with, if given, changes its dependencies.
func newFixture(t *testing.T, with ...func(*Deps)) *fixture {
	t.Helper()
	items, err := catalog.Demo()
	require.NoError(t, err)
	rates, err := tax.Load()
	require.NoError(t, err)
	initial := map[string]int{}
	for _, it := range items {
		initial[it.SKU] = it.Stock
	}
	f := &fixture{store: newMemOrders(), gw: &fakeGateway{}, stock: newMemStock(initial), pub: &fakePublisher{},
		dead: newMemDeadLetters(), keys: &memIdempotency{records: map[string]order.IdempotencyRecord{}}}
	deps := Deps{Orders: f.store, Placements: f.store, History: f.store, Catalog: memCatalog{items}, Tax: rates, Gateway: f.gw, Stock: f.stock,
		Publisher: f.pub, DeadLetters: f.dead, Idempotency: f.keys, Log: zerolog.Nop(), Now: func() time.Time { return testNow }}
	for _, w := range with {
		w(&deps)
	}
	f.srv, err = New(deps)
	require.NoError(t, err)
	return f
}
