'use strict';
// Durable broker state. Entities keep their working state in memory and
// journal every change here; with a data directory the journal is an SQLite
// database (better-sqlite3) and the broker acknowledges a send, a settlement
// or a management request only after the transaction holding its changes has
// been committed and fsynced. All changes of one event-loop turn share one
// transaction (group commit), so a batch of sends or completions costs one
// fsync.
//
// Without a data directory MemoryStore stands in: every method is a no-op and
// afterCommit runs its callback at once.

const fs = require('fs');
const path = require('path');

// Version 2 keys the duplicate-detection history by time (see DEDUPE); a
// version 1 database is migrated when it is opened.
const SCHEMA_VERSION = 2;

// The duplicate-detection history is only ever read whole (at start-up, in
// time order) and pruned by age: the broker looks ids up in memory. Keyed by
// (entity, at, id), a new id is appended at the end of one b-tree, where a
// key of (entity, id) put every random message id on a page of its own and
// wrote it to the WAL at each commit. An id remembered again later has two
// rows until the older one is pruned; loading in time order keeps the newer.
const DEDUPE = `CREATE TABLE IF NOT EXISTS dedupe (
  entity TEXT NOT NULL, at INTEGER NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (entity, at, id)
) WITHOUT ROWID;
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  entity TEXT NOT NULL,
  seq INTEGER NOT NULL,
  raw BLOB NOT NULL,
  app BLOB,
  session_id TEXT,
  state TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  ttl_ms INTEGER,
  expires_at INTEGER,
  delivery_count INTEGER NOT NULL,
  scheduled_at INTEGER NOT NULL,
  PRIMARY KEY (entity, seq)
);
CREATE TABLE IF NOT EXISTS sequences (entity TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  entity TEXT NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (entity, id)
);
${DEDUPE}`;

// MIGRATE_V1 moves a version 1 duplicate-detection history (keyed by
// entity and id, with an index on time) into the version 2 table.
const MIGRATE_V1 = `
ALTER TABLE dedupe RENAME TO dedupe_v1;
${DEDUPE}
INSERT OR IGNORE INTO dedupe (entity, at, id) SELECT entity, at, id FROM dedupe_v1;
DROP TABLE dedupe_v1;
`;

// finite maps Infinity (no expiry) to NULL and back.
const finite = (n) => (Number.isFinite(n) ? n : null);
const infinite = (n) => (n === null || n === undefined ? Infinity : n);

// persistedState is what a message is after a restart: locks do not survive,
// so a locked message comes back active (or deferred, if it was deferred).
function persistedState(msg) {
  if (msg.state === 'scheduled') return 'scheduled';
  if (msg.deferred || msg.state === 'deferred') return 'deferred';
  return 'active';
}

class MemoryStore {
  get durable() {
    return false;
  }

  afterCommit(fn) {
    fn();
  }

  insert() {}
  update() {}
  updateApp() {}
  delete() {}
  sequence() {}
  saveSession() {}
  remember() {}
  forget() {}
  load() {
    return { sequences: new Map(), messages: [], sessions: [], dedupe: [] };
  }

  close() {}
}

class SqliteStore {
  // dir is created if needed; fatal is called when a commit fails, because
  // the broker's memory then holds changes the disk does not.
  constructor(dir, { fatal, serialize, log }) {
    const Database = require('better-sqlite3');
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'servicebus.db');
    this.db = new Database(this.file);
    // WAL with synchronous=FULL: every commit fsyncs the write-ahead log, so
    // what was acknowledged survives kill -9 and a power cut alike.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    const version = this.db.pragma('user_version', { simple: true });
    if (version !== 0 && version !== 1 && version !== SCHEMA_VERSION) {
      throw new Error(`${this.file}: schema version ${version}, this emulator knows 1 to ${SCHEMA_VERSION}`);
    }
    this.db.transaction(() => {
      if (version === 1) this.db.exec(MIGRATE_V1);
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    this.fatal = fatal;
    this.serialize = serialize;
    this.log = log;
    this.inTx = false;
    this.callbacks = [];
    this.sequences = new Map();
    this.stats = { commits: 0, writes: 0, commitMs: 0 };
    this.prepare();
  }

  get durable() {
    return true;
  }

  prepare() {
    const db = this.db;
    this.stmt = {
      insert: db.prepare(`INSERT OR REPLACE INTO messages
        (entity, seq, raw, app, session_id, state, enqueued_at, ttl_ms, expires_at, delivery_count, scheduled_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      update: db.prepare(`UPDATE messages SET state = ?, enqueued_at = ?, expires_at = ?, delivery_count = ?, scheduled_at = ?
        WHERE entity = ? AND seq = ?`),
      updateApp: db.prepare('UPDATE messages SET app = ? WHERE entity = ? AND seq = ?'),
      delete: db.prepare('DELETE FROM messages WHERE entity = ? AND seq = ?'),
      sequence: db.prepare('INSERT OR REPLACE INTO sequences (entity, seq) VALUES (?, ?)'),
      saveSession: db.prepare('INSERT OR REPLACE INTO sessions (entity, id, state, updated_at) VALUES (?, ?, ?, ?)'),
      deleteSession: db.prepare('DELETE FROM sessions WHERE entity = ? AND id = ?'),
      remember: db.prepare('INSERT OR IGNORE INTO dedupe (entity, at, id) VALUES (?, ?, ?)'),
      forget: db.prepare('DELETE FROM dedupe WHERE entity = ? AND at < ?'),
    };
  }

  // begin opens this turn's transaction; commit runs once the turn is over.
  begin() {
    if (this.inTx) return;
    this.inTx = true;
    this.db.exec('BEGIN');
    setImmediate(() => this.commit());
  }

  commit() {
    const start = performance.now();
    try {
      for (const [entity, seq] of this.sequences) this.stmt.sequence.run(entity, seq);
      this.sequences.clear();
      this.db.exec('COMMIT');
    } catch (err) {
      this.fatal(err);
      return;
    }
    this.stats.commits++;
    this.stats.commitMs += performance.now() - start;
    this.inTx = false;
    const cbs = this.callbacks;
    this.callbacks = [];
    for (const fn of cbs) {
      try {
        fn();
      } catch (err) {
        this.log(`after commit: ${err.stack || err}`);
      }
    }
  }

  // afterCommit runs fn once everything changed so far is on disk.
  afterCommit(fn) {
    if (this.inTx) this.callbacks.push(fn);
    else fn();
  }

  run(stmt, ...args) {
    this.begin();
    this.stats.writes++;
    try {
      stmt.run(...args);
    } catch (err) {
      this.fatal(err);
    }
  }

  insert(msg) {
    // app holds the application properties only where they differ from
    // those inside raw (a dead letter's reason, properties to modify)
    const app = msg.appRaw === msg.parsed.appRaw ? null : msg.appRaw;
    this.run(this.stmt.insert, msg.entity.path, msg.seq, this.serialize(msg.parsed), app || null,
      msg.sessionId === null || msg.sessionId === undefined ? null : String(msg.sessionId), persistedState(msg),
      msg.enqueuedAt, finite(msg.ttlMs), finite(msg.expiresAt), msg.deliveryCount, msg.scheduledAt || 0);
  }

  update(msg) {
    this.run(this.stmt.update, persistedState(msg), msg.enqueuedAt, finite(msg.expiresAt), msg.deliveryCount,
      msg.scheduledAt || 0, msg.entity.path, msg.seq);
  }

  updateApp(msg) {
    this.run(this.stmt.updateApp, msg.appRaw || null, msg.entity.path, msg.seq);
  }

  delete(msg) {
    this.run(this.stmt.delete, msg.entity.path, msg.seq);
  }

  // sequence records an entity's last sequence number (written at commit).
  sequence(entity, seq) {
    this.begin();
    this.sequences.set(entity, seq);
  }

  saveSession(entity, id, state, updatedAt) {
    if (state) this.run(this.stmt.saveSession, entity, id, state, updatedAt);
    else this.run(this.stmt.deleteSession, entity, id);
  }

  remember(entity, id, at) {
    this.run(this.stmt.remember, entity, at, id);
  }

  forget(entity, before) {
    this.run(this.stmt.forget, entity, before);
  }

  // load reads back everything, messages in sequence order per entity.
  load() {
    const db = this.db;
    const sequences = new Map(db.prepare('SELECT entity, seq FROM sequences').all().map((r) => [r.entity, r.seq]));
    const messages = db.prepare('SELECT * FROM messages ORDER BY entity, seq').all().map((r) => ({
      ...r, ttl_ms: infinite(r.ttl_ms), expires_at: infinite(r.expires_at),
    }));
    const sessions = db.prepare('SELECT entity, id, state, updated_at FROM sessions').all();
    const dedupe = db.prepare('SELECT entity, id, at FROM dedupe ORDER BY at').all();
    return { sequences, messages, sessions, dedupe };
  }

  close() {
    if (this.inTx) this.commit();
    this.db.close();
  }
}

module.exports = { MemoryStore, SqliteStore };
