// Checks that the committed golden vectors are exactly what quill-delta produces now:
// regenerates them from the seed in their header and compares line by line.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { render, OUT } = require('./generate');

const file = process.argv[2] || OUT;
const committed = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n');
const header = JSON.parse(committed[0]);
const fresh = render(header.seed, header.count, header.tables ?? 0).split('\n');
let bad = 0;
for (let i = 0; i < Math.max(committed.length, fresh.length); i++) {
  if (committed[i] !== fresh[i]) {
    if (bad < 5) console.error(`line ${i} differs:\n  committed ${committed[i]}\n  quill     ${fresh[i]}`);
    bad += 1;
  }
}
if (bad > 0) {
  console.error(`${bad} lines of ${file} differ from quill-delta ${require('quill-delta/package.json').version}`);
  process.exit(1);
}
console.log(`golden vectors: ${header.count} cases match quill-delta ${header.quill_delta} (seed ${header.seed})`);
