package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

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

	body := `{"customerId":"c","currency":"USD","lines":[{"sku":"MUG-CLASSIC","quantity":1}],
		"shipTo":{"country":"US","region":"NY","postalCode":"10001"},"payment":{"token":"tok_visa"}}`
	placed, err := http.Post(h.URL+"/api/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer placed.Body.Close()
	require.Equal(t, http.StatusAccepted, placed.StatusCode)
	got, err := http.Get(h.URL + placed.Header.Get("Location"))
	require.NoError(t, err)
	defer got.Body.Close()
	assert.Equal(t, http.StatusOK, got.StatusCode, "the order was written to and read from Cosmos DB")
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
