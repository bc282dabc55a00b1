'use strict';
// The control endpoint: a small HTTP API on 127.0.0.1 for fault injection
// and a look at the entities.
//   GET    /faults  -> 200 {"faults": [...in force], "injected": {kind: count}}
//   POST   /faults  -> 201 the fault, body {"kind", "seconds", "delayMs"?, "rate"?, "condition"?}
//   DELETE /faults  -> 204, every fault ends now
//   GET    /entities -> 200 {path: {messages, active, locked, deferred, scheduled, receivers, sessionWaiters}}
// Errors are RFC 9457 application/problem+json.

const http = require('http');
const { FaultError, parseFault } = require('./faults.js');

const MAX_BODY = 16 * 1024;

function send(res, status, body, type = 'application/json') {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function problem(res, status, title, detail, headers = {}) {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  send(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    // read to the end either way, so that the client sees the 413 rather than a reset
    req.on('end', () => {
      if (size > MAX_BODY) reject(Object.assign(new Error(`body over ${MAX_BODY} bytes`), { status: 413 }));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

async function post(faults, req, res) {
  if (!/^application\/(problem\+)?json\b/i.test(req.headers['content-type'] || '')) {
    problem(res, 415, 'Unsupported Media Type', 'send the fault as application/json');
    return;
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    if (err.status === 413) problem(res, 413, 'Content Too Large', err.message);
    else problem(res, 400, 'Bad Request', `body is not JSON: ${err.message}`);
    return;
  }
  try {
    send(res, 201, faults.inject(parseFault(body)));
  } catch (err) {
    if (!(err instanceof FaultError)) throw err;
    problem(res, 400, 'Bad Request', err.message);
  }
}

function handle(faults, stats, req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/entities') {
    if (req.method === 'GET') send(res, 200, stats());
    else problem(res, 405, 'Method Not Allowed', `${req.method} /entities`, { allow: 'GET' });
    return Promise.resolve();
  }
  if (url.pathname !== '/faults') {
    problem(res, 404, 'Not Found', `no resource ${url.pathname}; the control API is /faults and /entities`);
    return Promise.resolve();
  }
  switch (req.method) {
    case 'GET':
      send(res, 200, { faults: faults.list(), injected: faults.injected });
      return Promise.resolve();
    case 'POST':
      return post(faults, req, res);
    case 'DELETE':
      faults.clear();
      res.writeHead(204);
      res.end();
      return Promise.resolve();
    default:
      problem(res, 405, 'Method Not Allowed', `${req.method} /faults`, { allow: 'GET, POST, DELETE' });
      return Promise.resolve();
  }
}

// listenControl serves the control API on host:port: faults, and stats()
// for /entities.
function listenControl(faults, stats, host, port, log) {
  const server = http.createServer((req, res) => {
    handle(faults, stats, req, res).catch((err) => {
      log(`control: ${err.stack || err}`);
      if (!res.headersSent) problem(res, 500, 'Internal Server Error', 'the control endpoint failed; see the emulator log');
    });
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

module.exports = { listenControl };
