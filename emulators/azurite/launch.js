'use strict';
// Runs the pinned Azurite (node_modules/azurite) with the arguments given,
// and stops it when stdin closes: the Go launcher holds the other end, so
// Azurite never outlives the process that started it, even after kill -9.
//   node launch.js --blobPort 0 --queuePort 0 --tablePort 0 ...
// Azurite prints "Azurite Blob service is successfully listening at URL"
// (and Queue, Table) on stdout when it is ready.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
require('azurite/dist/src/azurite.js');
