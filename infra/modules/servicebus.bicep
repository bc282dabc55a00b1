// Service Bus: a Standard namespace (topics and sessions need Standard) with
// SAS keys disabled, the order-events topic with duplicate detection, and its
// subscriptions. The topology comes from infra/servicebus.json, which the
// consistency test compares with the local emulator's configuration. The app
// only publishes, so its identity gets "Azure Service Bus Data Sender" on the
// topic and nothing else.

@description('Namespace name: 6-50 letters, digits and hyphens, starting with a letter.')
@minLength(6)
@maxLength(50)
param namespaceName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Principal id of the app identity (gets Azure Service Bus Data Sender on the topic).')
param senderPrincipalId string

// Topic, duplicate detection window (publishers set MessageId to the event
// id), message TTL and subscriptions.
var topology = loadJsonContent('../servicebus.json')

// Azure Service Bus Data Sender (Azure built-in role).
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: sbNamespace
  name: topology.topic
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: topology.duplicateDetectionWindow
    defaultMessageTimeToLive: topology.messageTimeToLive
    enableBatchedOperations: true
    supportOrdering: true
  }
}

resource topicSubscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = [for s in topology.subscriptions: {
  parent: topic
  name: s.name
  properties: {
    requiresSession: s.requiresSession
    maxDeliveryCount: s.maxDeliveryCount
    deadLetteringOnMessageExpiration: s.deadLetteringOnMessageExpiration
    deadLetteringOnFilterEvaluationExceptions: true
    defaultMessageTimeToLive: topology.messageTimeToLive
    lockDuration: s.lockDuration
  }
}]

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderPrincipalId, serviceBusDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output namespaceName string = sbNamespace.name
// serviceBusEndpoint is https://<name>.servicebus.<cloud suffix>:443/ — keep the host only.
output fullyQualifiedNamespace string = split(replace(sbNamespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output topicName string = topic.name
