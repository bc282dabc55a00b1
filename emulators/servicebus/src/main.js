'use strict';
// Entry point: node src/main.js --port 0 --config FILE [--data-dir DIR] [--control-port 0]
// Prints on stdout when ready, the connection string line last:
//   SERVICEBUS_CONTROL_URL=http://127.0.0.1:PORT          (only with --control-port)
//   SERVICEBUS_CONNECTION_STRING=Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true;
// Everything else goes to stderr.

const path = require('path');
const { loadConfig } = require('./config.js');
const { Broker } = require('./broker.js');
const { Server } = require('./server.js');
const { MemoryStore, SqliteStore } = require('./store.js');
const { listenControl } = require('./control.js');
const codec = require('./codec.js');

const HOST = '127.0.0.1';

// stdout carries exactly one line, the connection string; everything else,
// including anything a library might print, goes to stderr.
console.log = console.error;
console.info = console.error;

function usage(msg) {
  process.stderr.write(`servicebus-emulator: ${msg}\nusage: npm --prefix emulators/servicebus start --silent -- --port 0 --config FILE [--data-dir DIR] [--control-port 0]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: 5672, config: process.env.SERVICEBUS_EMULATOR_CONFIG || '', exitWithStdin: false, dataDir: '', controlPort: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') args.port = Number(next());
    else if (a.startsWith('--port=')) args.port = Number(a.slice(7));
    else if (a === '--config') args.config = next();
    else if (a.startsWith('--config=')) args.config = a.slice(9);
    else if (a === '--exit-when-stdin-closes') args.exitWithStdin = true;
    else if (a === '--data-dir') args.dataDir = next();
    else if (a.startsWith('--data-dir=')) args.dataDir = a.slice(11);
    else if (a === '--control-port') args.controlPort = Number(next());
    else if (a.startsWith('--control-port=')) args.controlPort = Number(a.slice(15));
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) usage('--port must be 0..65535');
  if (args.controlPort !== null && (!Number.isInteger(args.controlPort) || args.controlPort < 0 || args.controlPort > 65535)) {
    usage('--control-port must be 0..65535');
  }
  if (!args.config) usage('--config is required');
  // npm runs scripts in the package directory; resolve relative paths
  // against the directory npm was started from.
  const cwd = process.env.INIT_CWD || process.cwd();
  args.config = path.resolve(cwd, args.config);
  if (args.dataDir) args.dataDir = path.resolve(cwd, args.dataDir);
  return args;
}

function openStore(dir, log) {
  if (!dir) return new MemoryStore();
  return new SqliteStore(dir, {
    serialize: codec.serialize,
    log,
    // memory now holds changes the disk does not: stop rather than acknowledge them
    fatal: (err) => {
      log(`store ${dir}: ${err.stack || err}; exiting`);
      process.exit(1);
    },
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = (line) => process.stderr.write(`servicebus-emulator: ${line}\n`);
  let config;
  try {
    config = loadConfig(args.config);
  } catch (err) {
    log(err.message);
    process.exit(1);
  }
  // A bug in one connection's handling must not take the whole local stack down.
  process.on('uncaughtException', (err) => log(`uncaught: ${err.stack || err}`));
  let store;
  try {
    store = openStore(args.dataDir, log);
  } catch (err) {
    log(`open data dir ${args.dataDir}: ${err.message}`);
    process.exit(1);
  }
  let broker;
  try {
    broker = new Broker(config, store);
  } catch (err) {
    log(`config ${args.config}: ${err.message}`);
    process.exit(1);
  }
  if (store.durable) {
    let r;
    try {
      r = broker.recover(Date.now());
    } catch (err) {
      log(`recover from ${args.dataDir}: ${err.stack || err}`);
      process.exit(1);
    }
    log(`data in ${args.dataDir}: recovered ${r.messages} messages, ${r.sessions} session states, ${r.ids} duplicate-detection ids` +
      (r.unknown ? `; kept ${r.unknown} messages of entities not in the config` : ''));
  }
  const server = new Server(broker, log);
  let control = null;
  if (args.controlPort !== null) {
    try {
      control = await listenControl(server.faults, () => broker.stats(), HOST, args.controlPort, log);
    } catch (err) {
      log(`control endpoint on ${HOST}:${args.controlPort}: ${err.message}`);
      process.exit(1);
    }
  }
  let listener;
  try {
    listener = await server.listen(HOST, args.port);
  } catch (err) {
    log(`listen on ${HOST}:${args.port}: ${err.message}`);
    process.exit(1);
  }
  const { port } = listener.address();
  const entities = [...config.queues.map((q) => q.name), ...config.topics.flatMap((t) => [t.name, ...t.subscriptions.map((s) => `${t.name}/Subscriptions/${s.name}`)])];
  log(`listening on ${HOST}:${port}, namespace ${config.namespace}, entities: ${entities.join(', ') || '(none)'}`);
  const stop = (sig) => {
    log(`${sig}: shutting down`);
    listener.close();
    store.close();
    if (store.durable) {
      const st = store.stats;
      log(`store: ${st.writes} writes in ${st.commits} commits, ${Math.round(st.commitMs)} ms committing`);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // The ready lines come after the SIGTERM handler is in place: a launcher
  // that stops us as soon as we are ready must find it there.
  if (control) process.stdout.write(`SERVICEBUS_CONTROL_URL=http://${HOST}:${control.address().port}\n`);
  process.stdout.write(`SERVICEBUS_CONNECTION_STRING=Endpoint=sb://${HOST}:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;\n`);
  if (args.exitWithStdin) {
    // The launcher holds our stdin open; if it dies, even by SIGKILL, we do too.
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
