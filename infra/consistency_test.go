package infra

// Proves the Bicep is consistent with the code: run by `go test ./infra/...`
// (part of make test). Each check also runs on a broken fixture under
// testdata/ and must catch it (TestChecksCatchBrokenFixtures).

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/config"
	"github.com/ordersflow/orderpipeline/shared/cosmosstore"
)

const (
	repoRoot          = ".."
	functionAppBicep  = "modules/functionapp.bicep"
	localSettingsPath = "../local.settings.json.example"
)

// repo is the real tree under test.
type repo struct {
	schema cosmosstore.Schema
	fns    []function
	local  settings
	azure  map[string]settings // per hosting plan
}

func loadRepo(t *testing.T) repo {
	t.Helper()
	schema, err := LoadSchema()
	require.NoError(t, err)
	fns, err := loadFunctions(filepath.Join(repoRoot, "functions"))
	require.NoError(t, err)
	local, err := loadLocalSettings(localSettingsPath)
	require.NoError(t, err)
	azure, err := loadBicepSettings(functionAppBicep, schema)
	require.NoError(t, err)
	return repo{schema: schema, fns: fns, local: local, azure: azure}
}

// places is every place settings are set: the laptop and each Azure plan.
func (r repo) places() []settings {
	out := []settings{r.local}
	for _, plan := range hostingPlanKeys {
		out = append(out, r.azure[plan])
	}
	return out
}

func noProblems(t *testing.T, problems []string) {
	t.Helper()
	slices.Sort(problems)
	problems = slices.Compact(problems)
	assert.Empty(t, problems, "problems:\n%s", strings.Join(problems, "\n"))
}

func TestConfigKeysAreSetEverywhere(t *testing.T) {
	r := loadRepo(t)
	for _, s := range r.places() {
		assert.Empty(t, s.missing(config.Keys()), "settings config.Load reads but %s does not set", s.where)
	}
}

func TestBindingSettingsAreSetEverywhere(t *testing.T) {
	r := loadRepo(t)
	noProblems(t, checkBindingSettings(r.fns, r.places()))
}

func TestCosmosBindingsMatchContainerDefinition(t *testing.T) {
	r := loadRepo(t)
	noProblems(t, checkCosmosBindings(r.fns, r.schema, r.places()))
}

func TestEveryLeaseContainerIsOnID(t *testing.T) {
	schema, err := LoadSchema()
	require.NoError(t, err)
	noProblems(t, checkLeaseContainers(schema))
}

// checkLeaseContainers: every container named like a lease container is on
// /id (the bindings check covers the ones a trigger actually uses).
func checkLeaseContainers(schema cosmosstore.Schema) []string {
	var problems []string
	for _, c := range schema.Containers {
		if strings.Contains(c.Name, "lease") && c.PartitionKeyPath != "/id" {
			problems = append(problems, fmt.Sprintf("infra/containers.json: lease container %s is on %s, want /id", c.Name, c.PartitionKeyPath))
		}
	}
	return problems
}

func TestHostSettingsAreIdentityBased(t *testing.T) {
	r := loadRepo(t)
	for _, plan := range hostingPlanKeys {
		s := r.azure[plan]
		assert.True(t, s.identityGroup("AzureWebJobsStorage"), "%s: AzureWebJobsStorage__accountName/__credential/__clientId", s.where)
		assert.False(t, s.has("AzureWebJobsStorage"), "%s: AzureWebJobsStorage connection string", s.where)
		assert.True(t, s.has("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"), "%s: App Insights Entra auth", s.where)
		for _, k := range []string{"COSMOS", "SERVICEBUS"} {
			assert.False(t, s.has(k), "%s: %s is a connection string; Azure uses the identity form", s.where, k)
			assert.True(t, s.identityGroup(k), "%s: identity-based %s", s.where, k)
		}
	}
	// Flex Consumption takes the runtime and the package from
	// functionAppConfig; these app settings are deprecated there ("Flex
	// Consumption plan deprecations"). Elastic Premium needs the runtime one.
	for _, k := range []string{
		"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
		"WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
		"SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD",
	} {
		assert.False(t, r.azure["FlexConsumption"].has(k), "%s on Flex Consumption", k)
	}
	v, _ := r.azure["ElasticPremium"].value("FUNCTIONS_WORKER_RUNTIME")
	assert.Equal(t, "custom", v)
	noProblems(t, requiredLines(map[string][]string{functionAppBicep: {"name: 'custom'"}}))
	noProblems(t, checkFlexSiteConfig(functionAppBicep))
}

func TestNoSecretsInBicep(t *testing.T) {
	files, err := bicepFiles(".")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	noProblems(t, checkNoSecrets(files))
	noProblems(t, requiredLines(map[string][]string{
		"modules/cosmos.bicep":     {"disableLocalAuth: true"},
		"modules/servicebus.bicep": {"disableLocalAuth: true", "requiresDuplicateDetection: true"},
		"modules/storage.bicep":    {"allowSharedKeyAccess: false"},
		"modules/monitoring.bicep": {"DisableLocalAuth: true"},
	}))
}

func TestParameterFiles(t *testing.T) {
	files, err := filepath.Glob("main.*.parameters.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2, "a parameter file per environment (dev, prod)")
	noProblems(t, checkParameterFiles("main.bicep", files))
}
