#!/usr/bin/env node
// Syntax check of Bicep files with tree-sitter-bicep (the Bicep CLI cannot be
// installed on our machines). Usage:
//
//   node infra/check/bicep-syntax.js [file.bicep ...]
//
// With no arguments it checks every .bicep file under infra/ (testdata
// excluded). Each ERROR or MISSING node is printed as
// "file:line:col: syntax error: ..." (1-based line and column) and the exit
// status is 1; a missing install exits 2 with the command that fixes it.
'use strict';

const fs = require('fs');
const path = require('path');

const infraDir = path.resolve(__dirname, '..');

function loadModules() {
  try {
    return {
      treeSitter: require('web-tree-sitter'),
      wasm: require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'),
    };
  } catch (err) {
    process.stderr.write(
      `bicep-syntax: ${err.message.split('\n')[0]}\n` +
        'bicep-syntax: run `npm --prefix infra/check ci` first\n',
    );
    process.exit(2);
  }
}

function bicepFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'testdata') continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...bicepFiles(p));
    else if (entry.name.endsWith('.bicep')) out.push(p);
  }
  return out.sort();
}

// problems walks the tree and returns one message per ERROR/MISSING node,
// skipping the children of an ERROR node (they repeat the same mistake).
function problems(file, tree, source) {
  const found = [];
  const visit = (node) => {
    if (node.isMissing) {
      found.push(report(file, node, `missing ${node.type}`));
      return;
    }
    if (node.type === 'ERROR') {
      const text = source.slice(node.startIndex, node.endIndex).split('\n')[0].slice(0, 40);
      found.push(report(file, node, `unexpected ${JSON.stringify(text)}`));
      return;
    }
    if (!node.hasError) return;
    for (let i = 0; i < node.childCount; i++) visit(node.child(i));
  };
  visit(tree.rootNode);
  return found;
}

function report(file, node, what) {
  const { row, column } = node.startPosition;
  return `${file}:${row + 1}:${column + 1}: syntax error: ${what}`;
}

async function main() {
  const { treeSitter, wasm } = loadModules();
  const { Parser, Language } = treeSitter;
  await Parser.init();
  const parser = new Parser();
  parser.setLanguage(await Language.load(wasm));

  const args = process.argv.slice(2);
  const files = args.length > 0 ? args : bicepFiles(infraDir);
  if (files.length === 0) {
    process.stderr.write('bicep-syntax: no .bicep files to check\n');
    process.exit(2);
  }
  let failed = 0;
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    const found = problems(path.relative(process.cwd(), file) || file, parser.parse(source), source);
    for (const line of found) process.stdout.write(line + '\n');
    if (found.length > 0) failed++;
  }
  process.stdout.write(`bicep-syntax: ${files.length - failed} of ${files.length} file(s) parse cleanly\n`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`bicep-syntax: ${err.stack || err}\n`);
  process.exit(2);
});
