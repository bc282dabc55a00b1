package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{
		KeyCosmosConnection:     "AccountEndpoint=http://127.0.0.1:1/;AccountKey=a2V5;",
		KeyServiceBusConnection: "Endpoint=sb://127.0.0.1:2;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
	}))
	require.NoError(t, err)
	assert.Equal(t, "8080", cfg.Port)
	assert.Equal(t, "commerce", cfg.Database)
	assert.Equal(t, Containers{"orders", "catalog", "inventory", "payments", "deadletters", "idempotency", "leases"}, cfg.Containers)
	assert.Equal(t, "order-events", cfg.Topic)
	assert.Equal(t, "info", cfg.LogLevel)
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
	assert.Len(t, seen, 19)
}
