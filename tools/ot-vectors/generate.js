// Writes the golden vectors: `node generate.js [--seed N] [--count N] [--tables N] [--out FILE]`.
// Each line of the gzipped JSONL is one case plus quill-delta 5.1.0's results for it.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { generate, results } = require('./cases');

const SEED = 20240517;
// The last TABLES cases are table documents and the table module's edits (cases.js).
const COUNT = 12600;
const TABLES = 600;
const OUT = path.join(__dirname, '../../tests/data/ot/vectors.jsonl.gz');

function args() {
  const a = process.argv.slice(2);
  const get = (name, dflt) => {
    const i = a.indexOf(name);
    return i >= 0 ? a[i + 1] : dflt;
  };
  return {
    seed: Number(get('--seed', SEED)),
    count: Number(get('--count', COUNT)),
    tables: Number(get('--tables', TABLES)),
    out: get('--out', OUT),
  };
}

function render(seed, count, tables = 0) {
  const version = require('quill-delta/package.json').version;
  const header = tables ? { quill_delta: version, seed, count, tables } : { quill_delta: version, seed, count };
  const lines = [JSON.stringify(header)];
  for (const input of generate(seed, count, tables)) {
    lines.push(JSON.stringify({ ...input, expected: results(input) }));
  }
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  const { seed, count, tables, out } = args();
  const text = render(seed, count, tables);
  // mtime 0 and a fixed level keep the file byte-stable across runs.
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zlib.gzipSync(Buffer.from(text), { level: 9 }));
  console.log(`wrote ${count} cases, ${tables} of them tables (seed ${seed}), to ${out}`);
}

module.exports = { render, SEED, COUNT, TABLES, OUT };
