'use strict';
// Runs the pinned Azurite (node_modules/azurite) with the arguments given,
// and stops it when stdin closes: the Go launcher holds the other end, so
// Azurite never outlives the process that started it, even after kill -9.
//   node launch.js --blobPort 0 --queuePort 0 --tablePort 0 ...
// Azurite prints "Azurite Blob service is successfully listening at URL"
// (and Queue, Table) on stdout when it is ready.
//
// Azurite listens for SIGTERM and SIGINT once. The launcher's Stop both
// closes stdin (which sends SIGTERM below) and signals the process group,
// so a second signal can arrive while Azurite is saving its metadata; with
// no listener left, node's default would end the process there and lose
// every container and blob written since the last autosave. These
// listeners stay: a repeat is ignored (the launcher sends SIGKILL if
// closing hangs), and a signal before Azurite listens ends node at once,
// as it would have without them.
const os = require('os');

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (closing) return;
    if (process.listenerCount(signal) > 1) {
      closing = true; // Azurite's own listener runs after this one
      return;
    }
    process.exit(128 + os.constants.signals[signal]);
  });
}
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
require('azurite/dist/src/azurite.js');
