param name string = 'x'

var settings = {
  a: 1
  b:
}

resource r 'Microsoft.Web/sites@2024-04-01' = {
  name: name
