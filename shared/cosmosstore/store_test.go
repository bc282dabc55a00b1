package cosmosstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/deadletter"
	"github.com/ordersflow/orderpipeline/shared/inventory"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

// newStore starts an in-process Cosmos emulator, creates the app's schema
// from infra/containers.json and seeds the demo catalog.
func newStore(t *testing.T) (*cosmosstore.Store, *float64) {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), nil)
	require.NoError(t, err)
	schema, err := infra.LoadSchema()
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema))
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema), "idempotent")
	var mu sync.Mutex
	ru := new(float64)
	s, err := cosmosstore.New(client, schema.Database, cosmosstore.Containers{Orders: "orders", Catalog: "catalog",
		Inventory: "inventory", Payments: "payments", DeadLetters: "deadletters", Idempotency: "idempotency"},
		cosmosstore.Options{Observe: func(_ context.Context, _ string, charge float32) {
			mu.Lock()
			*ru += float64(charge)
			mu.Unlock()
		}})
	require.NoError(t, err)
	items, err := catalog.Demo()
	require.NoError(t, err)
	require.NoError(t, s.Seed(ctx, items))
	return s, ru
}

func placeOne(t *testing.T, s *cosmosstore.Store, id string, qty int) order.Order {
	t.Helper()
	req := order.PlaceRequest{CustomerID: "c", Currency: "USD", Lines: []order.RequestLine{{SKU: "LAMP-LTD", Quantity: qty}},
		ShipTo: order.Address{Country: "US", Region: "NY", PostalCode: "1"}, Payment: order.PaymentMethod{Token: "tok_visa"}}
	products, err := s.Products(context.Background(), []string{"LAMP-LTD"})
	require.NoError(t, err)
	o, ev, err := order.Place(req, products, order.Placement{ID: id, CorrelationID: "corr", At: time.Now()})
	require.NoError(t, err)
	require.NoError(t, s.CreateOrder(context.Background(), o, ev))
	o, err = s.Order(context.Background(), id)
	require.NoError(t, err)
	return o
}

func TestOrdersAndEvents(t *testing.T) {
	s, ru := newStore(t)
	ctx := context.Background()
	o := placeOne(t, s, "ord_1", 1)
	assert.NotEmpty(t, o.ETag)
	assert.Equal(t, order.StatusPlaced, o.Status)

	err := s.CreateOrder(ctx, o, order.Event{ID: order.EventID("ord_1", order.OrderPlaced), OrderID: "ord_1", Kind: order.KindEvent})
	assert.ErrorIs(t, err, order.ErrConflict, "an order id is created once")

	ev, err := o.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1)}, time.Now())
	require.NoError(t, err)
	require.NoError(t, s.Append(ctx, o, ev))
	assert.ErrorIs(t, s.Append(ctx, o, ev), order.ErrConflict, "the same stage twice collides")

	got, err := s.Order(ctx, "ord_1")
	require.NoError(t, err)
	assert.Equal(t, order.StatusTaxed, got.Status)
	events, err := s.Events(ctx, "ord_1")
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, []int{1, 2}, []int{events[0].Seq, events[1].Seq})
	placed, err := s.Event(ctx, "ord_1", order.OrderPlaced)
	require.NoError(t, err)
	assert.Equal(t, 1, placed.Seq)

	_, err = s.Order(ctx, "ord_missing")
	assert.ErrorIs(t, err, order.ErrNotFound)
	_, err = s.Order(ctx, order.EventID("ord_1", order.OrderPlaced))
	assert.ErrorIs(t, err, order.ErrNotFound, "an event document is not an order")
	assert.Greater(t, *ru, 0.0, "request charges are observed")
}

func TestAppendWithAStaleETagWritesNothing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	o := placeOne(t, s, "ord_2", 1)
	stale := o
	ev, err := o.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1)}, time.Now())
	require.NoError(t, err)
	require.NoError(t, s.Append(ctx, o, ev))

	other, err := stale.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1), Tax: 99}, time.Now())
	require.NoError(t, err)
	other.ID = "ord_2:SomethingElse"
	assert.ErrorIs(t, s.Append(ctx, stale, other), order.ErrConflict)
	events, err := s.Events(ctx, "ord_2")
	require.NoError(t, err)
	assert.Len(t, events, 2, "the batch is atomic: the event of a failed batch is not written")
}

func TestConcurrentAppendsOneWins(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	o := placeOne(t, s, "ord_3", 1)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := o
			ev, err := mine.Record(order.TaxApplied, order.TaxData{Lines: make([]order.LineTax, 1)}, time.Now())
			if err == nil && s.Append(ctx, mine, ev) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestCatalogAndProducts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	got, err := s.Products(ctx, []string{"MUG-CLASSIC", "NOPE"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, int64(1250), got["MUG-CLASSIC"].Price)
	list, err := s.Catalog(ctx)
	require.NoError(t, err)
	demo, _ := catalog.Demo()
	require.Len(t, list, len(demo))
	for _, l := range list {
		if l.SKU == "LAMP-LTD" {
			assert.Equal(t, 3, l.Available)
		}
	}
}

func TestReserveAndRelease(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	stock := s.Inventory()
	available := func() int {
		list, err := s.Catalog(ctx)
		require.NoError(t, err)
		for _, l := range list {
			if l.SKU == "LAMP-LTD" {
				return l.Available
			}
		}
		return -1
	}
	require.NoError(t, stock.Reserve(ctx, "o1", "LAMP-LTD", 2))
	require.NoError(t, stock.Reserve(ctx, "o1", "LAMP-LTD", 2), "reserving twice holds once")
	assert.Equal(t, 1, available())
	assert.ErrorIs(t, stock.Reserve(ctx, "o2", "LAMP-LTD", 2), inventory.ErrInsufficientStock)
	require.NoError(t, stock.Release(ctx, "o1", "LAMP-LTD"))
	require.NoError(t, stock.Release(ctx, "o1", "LAMP-LTD"), "releasing twice returns once")
	assert.Equal(t, 3, available())
}

func TestConcurrentReservationsNeverOversell(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := s.Inventory().Reserve(ctx, "o"+string(rune('a'+i)), "LAMP-LTD", 1)
			if err == nil {
				ok.Add(1)
			} else {
				assert.ErrorIs(t, err, inventory.ErrInsufficientStock)
			}
		}(i)
	}
	wg.Wait()
	assert.Equal(t, int32(3), ok.Load(), "3 lamps in stock, 3 reservations")
}

func TestLedgerMakesChargesIdempotent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	g, err := payment.NewSimulated(s.Ledger())
	require.NoError(t, err)
	r := payment.Request{Key: "charge~o", OrderID: "o", Token: payment.TokenUnavailable, Amount: 100, Currency: "USD"}
	_, err = g.Charge(ctx, r)
	require.ErrorIs(t, err, payment.ErrUnavailable)
	a, err := g.Charge(ctx, r)
	require.NoError(t, err)
	b, err := g.Charge(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	e, err := s.Ledger().Get(ctx, "charge~o")
	require.NoError(t, err)
	assert.Equal(t, 2, e.Attempts)
	assert.Equal(t, payment.StatusCaptured, e.Status)
	stale := e
	e.Attempts = 9
	require.NoError(t, s.Ledger().Replace(ctx, e))
	assert.ErrorIs(t, s.Ledger().Replace(ctx, stale), order.ErrConflict)
}

func TestDeadLetters(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	d := deadletter.DeadLetter{ID: deadletter.ID("ApplyTax", "x:OrderPlaced"), Function: "ApplyTax", Document: []byte(`{"id":"x"}`), At: time.Now().UTC()}
	require.NoError(t, s.PutDeadLetter(ctx, d))
	require.NoError(t, s.PutDeadLetter(ctx, d), "recording twice keeps one")
	all, err := s.DeadLetters(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	got, err := s.DeadLetter(ctx, d.ID)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"x"}`, string(got.Document))
	require.NoError(t, s.DeleteDeadLetter(ctx, d.ID))
	_, err = s.DeadLetter(ctx, d.ID)
	assert.True(t, errors.Is(err, order.ErrNotFound))
}

func TestDeadlineIsTranslated(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := s.Order(ctx, "ord_1")
	assert.True(t, order.IsTransient(err))
}
