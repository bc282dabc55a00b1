// Broken on purpose: outputs a connection string.
param accountName string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

output cosmosConnectionString string = 'AccountEndpoint=${account.properties.documentEndpoint};'
