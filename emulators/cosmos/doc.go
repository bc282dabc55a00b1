// Package cosmos is an embedded emulator of the Azure Cosmos DB for NoSQL
// REST protocol: the subset that the azcosmos SDK (v1.5.0) uses for
// databases, containers, partition key ranges, items, patch, transactional
// batches, queries and the incremental change feed.
//
// Tests start one in-process with Start(Options{}) and talk to it through
// the real SDK using Endpoint and Key; cmd/cosmos-emulator runs it as a
// standalone binary. A client in the same process may skip loopback TCP:
// Server.Transport, set as the client's azcore Transport, hands each
// request to the emulator's handler and returns its answer as net/http
// would (package emulators/inproc); devstack's local Functions host
// reaches the emulator that way.
//
// # Model
//
// Every container has a logical sequence number (LSN) that every committed
// item write advances, and physical partitions: partition key ranges that
// tile the effective partition key (EPK) space from "" to "FF". The EPK of
// an item is computed from its partition key exactly as azcosmos computes
// it (epk.go: MurmurHash3 of the binary-encoded key; V2 by default, V1 for
// a definition with version 1, one hash per component for hierarchical
// keys), so ReadManyItems and feed ranges find items in the range the SDK
// expects. A new container without a version gets version 2.
//
// A container created with manual throughput T gets ⌈T / 10,000⌉ ranges
// (autoscale: of its maximum); one without throughput gets 400 RU/s and one
// range, or, in a database with shared throughput, the database's count.
// Options.Partitions and Options.ContainerPartitions set the count
// directly. /offers reads and replaces the throughput of databases and
// containers, as ReadThroughput and ReplaceThroughput call it; raising it
// past a multiple of 10,000 RU/s splits the widest ranges until there are
// enough. Server.Split, POST /_emulator/split and `cosmos-emulator split`
// split a range at its midpoint: its id then answers 410 with substatus
// 1002, pkranges lists the two children with the old id in parents, and the
// incremental pkranges feed (If-None-Match = the etag last read) lists only
// the ranges created since.
//
// Items, their change feed and the LSN belong to the container; a range is
// the set of items whose EPK it holds, so a split moves no data. The change
// feed of a range (x-ms-documentdb-partitionkeyrangeid) is the latest
// version of every live item of that range in LSN order; its continuation
// (the etag header) is the last LSN read, which is valid on every child of
// the range: azcosmos resumes a split range's continuation on its children,
// and every item is delivered. Deletes do not appear in the change feed, as
// in Cosmos DB's "latest version" mode. The feed is kept per live range as
// well, so a read of one range walks only that range's entries (a split's
// children are indexed by the next write).
//
// A query with a partition key (the header, or a filter that fixes every
// partition key path to a constant), or with a range id (ReadManyItems),
// or on a container with one range, runs there. Otherwise it is a cross-partition
// query: it needs x-ms-documentdb-query-enablecrosspartition, and, as Cosmos
// DB's gateway, the emulator serves only filters and projections (fanned out
// over the ranges and merged in range order) and SELECT VALUE aggregates
// (one partial result per range); ORDER BY, TOP, OFFSET LIMIT, DISTINCT,
// GROUP BY and aggregates without VALUE are refused with 400, substatus
// 1004 and the query plan in additionalErrorInfo. Every query answers
// x-ms-documentdb-query-metrics when asked, and x-ms-cosmos-index-utilization
// when x-ms-cosmos-populateindexmetrics is set.
//
// A query runs to completion on every page request and is paged by
// x-ms-max-item-count; its continuation is an offset into that result, so
// writes (or a split) between two pages can shift items across the page
// boundary.
//
// Every response carries a request charge computed from Cosmos DB's
// published figures (README.md, "Request units"). Provisioned throughput
// (a database's or container's offer, set at creation or by a replace) is
// enforced per partition key range per second with 429 (substatus 3200,
// x-ms-retry-after-ms) unless Options.NoThrottle is set; a container
// created without throughput shows a 400 RU/s offer but is serverless and
// not throttled unless Options.ServerlessRUPerSecond is set. Faults
// (latency, 408/429/449/500/503, unavailability, splits) can be injected by
// operation and container (InjectFault, the /_emulator/faults control
// endpoint).
//
// Time to live is a container's defaultTtl (off when absent, -1 on with no
// default, n seconds) and an item's ttl (-1 or 1..2147483647; anything else
// is refused with 400, as the service refuses it). An expired item is gone
// from that moment for reads, queries, the change feed and writes (its id
// can be created again); a sweep every Options.SweepInterval deletes it for
// good, uncharged, and Expired counts them. The sweep takes expired items
// from a heap of expiries, never scanning the live ones. Options.Now is the
// clock.
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
// No merges of ranges, no splits by storage size (only by throughput or on
// request), no stored procedures, triggers, UDFs or unique keys, no
// consistency levels beyond the one the account advertises
// (Options.Consistency: every read sees the latest durable write), no
// resource tokens (master key only), and indexing policies do not speed
// anything up: every query scans the container (or one partition key, or a
// prefix of a hierarchical one) and is evaluated by package query, which
// has no DISTINCT or GROUP BY (refused with 400; across ranges with the
// gateway's 400/1004, as Cosmos DB refuses them there). Indexing policies
// count a write's indexed properties for its request charge.
//
// # Ids
//
// An item id is at most 1,023 bytes, a database or container id at most
// 255 characters; none may contain '/', '\\', '?' or '#', and a database
// or container id may not end with a space. Cosmos DB refuses them with
// 400, and so does the emulator.
package cosmos
