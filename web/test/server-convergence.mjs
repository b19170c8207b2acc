#!/usr/bin/env node
// The real JS client against a real server (issue 4, test 4): N sessions of
// the browser's own DocSync/OTClient/Connection code, driven under node with
// the `ws` package and quill-delta (no DOM), typing random edits (emoji,
// accents, deletes across formats, inline and line formats) while their
// sockets are killed and reopened mid-stream. Then it waits for quiescence
// and checks that every client's document equals
// GET /api/docs/{id}/content?format=delta.
//
//   QUIRE_URL=http://127.0.0.1:PORT QUIRE_TOKEN=… QUIRE_DOC=… node test/server-convergence.mjs
//   QUIRE_URL=fake node test/server-convergence.mjs      (self-test on the in-process fake hub)
//
// Optional: QUIRE_CLIENTS (5), QUIRE_STEPS (400 edits in total), QUIRE_SEED,
// QUIRE_KILL_EVERY (kill a random socket every N steps, 25), QUIRE_TIMEOUT_MS (60000).
// Exit 0 when all agree, 1 on any mismatch or lost/rejected edit, 2 on usage.
// A client whose document differs from /content once everyone is quiet (all
// synchronized, online and at the server's revision) is also reported on a
// line of its own starting `DIVERGED:`; the wrong-priority negative control
// (tests/it/hub_js_client.rs) counts only those, never a timeout.

import WebSocket from 'ws';
import Delta from 'quill-delta';
import { DocSync } from '../src/sync.js';
import { mulberry32, int, randomEdit } from './lib/random.js';
import { stableJSON } from './lib/same.js';

const env = process.env;
const CLIENTS = Number(env.QUIRE_CLIENTS ?? 5);
const STEPS = Number(env.QUIRE_STEPS ?? 400);
const KILL_EVERY = Number(env.QUIRE_KILL_EVERY ?? 25);
const TIMEOUT_MS = Number(env.QUIRE_TIMEOUT_MS ?? 60000);
const SEED = Number(env.QUIRE_SEED ?? Math.floor(Math.random() * 2 ** 31));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function target() {
  if (env.QUIRE_URL === 'fake') {
    const { startFakeHub } = await import('./browser/fake-hub.mjs');
    const hub = await startFakeHub();
    return { base: hub.url, token: 'fake', doc: 'convergence', close: () => hub.close() };
  }
  const missing = ['QUIRE_URL', 'QUIRE_TOKEN', 'QUIRE_DOC'].filter((k) => !env[k]);
  if (missing.length) {
    console.error(`missing ${missing.join(', ')}; see the header of ${import.meta.url}`);
    process.exit(2);
  }
  return { base: env.QUIRE_URL.replace(/\/$/, ''), token: env.QUIRE_TOKEN, doc: env.QUIRE_DOC, close: async () => {} };
}

function client(i, t, failures) {
  const ed = { i, doc: new Delta(), loaded: false };
  const wsUrl = `${t.base.replace(/^http/, 'ws')}/api/docs/${encodeURIComponent(t.doc)}/ws`;
  ed.sync = new DocSync({
    url: wsUrl,
    user: { name: `bot ${i}`, color: '#1d4ed8' },
    role: 'editor',
    WebSocketImpl: WebSocket,
    wsOptions: { headers: { Authorization: `Bearer ${t.token}` }, maxPayload: 1 << 20 },
    hooks: {
      apply: (d) => { ed.doc = ed.doc.compose(d); },
      load: (doc) => { ed.doc = doc; ed.loaded = true; },
      unsent: (u, why) => failures.push(`client ${i}: edits dropped (${why}): ${JSON.stringify(u.typed).slice(0, 200)}`),
      status: (s) => { if (s.kind === 'error') failures.push(`client ${i}: ${s.text}`); },
    },
  });
  // Faster than the browser's backoff: the test kills sockets on purpose.
  ed.sync.conn.backoff = { next: () => 20 + int(Math.random, 200), reset() {} };
  return ed;
}

async function fetchContent(t) {
  const res = await fetch(`${t.base}/api/docs/${encodeURIComponent(t.doc)}/content?format=delta`, {
    headers: { Authorization: `Bearer ${t.token}` },
  });
  if (!res.ok) throw new Error(`GET content: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

async function main() {
  console.log(`server-convergence: seed ${SEED}, ${CLIENTS} clients, ${STEPS} edits (QUIRE_SEED=${SEED} to replay the choices)`);
  const rng = mulberry32(SEED);
  const t = await target();
  const failures = [];
  const eds = Array.from({ length: CLIENTS }, (_, i) => client(i, t, failures));
  for (const ed of eds) ed.sync.start();
  const start = Date.now();
  while (!eds.every((e) => e.loaded)) {
    if (Date.now() - start > TIMEOUT_MS) throw new Error('clients did not receive the document');
    await sleep(20);
  }

  let kills = 0;
  for (let step = 0; step < STEPS; step++) {
    const ed = eds[int(rng, eds.length)];
    const d = randomEdit(rng, ed.doc);
    ed.doc = ed.doc.compose(d);
    ed.sync.localChange(d);
    if (KILL_EVERY > 0 && int(rng, KILL_EVERY) === 0) {
      eds[int(rng, eds.length)].sync.conn.kill();
      kills++;
    }
    // Let the sockets breathe now and then, so ops interleave with acks.
    if (int(rng, 4) === 0) await sleep(int(rng, 15));
  }

  // Quiescence: everyone online, nothing pending, for a while.
  let quietSince = null;
  let quiescent = false;
  const end = Date.now() + TIMEOUT_MS;
  for (;;) {
    const quiet = eds.every((e) => e.sync.ot.isSynchronized && e.sync.conn.isOpen);
    const revs = new Set(eds.map((e) => e.sync.ot.rev));
    if (quiet && revs.size === 1) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince > 500) {
        quiescent = true;
        break;
      }
    } else quietSince = null;
    if (Date.now() > end) {
      failures.push(`no quiescence after ${TIMEOUT_MS} ms: ${eds.map((e) => `${e.i}:${e.sync.ot.state}/online=${e.sync.ot.online}/rev=${e.sync.ot.rev}`).join(' ')}`);
      break;
    }
    await sleep(50);
  }

  const server = await fetchContent(t);
  const want = stableJSON(new Delta(server.ops).ops);
  for (const ed of eds) {
    if (stableJSON(ed.doc.ops) !== want) {
      if (quiescent && ed.sync.ot.rev === server.rev) {
        console.log(`DIVERGED: client ${ed.i} at the server's rev ${server.rev} holds another document`);
      }
      failures.push(`client ${ed.i} document differs from /content (rev ${ed.sync.ot.rev} vs ${server.rev})\n  client: ${JSON.stringify(ed.doc.ops).slice(0, 400)}\n  server: ${JSON.stringify(server.ops).slice(0, 400)}`);
    }
    if (ed.sync.ot.rev !== server.rev) failures.push(`client ${ed.i} at rev ${ed.sync.ot.rev}, server at ${server.rev}`);
  }
  for (const ed of eds) ed.sync.stop();
  await t.close();

  const len = new Delta(server.ops).length();
  if (failures.length) {
    console.error(`FAIL (seed ${SEED}):\n${failures.join('\n')}`);
    console.log(`0 passed, 1 failed`);
    process.exit(1);
  }
  console.log(`converged: ${CLIENTS} clients, rev ${server.rev}, length ${len}, ${kills} sockets killed (seed ${SEED})`);
  console.log(`1 passed, 0 failed`);
  process.exit(0);
}

main().catch((e) => {
  console.error(`FAIL (seed ${SEED}): ${e.stack ?? e}`);
  process.exit(1);
});
