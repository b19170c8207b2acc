// Live differential run: fresh random cases with a new seed, quill-delta 5.1.0 against the
// Rust driver (examples/ot_driver.rs). Prints the seed; saves every mismatch as a fixture in
// tests/data/ot/regressions/ that `cargo test` then checks forever.
//
//   node differential.js [--cases N] [--seed S] [--driver PATH]
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const readline = require('readline');
const { spawn, execFileSync } = require('child_process');
const isEqual = require('lodash.isequal');
const { generate, results } = require('./cases');

const ROOT = path.join(__dirname, '../..');
const REGRESSIONS = path.join(ROOT, 'tests/data/ot/regressions');

function args() {
  const a = process.argv.slice(2);
  const get = (name) => {
    const i = a.indexOf(name);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    cases: Number(get('--cases') || 20000),
    seed: get('--seed') !== undefined ? Number(get('--seed')) : crypto.randomBytes(4).readUInt32LE(0),
    driver: get('--driver'),
  };
}

function buildDriver() {
  execFileSync('cargo', ['build', '--release', '--quiet', '--example', 'ot_driver'], { cwd: ROOT, stdio: 'inherit' });
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  return path.join(target, 'release/examples/ot_driver');
}

async function main() {
  const { cases, seed, driver } = args();
  console.log(`differential: ${cases} cases, seed ${seed} (rerun with --seed ${seed})`);
  const inputs = Array.from(generate(seed, cases));
  const child = spawn(driver || buildDriver(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('close', resolve));
  child.stdin.on('error', () => {}); // the exit code reports a crashed driver
  (async () => {
    for (const input of inputs) {
      if (!child.stdin.write(JSON.stringify(input) + '\n')) {
        await new Promise((resolve) => child.stdin.once('drain', resolve));
      }
    }
    child.stdin.end();
  })();
  let seen = 0;
  let mismatches = 0;
  for await (const line of readline.createInterface({ input: child.stdout })) {
    const reply = JSON.parse(line);
    const input = inputs[reply.id];
    const expected = results(input);
    seen += 1;
    const bad = reply.error
      ? ['error: ' + reply.error]
      : Object.keys(expected).filter((k) => !isEqual(expected[k], reply.results[k]));
    if (bad.length > 0) {
      mismatches += 1;
      fs.mkdirSync(REGRESSIONS, { recursive: true });
      const file = path.join(REGRESSIONS, `seed-${seed}-case-${input.id}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...input, expected }, null, 1) + '\n');
      if (mismatches <= 5) console.error(`mismatch in case ${input.id} (${bad.join(', ')}): saved ${file}`);
    }
  }
  const code = await exited;
  if (code !== 0 || seen !== inputs.length) {
    console.error(`driver exited with ${code} after ${seen} of ${inputs.length} cases (seed ${seed})`);
    process.exit(1);
  }
  console.log(`differential: ${seen} cases, ${mismatches} mismatches (seed ${seed})`);
  process.exit(mismatches === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
