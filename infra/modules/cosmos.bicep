// Cosmos DB for NoSQL: the account (keys disabled), database and containers.
// The database and containers come from infra/containers.json, the same
// declarative definition the local stack reads, so Azure and the laptop can't
// drift apart. The app identity gets the built-in data-plane role
// "Cosmos DB Built-in Data Contributor" through a sqlRoleAssignment (Cosmos
// data-plane RBAC is not Azure RBAC).

@description('Cosmos DB account name: 3-44 lowercase letters, digits and hyphens.')
@minLength(3)
@maxLength(44)
param accountName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Serverless (pay per request, the default) or provisioned autoscale throughput shared by all containers.')
@allowed([
  'Serverless'
  'Autoscale'
])
param capacityMode string = 'Serverless'

@description('Autoscale maximum RU/s of the shared database throughput (Autoscale only).')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Principal id of the app identity (gets Cosmos DB Built-in Data Contributor).')
param dataContributorPrincipalId string

var schema = loadJsonContent('../containers.json')
var serverless = capacityMode == 'Serverless'

// Cosmos DB Built-in Data Contributor: a fixed data-plane role definition id.
var dataContributorRole = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: schema.database
  properties: {
    resource: {
      id: schema.database
    }
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for c in schema.containers: {
  parent: database
  name: c.name
  properties: {
    resource: {
      id: c.name
      partitionKey: {
        paths: [
          c.partitionKeyPath
        ]
        kind: 'Hash'
        version: 2
      }
      // Time to live in seconds where containers.json gives one (the
      // idempotency records: a day); null leaves it off.
      defaultTtl: contains(c, 'defaultTtl') ? c.defaultTtl : null
    }
  }
}]

resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, dataContributorPrincipalId, dataContributorRole)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRole}'
    principalId: dataContributorPrincipalId
    scope: account.id
  }
}

output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
