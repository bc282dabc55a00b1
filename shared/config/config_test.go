package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// minimal is the least a handler needs: its two connections.
var minimal = map[string]string{
	KeyCosmosConnection:     "AccountEndpoint=http://127.0.0.1:1/;AccountKey=a2V5;",
	KeyServiceBusConnection: "Endpoint=sb://127.0.0.1:2;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(minimal))
	require.NoError(t, err)
	assert.Equal(t, "8080", cfg.Port)
	assert.Equal(t, "commerce", cfg.Database)
	assert.Equal(t, cosmosstore.Containers{Orders: "orders", Catalog: "catalog", Inventory: "inventory",
		Payments: "payments", DeadLetters: "deadletters", Idempotency: "idempotency"}, cfg.Containers)
	assert.Equal(t, "order-events", cfg.Topic)
	assert.Equal(t, "info", cfg.LogLevel)
	assert.Zero(t, cfg.StageConcurrency, "unset: the handler's default")
	assert.Equal(t, DefaultCatalogCache, cfg.CatalogCache)
	assert.Equal(t, DefaultStageYieldCheckouts, cfg.StageYieldCheckouts, "unset: checkout first from 16 in flight")
}

// settingCase is one value of a setting: what Load makes of it, or that
// it refuses it.
type settingCase[T any] struct {
	value string
	want  T
	ok    bool
}

// checkSetting loads the minimal settings plus key set to each case's
// value and compares what got reads from the config.
func checkSetting[T any](t *testing.T, key string, cases []settingCase[T], got func(Config) T) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			m := map[string]string{key: tc.value}
			for k, v := range minimal {
				m[k] = v
			}
			cfg, err := Load(env(m))
			if !tc.ok {
				assert.ErrorContains(t, err, key)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got(cfg))
		})
	}
}

func TestLoadCatalogCache(t *testing.T) {
	checkSetting(t, KeyCatalogCacheSeconds, []settingCase[time.Duration]{
		{"30", 30 * time.Second, true}, {"0", 0, true}, {"3600", time.Hour, true},
		{"-1", 0, false}, {"3601", 0, false}, {"10s", 0, false}, {"1.5", 0, false},
	}, func(c Config) time.Duration { return c.CatalogCache })
}

func TestLoadStageConcurrency(t *testing.T) {
	checkSetting(t, KeyStageConcurrency, []settingCase[int]{
		{"16", 16, true}, {"1", 1, true},
		{"0", 0, false}, {"-4", 0, false}, {"many", 0, false}, {"100000", 0, false},
	}, func(c Config) int { return c.StageConcurrency })
}

func TestLoadStageYieldCheckouts(t *testing.T) {
	checkSetting(t, KeyStageYieldCheckouts, []settingCase[int]{
		{"16", 16, true}, {"0", 0, true}, {"1024", 1024, true},
		{"-1", 0, false}, {"1025", 0, false}, {"some", 0, false},
	}, func(c Config) int { return c.StageYieldCheckouts })
}

func TestLoadManagedIdentity(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		KeyCosmosEndpoint:      "https://acct.documents.azure.com:443/",
		KeyCosmosCredential:    "managedidentity",
		KeyCosmosClientID:      "11111111-2222-3333-4444-555555555555",
		KeyServiceBusNamespace: "ns.servicebus.windows.net",
		KeyOrdersContainer:     "orders-dev",
	}))
	require.NoError(t, err)
	assert.Equal(t, Connection{Endpoint: "https://acct.documents.azure.com:443/", Credential: "managedidentity", ClientID: "11111111-2222-3333-4444-555555555555"}, cfg.Cosmos)
	assert.Equal(t, "ns.servicebus.windows.net", cfg.ServiceBus.Endpoint)
	assert.Equal(t, "orders-dev", cfg.Containers.Orders)
}

func TestLoadReportsEveryProblemTogether(t *testing.T) {
	_, err := Load(env(map[string]string{KeyServiceBusNamespace: "ns", KeyServiceBusCredential: "password"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set COSMOS (connection string) or COSMOS__accountEndpoint")
	assert.Contains(t, err.Error(), `SERVICEBUS__credential must be "managedidentity"`)
}

func TestKeysAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		assert.False(t, seen[k], "duplicate key %s", k)
		seen[k] = true
	}
	assert.Len(t, seen, len(Keys()))
}
