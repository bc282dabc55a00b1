// The function app: a Go custom handler on Linux, on Flex Consumption (the
// default) or Elastic Premium. It runs as the user-assigned identity and every
// connection is identity-based: no key, connection string or secret is set.
//
// App settings are declared in the *Settings objects below and merged into
// appSettings; infra/consistency_test.go reads these objects to prove every
// setting the handler and the function.json bindings need is set.

@description('Function app name.')
param name string

@description('Hosting plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('FlexConsumption (default) or ElasticPremium. See infra/README.md.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Flex Consumption maximum instance count.')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 100

@description('Elastic Premium SKU.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Elastic Premium maximum burst (elastic worker count).')
@minValue(1)
@maxValue(100)
param premiumMaximumElasticWorkerCount int = 20

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (used by every __clientId setting).')
param identityClientId string

@description('Name of the host storage account (AzureWebJobsStorage).')
param storageAccountName string

@description('Blob endpoint of the host storage account.')
param storageBlobEndpoint string

@description('Blob container holding the app package.')
param packageContainerName string

@description('Blob name of the run-from-package zip (Elastic Premium only).')
param packageBlobName string = 'app.zip'

@description('Application Insights component name.')
param appInsightsName string

@description('Cosmos DB account endpoint.')
param cosmosEndpoint string

@description('Service Bus fully qualified namespace.')
param serviceBusNamespace string

@description('Service Bus topic the app publishes to.')
param topicName string

@description('Handler log level (LOG_LEVEL).')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('OTLP/HTTP endpoint the handler exports its traces and metrics to (OTEL_EXPORTER_OTLP_ENDPOINT), e.g. an OpenTelemetry Collector with the Azure Monitor exporter; empty: the handler exports nothing and only the host reports to Application Insights.')
param otlpEndpoint string = ''

@description('Orders of one change feed batch a stage works on at once (STAGE_CONCURRENCY).')
@minValue(1)
@maxValue(1024)
param stageConcurrency int = 64

@description('Seconds checkout keeps a product\'s price before it reads the catalog again (CATALOG_CACHE_SECONDS); 0 reads it on every checkout.')
@minValue(0)
@maxValue(3600)
param catalogCacheSeconds int = 10

@description('Checkouts in flight at which the change feed stages give way to checkout (STAGE_YIELD_CHECKOUTS); 0 never.')
@minValue(0)
@maxValue(1024)
param stageYieldCheckouts int = 16

var schema = loadJsonContent('../containers.json')
var isFlex = hostingPlan == 'FlexConsumption'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Settings read by the handler (shared/config) and by the bindings: the
// identity-based forms of the COSMOS and SERVICEBUS connections.
var handlerSettings = {
  COSMOS__accountEndpoint: cosmosEndpoint
  COSMOS__credential: 'managedidentity'
  COSMOS__clientId: identityClientId
  COSMOS_DATABASE: schema.database
  SERVICEBUS__fullyQualifiedNamespace: serviceBusNamespace
  SERVICEBUS__credential: 'managedidentity'
  SERVICEBUS__clientId: identityClientId
  SERVICEBUS_TOPIC: topicName
  LOG_LEVEL: logLevel
  STAGE_CONCURRENCY: string(stageConcurrency)
  CATALOG_CACHE_SECONDS: string(catalogCacheSeconds)
  STAGE_YIELD_CHECKOUTS: string(stageYieldCheckouts)
}

// ORDERS_CONTAINER=orders, LEASES_CONTAINER=leases, ...: one setting per
// container of infra/containers.json, named by its "setting" field.
var containerSettings = toObject(schema.containers, c => c.setting, c => c.name)

// Settings the Functions host itself reads. The App Insights connection
// string identifies the component and is not a secret (Microsoft: the ikey is
// not a security token); with local auth disabled on the component, ingestion
// needs the Entra token named by APPLICATIONINSIGHTS_AUTHENTICATION_STRING.
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // The host's own telemetry as OpenTelemetry (host.json telemetryMode,
  // set here as an app setting so host.json stays the same everywhere).
  AzureFunctionsJobHost__telemetryMode: 'OpenTelemetry'
}

// The handler's traces and metrics (go.opentelemetry.io/otel) go over OTLP:
// Microsoft documents no Azure Monitor exporter for Go, and the host does
// not forward a custom handler's telemetry (infra/README.md, Telemetry).
// With otlpEndpoint empty the handler finds no endpoint and records nothing.
var telemetrySettings = {
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint
  OTEL_SERVICE_NAME: 'orderpipeline-handler'
}

// Elastic Premium only. On Flex Consumption the runtime is functionAppConfig
// (runtime name 'custom') and these settings are not allowed. The app runs
// from the package blob, read with the identity, so no Azure Files content
// share (which needs a storage key) is configured.
var premiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'custom'
  WEBSITE_RUN_FROM_PACKAGE: '${storageBlobEndpoint}${packageContainerName}/${packageBlobName}'
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}

var appSettings = union(handlerSettings, containerSettings, hostSettings, telemetrySettings, isFlex ? {} : premiumSettings)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: premiumSku
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : premiumMaximumElasticWorkerCount
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${packageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: flexInstanceMemoryMB
        maximumInstanceCount: flexMaximumInstanceCount
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    } : null
    // Flex Consumption rejects the language-stack and plan properties of
    // siteConfig (linuxFxVersion, ftpsState, alwaysOn, ...): set them on
    // Elastic Premium only.
    siteConfig: {
      linuxFxVersion: isFlex ? null : ''
      ftpsState: isFlex ? null : 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
    }
  }
}

// App settings as their own resource (as Azure Verified Modules do): the App
// Insights connection string is only known at deployment time, which a
// for-expression over siteConfig.appSettings would not allow.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// No publishing user/password: deployments authenticate with Entra ID.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = if (!isFlex) {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
