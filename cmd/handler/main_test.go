package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/infra"
	"github.com/ordersflow/orderpipeline/shared/catalog"
	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

// emulatorConfig starts an in-process Cosmos emulator with the app's
// schema and demo catalog, and returns the handler's config for it. The
// Service Bus client connects lazily, so no broker is needed to build.
func emulatorConfig(t *testing.T) config.Config {
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
	cfg, err := config.Load(settings{
		config.KeyCosmosConnection:     srv.ConnectionString(),
		config.KeyServiceBusConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
	}.get)
	require.NoError(t, err)
	store, err := cosmosstore.New(client, cfg.Database, cfg.Containers, cosmosstore.Options{})
	require.NoError(t, err)
	items, err := catalog.Demo()
	require.NoError(t, err)
	require.NoError(t, store.Seed(ctx, items))
	return cfg
}

type settings map[string]string

func (s settings) get(k string) string { return s[k] }

// TestBuildWiresTheStore builds the handler from config as main does and
// serves a checkout and the catalog through it, against Cosmos DB.
func TestBuildWiresTheStore(t *testing.T) {
	tel, err := newTelemetry(context.Background(), func(string) string { return "" })
	require.NoError(t, err)
	srv, closeClients, err := build(emulatorConfig(t), tel, zerolog.Nop())
	require.NoError(t, err)
	t.Cleanup(closeClients)
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)

	resp, err := http.Get(h.URL + "/api/products")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var products struct {
		Products []struct {
			SKU       string `json:"sku"`
			Available int    `json:"available"`
		} `json:"products"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&products))
	assert.Len(t, products.Products, 9, "the seeded catalog, read through the wired store")

	placeMug(t, h.URL)
}

// placeMug places an order of one MUG-CLASSIC through the handler at url
// and returns the order's subtotal, read back from Cosmos DB.
func placeMug(t *testing.T, url string) int64 {
	t.Helper()
	body := `{"customerId":"c","currency":"USD","lines":[{"sku":"MUG-CLASSIC","quantity":1}],
		"shipTo":{"country":"US","region":"NY","postalCode":"10001"},"payment":{"token":"tok_visa"}}`
	placed, err := http.Post(url+"/api/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer placed.Body.Close()
	require.Equal(t, http.StatusAccepted, placed.StatusCode)
	got, err := http.Get(url + placed.Header.Get("Location"))
	require.NoError(t, err)
	defer got.Body.Close()
	require.Equal(t, http.StatusOK, got.StatusCode, "the order was written to and read from Cosmos DB")
	var o struct {
		Subtotal int64 `json:"subtotal"`
	}
	require.NoError(t, json.NewDecoder(got.Body).Decode(&o))
	return o.Subtotal
}

// TestCheckoutPricesFromTheCatalogCache changes a price in Cosmos DB: a
// handler built with CATALOG_CACHE_SECONDS keeps pricing at the price it
// read, one built with 0 prices at the new one at once.
func TestCheckoutPricesFromTheCatalogCache(t *testing.T) {
	cfg := emulatorConfig(t)
	serve := func(cache time.Duration) string {
		tel, err := newTelemetry(context.Background(), func(string) string { return "" })
		require.NoError(t, err)
		c := cfg
		c.CatalogCache = cache
		srv, closeClients, err := build(c, tel, zerolog.Nop())
		require.NoError(t, err)
		t.Cleanup(closeClients)
		h := httptest.NewServer(srv)
		t.Cleanup(h.Close)
		return h.URL
	}
	cached, uncached := serve(time.Hour), serve(0)
	require.EqualValues(t, 1250, placeMug(t, cached), "the demo catalog's price")

	client, err := azcosmos.NewClientFromConnectionString(cfg.Cosmos.String, nil)
	require.NoError(t, err)
	products, err := client.NewContainer(cfg.Database, cfg.Containers.Catalog)
	require.NoError(t, err)
	doc := []byte(`{"id":"MUG-CLASSIC","sku":"MUG-CLASSIC","name":"Classic enamel mug","price":1500,"currency":"USD","taxCategory":"standard"}`)
	_, err = products.ReplaceItem(context.Background(), azcosmos.NewPartitionKeyString("MUG-CLASSIC"), "MUG-CLASSIC", doc, nil)
	require.NoError(t, err)

	assert.EqualValues(t, 1250, placeMug(t, cached), "within CATALOG_CACHE_SECONDS: the price read before")
	assert.EqualValues(t, 1500, placeMug(t, uncached), "CATALOG_CACHE_SECONDS=0: the price in the catalog")
}

func TestRealMainReportsMissingSettings(t *testing.T) {
	for _, k := range []string{config.KeyCosmosConnection, config.KeyCosmosEndpoint,
		config.KeyServiceBusConnection, config.KeyServiceBusNamespace} {
		t.Setenv(k, "")
	}
	err := realMain(context.Background(), zerolog.Nop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), config.KeyCosmosConnection)
	assert.Contains(t, err.Error(), config.KeyServiceBusConnection)
}

func TestRealMainRejectsABadLogLevel(t *testing.T) {
	t.Setenv(config.KeyCosmosConnection, "AccountEndpoint=http://127.0.0.1:1/;AccountKey=a2V5;")
	t.Setenv(config.KeyServiceBusConnection, "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;")
	t.Setenv(config.KeyLogLevel, "loud")
	assert.ErrorContains(t, realMain(context.Background(), zerolog.Nop()), "LOG_LEVEL")
}

// TestServeStopsWhenTheContextEnds serves until ctx is cancelled, then
// returns nil after draining.
func TestServeStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, "127.0.0.1:0", http.NotFoundHandler(), zerolog.Nop()) }()
	cancel()
	assert.NoError(t, <-done)
}

// TestTheHandlerLinksNoTestMachinery keeps the binary free of the local
// stack, the infra package and test libraries.
func TestTheHandlerLinksNoTestMachinery(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/ordersflow/orderpipeline/shared/cosmosstore")
	for _, d := range deps {
		assert.NotContains(t, d, "/emulators/", d)
		assert.NotEqual(t, "github.com/ordersflow/orderpipeline/infra", d)
		assert.NotContains(t, d, "testify", d)
		assert.NotEqual(t, "testing", d)
	}
}
