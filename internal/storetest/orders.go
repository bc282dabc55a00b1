package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// Orders is the order store: the union of what the handlers' functions use.
type Orders interface {
	Order(ctx context.Context, id string) (order.Order, error)
	Event(ctx context.Context, orderID string, t order.EventType) (order.Event, error)
	Events(ctx context.Context, orderID string) ([]order.Event, error)
	CreateOrder(ctx context.Context, o order.Order, placed order.Event) error
	Append(ctx context.Context, o order.Order, events ...order.Event) error
}

// TestOrders runs the orders contract; newStore returns the store under
// test for one subtest.
func TestOrders(t *testing.T, newStore func(t *testing.T) Orders) {
	cases := []struct {
		name string
		run  func(t *testing.T, s Orders)
	}{
		{"a created order reads back with its event", createdOrderReadsBack},
		{"an order id is created once", orderCreatedOnce},
		{"what doesn't exist is not found", missingIsNotFound},
		{"an append moves the order on", appendMovesOn},
		{"an append with a stale ETag writes nothing", staleAppendWritesNothing},
		{"the same event twice conflicts", sameEventTwiceConflicts},
		{"of concurrent appends one wins", concurrentAppendsOneWins},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// place creates a new order of one line.
func place(t *testing.T, s Orders) (order.Order, order.Event) {
	t.Helper()
	req := order.PlaceRequest{CustomerID: "c", Currency: "USD", Lines: []order.RequestLine{{SKU: "SKU-1", Quantity: 2}},
		ShipTo: order.Address{Country: "US", Region: "NY", PostalCode: "1"}, Payment: order.PaymentMethod{Token: "tok_visa"}}
	products := map[string]catalog.Product{"SKU-1": {SKU: "SKU-1", Name: "one", Price: 500, Currency: "USD", TaxCategory: "standard"}}
	o, placed, err := order.Place(req, products, order.Placement{ID: unique("ord_"), CorrelationID: "corr",
		At: time.Now().UTC().Truncate(time.Millisecond)})
	require.NoError(t, err)
	require.NoError(t, s.CreateOrder(context.Background(), o, placed))
	return o, placed
}

// read reads an order that must exist.
func read(t *testing.T, s Orders, id string) order.Order {
	t.Helper()
	o, err := s.Order(context.Background(), id)
	require.NoError(t, err)
	return o
}

// taxed records TaxApplied on o, which moves o on to Taxed.
func taxed(t *testing.T, o *order.Order) order.Event {
	t.Helper()
	ev, err := o.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1), Tax: 40, Total: 1040}, time.Now().UTC())
	require.NoError(t, err)
	return ev
}

func createdOrderReadsBack(t *testing.T, s Orders) {
	ctx := context.Background()
	o, placed := place(t, s)
	got := read(t, s, o.ID)
	assert.NotEmpty(t, got.ETag, "an order read carries its ETag")
	got.ETag = ""
	assert.Equal(t, o.Status, got.Status)
	assert.Equal(t, o.Lines, got.Lines)
	assert.Equal(t, o.Total, got.Total)
	assert.True(t, o.CreatedAt.Equal(got.CreatedAt))
	ev, err := s.Event(ctx, o.ID, order.OrderPlaced)
	require.NoError(t, err)
	assert.Equal(t, placed.ID, ev.ID)
	assert.JSONEq(t, string(placed.Data), string(ev.Data))
	events, err := s.Events(ctx, o.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, placed.ID, events[0].ID)
}

func orderCreatedOnce(t *testing.T, s Orders) {
	o, placed := place(t, s)
	assert.ErrorIs(t, s.CreateOrder(context.Background(), o, placed), order.ErrConflict)
}

func missingIsNotFound(t *testing.T, s Orders) {
	ctx := context.Background()
	_, err := s.Order(ctx, unique("ord_missing_"))
	assert.ErrorIs(t, err, order.ErrNotFound)
	o, _ := place(t, s)
	_, err = s.Event(ctx, o.ID, order.TaxApplied)
	assert.ErrorIs(t, err, order.ErrNotFound, "an event that didn't happen")
	_, err = s.Order(ctx, order.EventID(o.ID, order.OrderPlaced))
	assert.ErrorIs(t, err, order.ErrNotFound, "an event's id is not an order")
	events, err := s.Events(ctx, unique("ord_missing_"))
	require.NoError(t, err)
	assert.Empty(t, events)
}

func appendMovesOn(t *testing.T, s Orders) {
	ctx := context.Background()
	o, _ := place(t, s)
	before := read(t, s, o.ID)
	next := before
	require.NoError(t, s.Append(ctx, next, taxed(t, &next)))
	after := read(t, s, o.ID)
	assert.Equal(t, order.StatusTaxed, after.Status)
	assert.Equal(t, 2, after.Version)
	assert.NotEqual(t, before.ETag, after.ETag, "every write moves the ETag")
	events, err := s.Events(ctx, o.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, []int{1, 2}, []int{events[0].Seq, events[1].Seq}, "in sequence order")
}

func staleAppendWritesNothing(t *testing.T, s Orders) {
	ctx := context.Background()
	o, _ := place(t, s)
	stale := read(t, s, o.ID)
	first := stale
	require.NoError(t, s.Append(ctx, first, taxed(t, &first)))
	other := taxed(t, &stale)
	other.ID = o.ID + ":Other"
	assert.ErrorIs(t, s.Append(ctx, stale, other), order.ErrConflict)
	events, err := s.Events(ctx, o.ID)
	require.NoError(t, err)
	assert.Len(t, events, 2, "the event of a failed append is not written")
}

func sameEventTwiceConflicts(t *testing.T, s Orders) {
	ctx := context.Background()
	o, _ := place(t, s)
	first := read(t, s, o.ID)
	ev := taxed(t, &first)
	require.NoError(t, s.Append(ctx, first, ev))
	fresh := read(t, s, o.ID)
	assert.ErrorIs(t, s.Append(ctx, fresh, ev), order.ErrConflict, "an event id exists once")
}

func concurrentAppendsOneWins(t *testing.T, s Orders) {
	ctx := context.Background()
	o, _ := place(t, s)
	cur := read(t, s, o.ID)
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := cur
			ev, err := mine.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1)}, time.Now())
			<-start
			if err == nil && s.Append(ctx, mine, ev) == nil {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}
