#!/usr/bin/env node
// Browser soak (issue 5, test 3): three people type random text for
// QUIRE_SOAK_SECONDS (60) while their network drops at random; at the end
// all three pages and /content are equal. Fake hub unless QUIRE_URL is set
// (then the real binary; see targets.mjs).
//
// A drop is real: the page's socket is closed (the server sees it go), new
// handshakes fail and the context goes offline until it is back. The page
// counts its own WebSockets (lib.mjs countSockets): every drop must close
// exactly one open socket, none may open while offline, every return must
// reconnect, and no socket may close other than by a drop. Nothing may be
// lost on the way: no error frame from the server, no reset, no unsent
// dialog.

import { launch, shot, until, watchErrors, contents, synced, quillMatchesClient, newTestContext, countSockets, socketStats, refuseSockets } from './lib.mjs';
import { stableJSON } from '../lib/same.js';
import { mulberry32, int, pick } from '../lib/random.js';
import { openTarget } from './targets.mjs';

const SECONDS = Number(process.env.QUIRE_SOAK_SECONDS ?? 60);
const SEED = Number(process.env.QUIRE_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`soak: ${SECONDS} s, seed ${SEED}`);
const target = await openTarget();
const rng = mulberry32(SEED);
const browser = await launch();
const errors = [];
const people = [];
for (const name of ['Ann Soak', 'Bob Soak', 'Cy Soak']) {
  const ctx = await newTestContext(browser);
  await countSockets(ctx);
  const p = { name, ctx, offline: false, drops: 0 };
  await target.login(ctx, name, 'editor');
  p.page = await ctx.newPage();
  watchErrors(p.page, name, errors);
  await p.page.goto(target.docUrl(name));
  await until(() => p.page.evaluate(() => window.__quire?.client.rev != null), { what: `${name} loaded` });
  people.push(p);
}

// Take p offline: wait for its socket to be open and welcomed (the last
// return must have reconnected), close it for real (new handshakes refused
// first, so that the editor's reconnect cannot slip in), see it closed, and
// cut the context's network.
const problems = [];
async function goOffline(p) {
  await until(async () => {
    const st = await socketStats(p.page);
    return st.open === 1 && st.welcomes.length === st.opened;
  }, { what: `${p.name} reconnected before dropping`, timeout: 15000 });
  const before = await socketStats(p.page);
  p.offline = true;
  p.openedAtDrop = before.opened;
  await refuseSockets(p.page, true);
  await p.page.evaluate(() => window.__quire.sync.conn.kill());
  await until(async () => {
    const st = await socketStats(p.page);
    return st.closed === before.closed + 1 && st.open === 0;
  }, { what: `${p.name}'s socket closed by the drop`, timeout: 5000 });
  await p.ctx.setOffline(true);
  p.drops++;
}
async function goOnline(p) {
  const st = await socketStats(p.page);
  if (st.opened !== p.openedAtDrop) problems.push(`${p.name}: a socket opened while offline`);
  p.offline = false;
  await refuseSockets(p.page, false);
  await p.ctx.setOffline(false);
}

const WORDS = ['lorem ', 'ipsum ', 'héllo ', '😀 ', 'naïve ', '中文 ', 'x', '\n', 'café ', '👩‍💻 '];
const KEYS = ['Backspace', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'Control+b', 'Delete'];
const end = Date.now() + SECONDS * 1000;
let ok = true;
try {
  await Promise.all(people.map(async (p, i) => {
    const r = mulberry32(SEED + i + 1);
    await p.page.click('.ql-editor');
    while (Date.now() < end) {
      const x = r();
      if (x < 0.6) await p.page.keyboard.type(pick(r, WORDS), { delay: 5 });
      else if (x < 0.9) await p.page.keyboard.press(pick(r, KEYS));
      else if (x < 0.95) await (p.offline ? goOnline(p) : goOffline(p));
      else await p.page.waitForTimeout(int(r, 300));
    }
    // A short soak may have drawn no drop for someone: one for each, then.
    if (!p.offline && p.drops === 0) {
      await goOffline(p);
      await p.page.keyboard.type(pick(r, WORDS), { delay: 5 });
    }
    if (p.offline) await goOnline(p);
  }));
  void rng;

  await until(async () => {
    for (const p of people) if (!(await synced(p.page))) return false;
    const docs = await Promise.all(people.map((p) => contents(p.page)));
    return docs.every((d) => stableJSON(d) === stableJSON(docs[0]));
  }, { what: 'pages to agree', timeout: 30000 });
  const server = await target.content(people[0].ctx);
  const mine = await contents(people[0].page);
  if (stableJSON(server.ops) !== stableJSON(mine)) throw new Error('page != /content');
  for (const p of people) {
    const m = await quillMatchesClient(p.page);
    if (!m.ok) throw new Error(`${p.name}: Quill drifted from the OT client`);
  }
  // Every drop closed one socket and was followed by one reconnection;
  // nothing else closed a socket.
  const counts = [];
  for (const p of people) {
    const st = await socketStats(p.page);
    counts.push(`${p.name.split(' ')[0]} ${p.drops} drops, ${st.closed} closed, ${st.opened - 1} reconnected`);
    if (p.drops === 0) problems.push(`${p.name}: no network drop`);
    if (st.closed !== p.drops) problems.push(`${p.name}: ${st.closed} sockets closed for ${p.drops} drops`);
    if (st.opened !== p.drops + 1 || st.open !== 1) problems.push(`${p.name}: ${st.opened} sockets opened (${st.open} open now) for ${p.drops} drops`);
    if (st.welcomes.length !== st.opened) problems.push(`${p.name}: ${st.welcomes.length} welcomes for ${st.opened} sockets`);
    // Nothing refused or dropped on the way: no error from the server, no
    // reset, no unsent dialog.
    if (st.errors.length) problems.push(`${p.name}: server errors ${JSON.stringify(st.errors)}`);
    if (st.welcomes.some((w) => w.reset)) problems.push(`${p.name}: a welcome with reset: true`);
    if (await p.page.evaluate(() => document.querySelector('dialog.qe-unsent')?.open)) {
      problems.push(`${p.name}: unsent dialog: ${await p.page.inputValue('.qe-unsent-typed')}`);
    }
  }
  if (problems.length) throw new Error(`${problems.join('\n')}\n${counts.join('; ')}`);
  if (errors.length) throw new Error(errors.join('\n'));
  const drops = people.reduce((n, p) => n + p.drops, 0);
  console.log(`converged at rev ${server.rev}, ${server.ops.length} ops, ${drops} network drops (${counts.join('; ')})`);
} catch (e) {
  ok = false;
  console.log(`FAIL (seed ${SEED}): ${e.message}`);
}
for (const p of people) await shot(p.page, `soak-${p.name.split(' ')[0].toLowerCase()}`);
await browser.close();
await target.close();
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
