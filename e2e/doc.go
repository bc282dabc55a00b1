// Package e2e holds the end-to-end tests of the order pipeline: the staged
// app run by the local Functions host on the Cosmos DB and Service Bus
// emulators, driven over HTTP like a shopper would.
package e2e
