// Broken on purpose: reads a storage key instead of using the identity.
param storageName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageName
}

var storageKey = storage.listKeys().keys[0].value

output ok string = storage.name
