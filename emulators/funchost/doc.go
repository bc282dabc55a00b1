// Package funchost is a local Azure Functions host for custom handlers.
//
// It reads the same host.json and <Function>/function.json files that deploy
// to Azure, starts the custom handler executable exactly as the real host does
// (FUNCTIONS_CUSTOMHANDLER_PORT, app settings in the environment, GET / until
// it answers, restart on exit), serves HTTP triggers on the route prefix
// "api", and runs every cosmosDBTrigger as a change feed listener with leases
// and retry policies. It exists so the app runs on a machine with no Azure,
// no Core Tools and no .NET; it is never imported by product code.
//
// What matches the real host:
//
//   - HTTP: route templates with constraints, optional and catch-all
//     parameters, methods, extensions.http.routePrefix; the raw request is
//     forwarded when enableForwardingHttpRequest is set and the function's
//     bindings are exactly httpTrigger in + http out, the Data.req envelope
//     otherwise; X-Azure-Functions-InvocationId on every request.
//
//   - Envelope invocations: POST /<FunctionName>; a non-2xx reply or one
//     that is not application/json fails the invocation and discards the
//     Outputs; Logs are printed.
//
//   - cosmosDBTrigger: Data.<name> is the JSON array as a string, serialised
//     once more; Metadata.sys; Metadata.RetryContext when function.json has a
//     retry policy. Without a policy a failed batch is logged and
//     checkpointed past (lost); with one the batch is retried and the
//     checkpoint moves only after success or after the last retry. As the
//     change feed processor does, a lease reads again at once after a page
//     with documents and waits feedPollDelay only after an empty one; one
//     batch is in flight per lease.
//
//   - Leases: one document per physical partition, id
//     <leaseContainerPrefix><token>, in a lease container partitioned on
//     /id, holding the feed range, the continuation, the owner and an
//     expiry; every write is ETag-guarded, renewed every leaseRenewInterval,
//     taken over only after leaseExpirationInterval, released on Close.
//
//   - Several instances (Config.InstanceID, funchost -instance) on one
//     lease container balance the leases as the change feed processor's
//     EqualPartitionsBalancingStrategy does: every leaseAcquireInterval each
//     reads all leases, aims at ⌈leases ÷ instances⌉, takes free or expired
//     leases first, and otherwise asks one lease of the instance holding the
//     most when that one holds more than its share.
//
//   - Splits: when a lease's range is gone (410 with substatus 1002;
//     azcosmos absorbs that itself and continues on the children, so the
//     host also sees it as a continuation spanning several ranges), the
//     lease is replaced by one child lease per child range, each starting
//     from the parent's continuation, and the parent is deleted.
//
//   - Keys and authLevel: keys live in AzureWebJobsStorage (container
//     azure-webjobs-secrets, {hostId}/host.json and {hostId}/{function}.json,
//     the host's JSON), generated as the host's SecretGenerator does, created
//     on first start and reused; authLevel function needs the function's key,
//     a host function key or the master key (x-functions-key or ?code=),
//     admin and /admin/* the master key; a missing or wrong key is 401.
//
//   - The primary host lock: a lease on azure-webjobs-hosts,
//     locks/{hostId}/host, renewed before it expires; the others retry.
//
//   - Body limit FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (100 MB): 413.
//
// Standing where Azure's front end stands, it also streams bodies, applies
// header, read, write and idle timeouts and a connection limit, and answers
// every error of its own (404, 405 with Allow, 401, 413, 408, 500) as RFC
// 9457 problem+json; paths with empty or dot segments are a 404.
//
// Its Cosmos DB clients reach an account over TCP, or, when
// Config.CosmosTransports has a transport for the connection's account
// endpoint, through that transport: devstack gives the Cosmos DB emulator
// running in the host's process (cosmos.Server.Transport), so the
// triggers' change feed polls, lease reads and checkpoints are served by
// the emulator's handler without loopback TCP; azcosmos still signs,
// retries, routes and splits, and the emulator still injects its faults,
// throttles and charges.
//
// Connections to the handler are kept alive, as the host's HttpClient
// keeps them: at most 64 idle, each closed after 60 s unused or as soon as
// the handler closes it.
//
// Local differences: only the binding types the app uses are supported
// (httpTrigger, http, cosmosDBTrigger) and anything else is a start-up
// error; identity-based connections are not supported (AzureWebJobsStorage
// included); keys are never encrypted and only blob secret storage exists;
// authLevel user is refused; Config.FeedPollDelay and
// Config.LeaseExpiration may shorten every feedPollDelay and
// leaseExpirationInterval. After a full page (maxItemsPerInvocation
// documents: more are waiting) the batch's checkpoint is written while the
// next page is read and delivered (the .NET processor waits for it); after
// a shorter page the next read waits for the checkpoint as there. Still one
// batch in flight per lease, each checkpointed after the handler answered
// it, checkpoints in order; a failed checkpoint is covered by the next one
// (or written again once the feed is drained) instead of making the batch
// come again; a checkpoint that finds the lease lost abandons the batch in
// flight at once.
//
// Lease differences: a stolen lease is handed over. The thief writes
// RequestedBy; the owner finishes and checkpoints the batch in flight and
// then writes the thief in as the owner, so the new owner never starts
// while the old one still processes. (On Azure the thief takes the lease
// at once and the old owner stops at its next checkpoint, so that batch
// may be delivered twice.) Child leases are named after the parent ("1"
// splits into "1.0" and "1.1"), because azcosmos does not expose the
// partition key range ids the extension names them by.
package funchost
