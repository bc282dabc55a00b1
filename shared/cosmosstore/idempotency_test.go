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
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// TestIdempotencyRecords: the record create is the one write that decides
// between concurrent requests with one key, so exactly one of many
// concurrent creates succeeds and the rest see order.ErrConflict.
func TestIdempotencyRecords(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	req := order.PlaceRequest{CustomerID: "c-1", Currency: "USD", Lines: []order.RequestLine{{SKU: "LAMP-LTD", Quantity: 1}},
		ShipTo: order.Address{Country: "US", Region: "NY", PostalCode: "1"}, Payment: order.PaymentMethod{Token: "tok_visa"}}
	products, err := s.Products(ctx, []string{"LAMP-LTD"})
	require.NoError(t, err)
	o, placed, err := order.Place(req, products, order.Placement{ID: order.NewID(), CorrelationID: "corr", IdempotencyKey: "k", At: time.Now()})
	require.NoError(t, err)
	rec := order.NewIdempotencyRecord("k", req, o, placed)

	_, err = s.IdempotencyRecord(ctx, rec.ID)
	require.ErrorIs(t, err, order.ErrNotFound)

	var wins, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateIdempotencyRecord(ctx, rec)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case assert.ErrorIs(t, err, order.ErrConflict):
				conflicts++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, 7, conflicts)

	got, err := s.IdempotencyRecord(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, o.ID, got.Order.ID)
	assert.True(t, got.Matches(req))
	assert.JSONEq(t, string(placed.Data), string(got.Placed.Data))
	require.NoError(t, s.CreateOrder(ctx, got.Order, got.Placed), "the stored order and event can be written as they are")
	stored, err := s.Order(ctx, o.ID)
	require.NoError(t, err)
	assert.Equal(t, o.Total, stored.Total)

	_, err = s.IdempotencyRecord(ctx, order.IdempotencyRecordID("c-2", "k"))
	assert.ErrorIs(t, err, order.ErrNotFound, "another customer's key has no record")
}

// TestIdempotencyRecordsExpire: the schema gives the idempotency
// container a time to live, also to one created before it had one, so a
// record is gone a day after it was written and the key is free again.
func TestIdempotencyRecordsExpire(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	client, schema := startEmulator(t, cosmos.Options{Now: clock})
	ctx := context.Background()

	// A data directory from before: the container without time to live.
	_, err := client.CreateDatabase(ctx, azcosmos.DatabaseProperties{ID: schema.Database}, nil)
	require.NoError(t, err)
	db, err := client.NewDatabase(schema.Database)
	require.NoError(t, err)
	_, err = db.CreateContainer(ctx, azcosmos.ContainerProperties{ID: "idempotency",
		PartitionKeyDefinition: azcosmos.PartitionKeyDefinition{Paths: []string{"/id"}}}, nil)
	require.NoError(t, err)
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema))
	idem, err := db.NewContainer("idempotency")
	require.NoError(t, err)
	props, err := idem.Read(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, props.ContainerProperties.DefaultTimeToLive, "EnsureSchema set the schema's time to live")
	assert.Equal(t, int32(24*60*60), *props.ContainerProperties.DefaultTimeToLive)

	s, err := cosmosstore.New(client, schema.Database, config.LoadContainers(func(string) string { return "" }), cosmosstore.Options{})
	require.NoError(t, err)
	items, err := catalog.Demo()
	require.NoError(t, err)
	require.NoError(t, s.Seed(ctx, items))
	req := order.PlaceRequest{CustomerID: "c-1", Currency: "USD", Lines: []order.RequestLine{{SKU: "LAMP-LTD", Quantity: 1}},
		ShipTo: order.Address{Country: "US", Region: "NY", PostalCode: "1"}, Payment: order.PaymentMethod{Token: "tok_visa"}}
	products, err := s.Products(ctx, []string{"LAMP-LTD"})
	require.NoError(t, err)
	o, placed, err := order.Place(req, products, order.Placement{ID: order.NewID(), CorrelationID: "corr", IdempotencyKey: "k", At: clock()})
	require.NoError(t, err)
	rec := order.NewIdempotencyRecord("k", req, o, placed)
	require.NoError(t, s.CreateIdempotencyRecord(ctx, rec))

	mu.Lock()
	now = now.Add(24*time.Hour - time.Second)
	mu.Unlock()
	_, err = s.IdempotencyRecord(ctx, rec.ID)
	require.NoError(t, err, "a second short of a day, the key still replays")
	require.ErrorIs(t, s.CreateIdempotencyRecord(ctx, rec), order.ErrConflict)

	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	_, err = s.IdempotencyRecord(ctx, rec.ID)
	require.ErrorIs(t, err, order.ErrNotFound, "a day after it was written the record is gone")
	require.NoError(t, s.CreateIdempotencyRecord(ctx, rec), "and the key is free for a new order")
}
