// The whole order pipeline in one resource group: the function app (Go custom
// handler), Cosmos DB, Service Bus, host storage, monitoring and the managed
// identity that connects them. Deploy with infra/deploy.sh (make deploy); see
// infra/README.md.
//
// No key, connection string or secret is created, passed or output: every
// service has local/shared-key auth disabled and the app reaches it with its
// user-assigned identity.

targetScope = 'resourceGroup'

@description('Environment name (dev, prod, ...): lowercase letters and digits, used in every resource name.')
@minLength(2)
@maxLength(10)
param environmentName string

@description('Azure region of every resource. Flex Consumption is not in every region: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('Function app hosting plan. FlexConsumption (default) accepts a custom handler; ElasticPremium is the fallback. See infra/README.md.')
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

@description('Elastic Premium SKU (hostingPlan ElasticPremium only).')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Cosmos DB capacity: Serverless (default) or Autoscale (shared database throughput).')
@allowed([
  'Serverless'
  'Autoscale'
])
param cosmosCapacityMode string = 'Serverless'

@description('Autoscale maximum RU/s of the database (cosmosCapacityMode Autoscale only).')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Handler log level.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('OTLP/HTTP endpoint for the handler\'s traces and metrics (e.g. an OpenTelemetry Collector that exports to Azure Monitor); empty: only the host reports to Application Insights.')
param otlpEndpoint string = ''

@description('Orders of one change feed batch a stage works on at once.')
@minValue(1)
@maxValue(1024)
param stageConcurrency int = 64

@description('Seconds checkout keeps a product\'s price before it reads the catalog again; 0 reads it on every checkout.')
@minValue(0)
@maxValue(3600)
param catalogCacheSeconds int = 10

@description('Checkouts in flight at which the change feed stages give way to checkout; 0 never.')
@minValue(0)
@maxValue(1024)
param stageYieldCheckouts int = 16

@description('Object id of who uploads the app package (ElasticPremium only: Storage Blob Data Contributor on the package container). infra/deploy.sh passes the signed-in principal.')
param deployerPrincipalId string = ''

@description('Type of deployerPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Extra tags for every resource.')
param tags object = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, {
  app: 'orderpipeline'
  environment: environmentName
})

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${environmentName}-${token}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${environmentName}-${token}'
    appInsightsName: 'appi-${environmentName}-${token}'
    location: location
    tags: allTags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${take(token, 13)}${take(environmentName, 9)}'
    location: location
    tags: allTags
    hostPrincipalId: identity.outputs.principalId
    uploaderPrincipalId: hostingPlan == 'ElasticPremium' ? deployerPrincipalId : ''
    uploaderPrincipalType: deployerPrincipalType
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: 'cosmos-${environmentName}-${token}'
    location: location
    tags: allTags
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    dataContributorPrincipalId: identity.outputs.principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    namespaceName: 'sb-${environmentName}-${token}'
    location: location
    tags: allTags
    senderPrincipalId: identity.outputs.principalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${environmentName}-${token}'
    planName: 'plan-${environmentName}-${token}'
    location: location
    tags: allTags
    hostingPlan: hostingPlan
    flexInstanceMemoryMB: flexInstanceMemoryMB
    flexMaximumInstanceCount: flexMaximumInstanceCount
    premiumSku: premiumSku
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    packageContainerName: storage.outputs.packageContainerName
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosEndpoint: cosmos.outputs.endpoint
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    topicName: serviceBus.outputs.topicName
    logLevel: logLevel
    stageConcurrency: stageConcurrency
    catalogCacheSeconds: catalogCacheSeconds
    stageYieldCheckouts: stageYieldCheckouts
    otlpEndpoint: otlpEndpoint
  }
}

@description('Base URL of the function app; the API is under /api.')
output functionAppUrl string = functionApp.outputs.url

@description('Function app name (infra/deploy.sh publishes to it).')
output functionAppName string = functionApp.outputs.name

@description('Hosting plan the app runs on.')
output hostingPlan string = hostingPlan

@description('Cosmos DB account endpoint.')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('Service Bus fully qualified namespace.')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('Storage account holding the app package.')
output storageAccountName string = storage.outputs.name

@description('Blob container holding the app package.')
output packageContainerName string = storage.outputs.packageContainerName

@description('Client id of the app identity (for granting it more access).')
output identityClientId string = identity.outputs.clientId
