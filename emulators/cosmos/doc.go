// Package cosmos is an embedded emulator of the Azure Cosmos DB for NoSQL
// REST protocol: the subset that the azcosmos SDK (v1.5.0) uses for
// databases, containers, partition key ranges, items, patch, transactional
// batches, queries and the incremental change feed.
//
// Tests start one in-process with Start(Options{}) and talk to it through
// the real SDK using Endpoint and Key; cmd/cosmos-emulator runs it as a
// standalone binary.
//
// # Model
//
// Every container has one partition key range ("0", covering the whole
// hash space) and a logical sequence number (LSN) that every committed item
// write advances. The change feed is the list of the latest version of every
// live item in LSN order; its continuation (the etag header) is the last LSN
// read. Deletes do not appear in the change feed, as in Cosmos DB's
// "latest version" mode.
//
// A query runs to completion on every page request and is paged by
// x-ms-max-item-count; its continuation is an offset into that result, so
// writes between two pages can shift items across the page boundary.
//
// Every response carries a request charge computed from Cosmos DB's
// published figures (README.md, "Request units"). Throughput provisioned
// at creation is enforced per partition key range per second with 429
// (substatus 3200, x-ms-retry-after-ms) unless Options.NoThrottle is set;
// faults (latency, 408/429/449/500/503) can be injected by operation and
// container (InjectFault, the /_emulator/faults control endpoint).
//
// # Durability and fsync policy
//
// With Options.DataDir empty all state lives in memory and is lost on Close.
//
// With Options.DataDir set, state is kept in a bbolt file (cosmos.db) in that
// directory and every mutation (database, container, item, batch) is written
// through a single committer goroutine that groups all writes waiting at
// that moment into one bbolt transaction, which bbolt fsyncs (fdatasync)
// before it returns. A write is acknowledged to the client only after the
// transaction holding it has been fsynced, so every acknowledged write
// survives kill -9 or power loss. A transactional batch is always written in
// one bbolt transaction, so it is durable all or nothing.
//
// A write is applied in memory before it is fsynced, so that later writes
// queue behind it, but no answer reveals it before it is durable: point
// reads, queries, failed writes (409, 412, 404) and batches wait until every
// write they observed has been fsynced, and the change feed serves only
// fsynced writes, so a change feed continuation never points past what a
// restart recovers.
//
// If a commit fails (disk full, I/O error) the emulator refuses every later
// write with 503, because its memory no longer matches its disk.
//
// # Not emulated
//
// One partition key range per container (no splits), no /offers resource
// (throughput is set at creation only), no stored procedures, triggers,
// UDFs, TTL or unique keys, no consistency levels (every read sees the
// latest durable write), no resource tokens (master key only), and
// indexing policies are used only to count a write's indexed properties:
// every query scans the container (or one partition key) and is evaluated
// by package query.
package cosmos
