#!/usr/bin/env node
// Browser soak (issue 5, test 3): three people type random text for
// QUIRE_SOAK_SECONDS (60) while their network drops at random; at the end
// all three pages and /content are equal. Fake hub unless QUIRE_URL is set
// (then the real binary; see targets.mjs).
//
// A drop is real: the page's socket is closed (the server sees it go), new
// handshakes fail and the context goes offline until it is back. The page
// counts its own WebSockets (lib.mjs countSockets): every drop must leave the
// page with no socket (it closes the open one, unless the page had just
// closed it itself), none may open while offline, every close must be
// followed by one reconnection, and no socket may close other than by a drop
// or the page's own choice. Nothing may be lost on the way: no error frame
// from the server, no reset, no unsent dialog.

import { launch, shot, until, watchErrors, contents, synced, quillMatchesClient, newTestContext, countSockets, socketStats, refuseSockets, dropSockets } from './lib.mjs';
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
  const p = { name, ctx, offline: false, drops: 0, dropped: 0, closedFirst: 0 };
  await target.login(ctx, name, 'editor');
  p.page = await ctx.newPage();
  watchErrors(p.page, name, errors);
  await p.page.goto(target.docUrl(name));
  await until(() => p.page.evaluate(() => window.__quire?.client.rev != null), { what: `${name} loaded` });
  people.push(p);
}

// Take p offline: wait for its socket to be open and welcomed (the last
// return must have reconnected), refuse new handshakes (so that no reconnect
// can slip in), close every socket the page still has for real, see them all
// closed, and cut the context's network.
// The editor may close its socket itself at any moment, for instance when the
// browser's `online` event of the last return comes after the backoff had
// reconnected already: it reconnects at once. Such a close right before the
// drop leaves the drop nothing open to close, or a new socket that may not
// have had its welcome yet; neither is a lost connection (lib.mjs puts each
// close down to whoever started it), and the drop closes or waits for every
// socket the page has, so the page is cut off either way.
const problems = [];
async function goOffline(p) {
  await until(async () => {
    const st = await socketStats(p.page);
    return st.open === 1 && st.welcomedOpen === 1;
  }, { what: `${p.name} reconnected before dropping`, timeout: 15000 });
  p.offline = true;
  await refuseSockets(p.page, true);
  const open = await dropSockets(p.page);
  const st = await until(async () => {
    const s = await socketStats(p.page);
    return s.live === 0 && s.open === 0 && s;
  }, { what: `${p.name}'s sockets closed by the drop`, timeout: 10000 });
  p.openedAtDrop = st.opened;
  if (open > 1) problems.push(`${p.name}: ${open} sockets open at a drop`);
  p.dropped += open;
  if (open === 0) p.closedFirst++;
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
  // Every drop cut the page off (it closed the open socket, or the page had
  // just closed it itself), every close was followed by one reconnection, and
  // no socket closed that neither the test nor the page closed.
  const counts = [];
  for (const p of people) {
    const st = await socketStats(p.page);
    const by = st.closedBy;
    counts.push(`${p.name.split(' ')[0]} ${p.drops} drops (${p.closedFirst} found it closed by the page), ${st.closed} closed (${by.drop} by drops, ${by.page} by the page, ${by.lost} lost), ${st.opened - 1} reconnected`);
    if (p.drops === 0) problems.push(`${p.name}: no network drop`);
    if (by.drop === 0) problems.push(`${p.name}: no drop closed an open socket`);
    if (by.drop !== p.dropped) problems.push(`${p.name}: drops closed ${p.dropped} open sockets, ${by.drop} closes seen`);
    // The page closes its socket itself only when the browser says it is
    // back online and it had reconnected already: at most once a return.
    if (by.page > p.drops) problems.push(`${p.name}: the page closed ${by.page} sockets itself in ${p.drops} returns`);
    if (by.lost) problems.push(`${p.name}: ${by.lost} sockets closed by neither the test nor the page`);
    if (st.opened !== st.closed + 1 || st.open !== 1) problems.push(`${p.name}: ${st.opened} sockets opened (${st.open} open now) for ${st.closed} closed`);
    // A socket closed by a drop or the page may not have had its welcome.
    if (st.welcomes.length !== st.opened - st.unwelcomed) problems.push(`${p.name}: ${st.welcomes.length} welcomes for ${st.opened} sockets (${st.unwelcomed} closed before theirs)`);
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
