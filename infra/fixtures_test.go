package infra

// Every check of consistency_test.go and syntax_test.go must catch a broken
// fixture under testdata/: a check that can't fail proves nothing.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

func assertCaught(t *testing.T, problems []string, want ...string) {
	t.Helper()
	all := strings.Join(problems, "\n")
	for _, w := range want {
		assert.Contains(t, all, w)
	}
}

func fixtureFunctions(t *testing.T, name string) []function {
	t.Helper()
	fns, err := loadFunctions(filepath.Join("testdata", "functions", name))
	require.NoError(t, err)
	return fns
}

func TestChecksCatchBrokenFixtures(t *testing.T) {
	r := loadRepo(t)

	t.Run("config key missing from local settings", func(t *testing.T) {
		local, err := loadLocalSettings("testdata/settings/local.settings.missing.json")
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"SERVICEBUS_TOPIC", "LOG_LEVEL"}, local.missing(config.Keys()))
	})
	t.Run("config key missing from Bicep app settings", func(t *testing.T) {
		azure, err := loadBicepSettings("testdata/settings/functionapp.missing.bicep", r.schema)
		require.NoError(t, err)
		for _, plan := range hostingPlanKeys {
			// SERVICEBUS__clientId gone: the identity group of SERVICEBUS is
			// incomplete, so the connection is not set either.
			assert.ElementsMatch(t, []string{"SERVICEBUS", "SERVICEBUS__clientId", "LOG_LEVEL"}, azure[plan].missing(config.Keys()), plan)
		}
	})
	t.Run("binding connection and %setting% not set", func(t *testing.T) {
		assertCaught(t, checkBindingSettings(fixtureFunctions(t, "missing-setting"), r.places()),
			"connection GATEWAY is not set in ../local.settings.json.example",
			"connection GATEWAY is not set in modules/functionapp.bicep (FlexConsumption)",
			"containerName refers to %REFUNDS_CONTAINER%, not set in modules/functionapp.bicep (ElasticPremium)")
	})
	t.Run("container not in the container definition", func(t *testing.T) {
		assertCaught(t, checkCosmosBindings(fixtureFunctions(t, "unknown-container"), r.schema, r.places()),
			`containerName resolves to "refunds"`)
	})
	t.Run("lease container not on /id", func(t *testing.T) {
		assertCaught(t, checkCosmosBindings(fixtureFunctions(t, "lease-not-id"), r.schema, r.places()),
			`lease container "orders" is partitioned on /orderId`)
		b, err := os.ReadFile("testdata/settings/containers.lease-on-pk.json")
		require.NoError(t, err)
		var schema cosmosstore.Schema
		require.NoError(t, json.Unmarshal(b, &schema))
		assertCaught(t, checkLeaseContainers(schema), "lease container leases is on /partitionKey")
	})
	t.Run("two triggers on one container share a lease prefix", func(t *testing.T) {
		assertCaught(t, checkCosmosBindings(fixtureFunctions(t, "duplicate-prefix"), r.schema, r.places()),
			`leaseContainerPrefix "tax-" on commerce/orders is already used by TaxA`)
	})
	t.Run("listKeys, connection-string output, key auth on", func(t *testing.T) {
		assertCaught(t, checkNoSecrets([]string{
			"testdata/secrets/listkeys.bicep",
			"testdata/secrets/connection-string-output.bicep",
			"testdata/secrets/local-auth.bicep",
		}),
			"testdata/secrets/listkeys.bicep:8: listKeys( reads keys or secrets",
			"testdata/secrets/connection-string-output.bicep:8: output cosmosConnectionString exposes",
			"testdata/secrets/local-auth.bicep:6: disableLocalAuth: false turns key authentication on")
	})
	t.Run("parameter file sets an unknown or secret parameter", func(t *testing.T) {
		assertCaught(t, checkParameterFiles("main.bicep", []string{"testdata/params/main.unknown.parameters.json"}),
			"parameter cosmosPrimaryKey is not a param of main.bicep",
			"parameter cosmosPrimaryKey looks like a secret",
			"required parameter environmentName of main.bicep is not set",
			"key material in a parameter file")
	})
	t.Run("siteConfig property Flex Consumption rejects", func(t *testing.T) {
		assertCaught(t, checkFlexSiteConfig("testdata/settings/functionapp.flex-ftps.bicep"),
			"testdata/settings/functionapp.flex-ftps.bicep:5: ftpsState must be `isFlex ? null : ...`")
	})
	t.Run("Service Bus topology differs from the emulator", func(t *testing.T) {
		assertCaught(t, checkTopology(loadTopology(t), "testdata/settings/emulator.drifted.json"),
			`topic order-events: duplicate detection "PT10M", TTL "P14D" in infra/servicebus.json; "PT5M"`,
			"subscription audit: {Name:audit RequiresSession:true")
	})
	t.Run("required security line missing", func(t *testing.T) {
		assertCaught(t, requiredLines(map[string][]string{"testdata/secrets/local-auth.bicep": {"disableLocalAuth: true"}}),
			"testdata/secrets/local-auth.bicep: missing `disableLocalAuth: true`")
	})
}
