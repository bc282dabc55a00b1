package cosmosstore_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/internal/storetest"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

// The store contracts (internal/storetest, also kept by the handlers'
// fakes) run against the in-process Cosmos emulator and, with
//
//	COSMOS_CONTRACT_ENDPOINT=https://acct.documents.azure.com:443/ COSMOS_CONTRACT_KEY=... \
//	go test ./shared/cosmosstore -run Contract
//
// against that account too, in a database of its own that the test deletes.
// COSMOS_CONTRACT_INSECURE=1 skips certificate verification (another
// emulator's self-signed certificate), as in emulators/cosmos.

// contractStores returns a store per target: the emulator, and the
// external endpoint when one is given.
func contractStores(t *testing.T) map[string]*cosmosstore.Store {
	t.Helper()
	stores := map[string]*cosmosstore.Store{"emulator": storeIn(t, emulatorClient(t), "commerce", false)}
	if ep := os.Getenv("COSMOS_CONTRACT_ENDPOINT"); ep != "" {
		stores["external"] = storeIn(t, externalClient(t, ep), "storecontract-"+randomHex(), true)
	}
	return stores
}

// emulatorClient is a client (with options o, if any) of a fresh
// in-memory emulator.
func emulatorClient(t *testing.T, o ...*azcosmos.ClientOptions) *azcosmos.Client {
	t.Helper()
	srv, err := cosmos.Start(cosmos.Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	var opts *azcosmos.ClientOptions
	if len(o) > 0 {
		opts = o[0]
	}
	client, err := azcosmos.NewClientFromConnectionString(srv.ConnectionString(), opts)
	require.NoError(t, err)
	return client
}

func externalClient(t *testing.T, endpoint string) *azcosmos.Client {
	t.Helper()
	cred, err := azcosmos.NewKeyCredential(os.Getenv("COSMOS_CONTRACT_KEY"))
	require.NoError(t, err)
	tlsCfg := &tls.Config{InsecureSkipVerify: os.Getenv("COSMOS_CONTRACT_INSECURE") == "1"} //nolint:gosec // opt-in for self-signed emulators
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 60 * time.Second}
	client, err := azcosmos.NewClientWithKey(endpoint, cred,
		&azcosmos.ClientOptions{ClientOptions: policy.ClientOptions{Transport: hc}})
	require.NoError(t, err)
	return client
}

// storeIn creates the app's schema in database db (deleted afterwards if
// drop) and returns a store on it.
func storeIn(t *testing.T, client *azcosmos.Client, db string, drop bool) *cosmosstore.Store {
	t.Helper()
	return storeWith(t, client, db, drop, cosmosstore.Options{})
}

// storeWith is storeIn with options.
func storeWith(t *testing.T, client *azcosmos.Client, db string, drop bool, o cosmosstore.Options) *cosmosstore.Store {
	t.Helper()
	schema, err := infra.LoadSchema()
	require.NoError(t, err)
	schema.Database = db
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, cosmosstore.EnsureSchema(ctx, client, schema))
	if drop {
		t.Cleanup(func() {
			if d, err := client.NewDatabase(db); err == nil {
				_, _ = d.Delete(context.Background(), nil)
			}
		})
	}
	s, err := cosmosstore.New(client, db, config.LoadContainers(func(string) string { return "" }), o)
	require.NoError(t, err)
	return s
}

func randomHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestOrdersContract(t *testing.T) {
	for name, s := range contractStores(t) {
		t.Run(name, func(t *testing.T) {
			storetest.TestOrders(t, func(*testing.T) storetest.Orders { return s })
		})
	}
}

func TestDeadLettersContract(t *testing.T) {
	for name, s := range contractStores(t) {
		t.Run(name, func(t *testing.T) {
			storetest.TestDeadLetters(t, func(*testing.T) storetest.DeadLetters { return s })
		})
	}
}

func TestStockContract(t *testing.T) {
	for name, s := range contractStores(t) {
		t.Run(name, func(t *testing.T) {
			storetest.TestStock(t, func(t *testing.T, initial map[string]int) (storetest.Stock, func(*testing.T, string) int) {
				seedStock(t, s, initial)
				return s.Inventory(), func(t *testing.T, sku string) int { return availableIn(t, s, sku) }
			})
		})
	}
}

// seedStock adds a catalog product with the given stock for each SKU.
func seedStock(t *testing.T, s *cosmosstore.Store, initial map[string]int) {
	t.Helper()
	var items []catalog.Item
	for sku, n := range initial {
		items = append(items, catalog.Item{Product: catalog.Product{SKU: sku, Name: sku, Price: 100, Currency: "USD",
			TaxCategory: "standard"}, Stock: n})
	}
	require.NoError(t, s.Seed(context.Background(), items))
}

func availableIn(t *testing.T, s *cosmosstore.Store, sku string) int {
	t.Helper()
	list, err := s.Catalog(context.Background())
	require.NoError(t, err)
	for _, l := range list {
		if l.SKU == sku {
			return l.Available
		}
	}
	require.FailNow(t, "no such SKU", sku)
	return 0
}
