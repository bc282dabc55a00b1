// Broken on purpose: turns key authentication back on.
resource ns 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: 'sb-broken'
  location: 'westeurope'
  properties: {
    disableLocalAuth: false
  }
}
