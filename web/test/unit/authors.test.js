// The browser's authorship span map (src/authors/span-map.js): the cases
// shared with the server's Rust map, and random edits against a map of one
// author per character.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SpanMap } from '../../src/authors/span-map.js';

const cases = JSON.parse(readFileSync(new URL('./authorship-cases.json', import.meta.url), 'utf8'));

for (const c of cases) {
  test(`shared case: ${c.name}`, () => {
    const map = new SpanMap(c.start);
    for (const [ops, author] of c.ops) map.apply(ops, author);
    assert.deepEqual(map.spans(), c.spans);
  });
}

function randomOps(rng, len) {
  const ops = [];
  let cursor = 0;
  const n = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(rng() * 3);
    const k = 1 + Math.floor(rng() * 4);
    if (kind === 0 && cursor < len) {
      const r = Math.min(k, len - cursor);
      ops.push({ retain: r });
      cursor += r;
    } else if (kind === 1) {
      ops.push({ insert: 'x'.repeat(k) });
    } else if (cursor < len) {
      const d = Math.min(k, len - cursor);
      ops.push({ delete: d });
      cursor += d;
    }
  }
  return ops;
}

function modelApply(chars, ops, author) {
  const out = [];
  let cursor = 0;
  for (const op of ops) {
    if (op.retain !== undefined) {
      out.push(...chars.slice(cursor, cursor + op.retain));
      cursor += op.retain;
    } else if (op.insert !== undefined) {
      for (let i = 0; i < op.insert.length; i++) out.push(author);
    } else cursor += op.delete;
  }
  return out.concat(chars.slice(cursor));
}

test('random edits: one author per character, no empty run, neighbours differ', () => {
  let seed = 14;
  const rng = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const authors = [null, 'ann', 'bob', 'cy'];
  for (let round = 0; round < 200; round++) {
    let chars = Array(Math.floor(rng() * 5)).fill(null);
    const map = new SpanMap(chars.length ? [[chars.length, null]] : []);
    for (let step = 0; step < 30; step++) {
      const ops = randomOps(rng, chars.length);
      const author = authors[Math.floor(rng() * authors.length)];
      map.apply(ops, author);
      chars = modelApply(chars, ops, author);
      const expanded = map.spans().flatMap(([len, who]) => Array(len).fill(who));
      assert.deepEqual(expanded, chars);
      assert.equal(map.length, chars.length);
      const runs = map.spans();
      assert.ok(runs.every(([len]) => len > 0));
      assert.ok(runs.every((run, i) => i === 0 || run[1] !== runs[i - 1][1]));
    }
  }
});
