package cosmosstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

// newStore starts an in-process Cosmos emulator, creates the app's schema
// from infra/containers.json and seeds the demo catalog.
func newStore(t *testing.T) (*cosmosstore.Store, *float64) {
	t.Helper()
	client, schema := startEmulator(t, cosmos.Options{})
	ctx := context.Background()
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema))
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema), "idempotent")
	var mu sync.Mutex
	ru := new(float64)
	s, err := cosmosstore.New(client, schema.Database, config.LoadContainers(func(string) string { return "" }),
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

// startEmulator starts an in-process Cosmos emulator with opts and returns
// a client of it and the app's schema (not yet created).
func startEmulator(t *testing.T, opts cosmos.Options) (*azcosmos.Client, cosmosstore.Schema) {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	srv, err := cosmos.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), nil)
	require.NoError(t, err)
	schema, err := infra.LoadSchema()
	require.NoError(t, err)
	return client, schema
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

func TestCatalogAndProducts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	got, err := s.Products(ctx, []string{"MUG-CLASSIC", "NOPE"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, int64(1250), got["MUG-CLASSIC"].Price)
	for _, skus := range [][]string{{"MUG-CLASSIC"}, {"NOPE"}, {"NO/PE"}, {"MUG-CLASSIC?x"}, {".."}} {
		one, err := s.Products(ctx, skus)
		require.NoError(t, err, skus)
		if skus[0] == "MUG-CLASSIC" {
			assert.Equal(t, map[string]catalog.Product{"MUG-CLASSIC": got["MUG-CLASSIC"]}, one, "one SKU is one point read")
			continue
		}
		assert.Empty(t, one, "an unknown SKU is absent, whatever its characters: %q", skus)
	}
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

func TestDeadlineIsTranslated(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := s.Order(ctx, "ord_1")
	assert.ErrorIs(t, err, order.ErrUnavailable)
}

// TestRefusedCallsAreChargedToo: Cosmos DB charges a 404 and a 409, and
// azcosmos returns their charge only on the error; the observer is told it.
func TestRefusedCallsAreChargedToo(t *testing.T) {
	s, ru := newStore(t)
	ctx := context.Background()
	before := *ru
	_, err := s.Order(ctx, "ord_missing")
	require.ErrorIs(t, err, order.ErrNotFound)
	assert.InDelta(t, 1.0, *ru-before, 1e-6, "the 404 read's charge")

	rec := order.IdempotencyRecord{ID: "idk_charge"}
	require.NoError(t, s.CreateIdempotencyRecord(ctx, rec))
	before = *ru
	require.ErrorIs(t, s.CreateIdempotencyRecord(ctx, rec), order.ErrConflict)
	assert.InDelta(t, 1.0, *ru-before, 1e-6, "the 409 create's charge")
}
