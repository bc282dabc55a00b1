package cosmosstore_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
	"github.com/ordersflow/orderpipeline/shared/order"
)

// TestReservationsShareABatch: lines of one SKU that arrive while a
// reservation batch of that SKU is in flight go out together in one batch,
// and each holds its stock.
func TestReservationsShareABatch(t *testing.T) {
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s := observedStore(t, func(_ context.Context, op string, _ float32) {
		if op == "reserve_stock" && calls.Add(1) == 1 {
			close(entered) // the first batch has committed; hold its answer
			<-release
		}
	})
	sku := "SKU-GROUP"
	seedStock(t, s, map[string]int{sku: 20})
	stock := s.Inventory()
	ctx := context.Background()

	errs := make(chan error, 6)
	go func() { errs <- stock.Reserve(ctx, "ord_first", sku, 2) }()
	<-entered
	for _, id := range []string{"ord_1", "ord_2", "ord_3", "ord_4", "ord_5"} {
		go func() { errs <- stock.Reserve(ctx, id, sku, 3) }()
	}
	require.Eventually(t, func() bool { return stock.Queued(sku) == 5 }, 10*time.Second, time.Millisecond)
	close(release)
	for range 6 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int32(2), calls.Load(), "the five waiting lines shared one batch")
	assert.Equal(t, 20-2-5*3, availableIn(t, s, sku))

	require.NoError(t, stock.Reserve(ctx, "ord_3", sku, 3), "a line of the group is held: reserving again does nothing")
	assert.Equal(t, 3, availableIn(t, s, sku))
	require.NoError(t, stock.Release(ctx, "ord_3", sku, 3))
	assert.Equal(t, 6, availableIn(t, s, sku), "a line of the group releases on its own")
}

// TestReservationGroupFallsBack: a group whose one batch fails as a whole
// is reserved line by line, and every line gets the answer it would have
// had alone.
func TestReservationGroupFallsBack(t *testing.T) {
	for name, s := range contractStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			stock := s.Inventory()

			t.Run("an order of the group holds its line already", func(t *testing.T) {
				sku, held := unique("SKU-"), unique("ord_")
				seedStock(t, s, map[string]int{sku: 5})
				require.NoError(t, stock.Reserve(ctx, held, sku, 2))
				errs := stock.ReserveGroup(ctx, sku, []string{held, unique("ord_"), unique("ord_")}, []int{2, 1, 2})
				assert.Equal(t, []error{nil, nil, nil}, errs)
				assert.Equal(t, 0, availableIn(t, s, sku), "the held line is not taken twice")
			})

			t.Run("the group wants more than is left", func(t *testing.T) {
				sku := unique("SKU-")
				seedStock(t, s, map[string]int{sku: 3})
				errs := stock.ReserveGroup(ctx, sku, []string{unique("ord_"), unique("ord_")}, []int{2, 2})
				short := 0
				for _, err := range errs {
					if err != nil {
						require.ErrorIs(t, err, order.ErrInsufficientStock)
						short++
					}
				}
				assert.Equal(t, 1, short, "one line fits, the other is short")
				assert.Equal(t, 1, availableIn(t, s, sku))
			})

			t.Run("the SKU does not exist", func(t *testing.T) {
				sku := unique("SKU-NOPE-")
				for _, err := range stock.ReserveGroup(ctx, sku, []string{unique("ord_"), unique("ord_")}, []int{1, 1}) {
					assert.ErrorIs(t, err, order.ErrNotFound)
				}
			})
		})
	}
}

// failFirstBatch fails, once armed, the first transactional batch sent to
// the inventory container as a connection that broke would.
type failFirstBatch struct {
	armed   atomic.Bool
	batches atomic.Int32
}

func (f *failFirstBatch) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	if r.Header.Get("x-ms-cosmos-is-batch-request") != "" && strings.Contains(r.URL.Path, "/colls/inventory") && f.armed.Load() {
		if f.batches.Add(1) == 1 {
			return nil, errors.New("connection reset by peer")
		}
	}
	return req.Next()
}

// TestReservationGroupFallsBackAfterAFailedCall: when the call of a shared
// batch fails, each line is still reserved, in a batch of its own.
func TestReservationGroupFallsBackAfterAFailedCall(t *testing.T) {
	fail := &failFirstBatch{}
	client := emulatorClient(t, &azcosmos.ClientOptions{ClientOptions: azcore.ClientOptions{
		PerCallPolicies: []policy.Policy{fail}, Retry: policy.RetryOptions{MaxRetries: -1}}})
	s := storeIn(t, client, "commerce", false)
	sku := unique("SKU-")
	seedStock(t, s, map[string]int{sku: 5})
	fail.armed.Store(true)
	errs := s.Inventory().ReserveGroup(context.Background(), sku, []string{unique("ord_"), unique("ord_"), unique("ord_")}, []int{1, 1, 2})
	assert.Equal(t, []error{nil, nil, nil}, errs)
	assert.Equal(t, int32(4), fail.batches.Load(), "the shared batch failed, then one batch per line")
	assert.Equal(t, 1, availableIn(t, s, sku))
}

// TestConcurrentReservationsSellExactlyTheStock: 64 orders of one unit race
// for 10; exactly 10 hold stock, the rest are short, and none is lost.
func TestConcurrentReservationsSellExactlyTheStock(t *testing.T) {
	for name, s := range contractStores(t) {
		t.Run(name, func(t *testing.T) {
			sku := unique("SKU-")
			seedStock(t, s, map[string]int{sku: 10})
			stock := s.Inventory()
			var held, short atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 64 {
				wg.Go(func() {
					<-start
					err := stock.Reserve(context.Background(), unique("ord_"), sku, 1)
					switch {
					case err == nil:
						held.Add(1)
					case assert.ErrorIs(t, err, order.ErrInsufficientStock):
						short.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Equal(t, int32(10), held.Load())
			assert.Equal(t, int32(54), short.Load())
			assert.Equal(t, 0, availableIn(t, s, sku))
		})
	}
}

// observedStore is a store on a fresh emulator whose every call's charge
// goes to observe.
func observedStore(t *testing.T, observe cosmosstore.ChargeObserver) *cosmosstore.Store {
	t.Helper()
	return storeWith(t, emulatorClient(t), "commerce", false, cosmosstore.Options{Observe: observe})
}

func unique(prefix string) string { return prefix + randomHex() }
