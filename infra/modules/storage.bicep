// The host's storage account (AzureWebJobsStorage) with shared-key access
// disabled: the host reaches it only with the app identity. It also holds the
// deployment package container (Flex Consumption deployment storage, or the
// run-from-package blob on Elastic Premium).

@description('Storage account name: 3-24 lowercase letters and digits.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Blob container that holds the app package.')
param packageContainerName string = 'app-package'

@description('Principal id of the app identity (gets Storage Blob Data Owner).')
param hostPrincipalId string

@description('Principal id allowed to upload the app package (Storage Blob Data Contributor on the package container); empty for none.')
param uploaderPrincipalId string = ''

@description('Principal type of uploaderPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param uploaderPrincipalType string = 'User'

// Azure built-in roles. Blob Data Owner covers what the Functions host needs
// from AzureWebJobsStorage (read/write blobs, create containers); the app has
// no queue, table or blob triggers, so no queue/table roles are granted.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: packageContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, hostPrincipalId, storageBlobDataOwner)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: hostPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource uploader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(uploaderPrincipalId)) {
  name: guid(packageContainer.id, uploaderPrincipalId, storageBlobDataContributor)
  scope: packageContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: uploaderPrincipalId
    principalType: uploaderPrincipalType
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output packageContainerName string = packageContainer.name
