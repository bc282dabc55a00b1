// Package funchost is a local Azure Functions host for custom handlers.
//
// It reads the same host.json and <Function>/function.json files that deploy
// to Azure, starts the custom handler executable exactly as the real host does
// (FUNCTIONS_CUSTOMHANDLER_PORT, app settings in the environment, GET / until
// it answers, restart on exit), serves HTTP triggers on the route prefix
// "api", and runs every cosmosDBTrigger as a change feed listener with leases
// and retry policies. It exists so the app runs on a machine with no Azure,
// no Core Tools and no .NET; it is never imported by product code.
package funchost
