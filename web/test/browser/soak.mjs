#!/usr/bin/env node
// Browser soak (issue 5, test 3): three people type random text for
// QUIRE_SOAK_SECONDS (60) while their network drops at random; at the end
// all three pages and /content are equal. Fake hub unless QUIRE_URL is set
// (then the real binary; see targets.mjs).

import { launch, shot, until, watchErrors, contents, synced, quillMatchesClient, newTestContext } from './lib.mjs';
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
  await target.login(ctx, name, 'editor');
  const page = await ctx.newPage();
  watchErrors(page, name, errors);
  await page.goto(target.docUrl(name));
  await until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: `${name} loaded` });
  people.push({ name, ctx, page, offline: false });
}

const WORDS = ['lorem ', 'ipsum ', 'héllo ', '😀 ', 'naïve ', '中文 ', 'x', '\n', 'café ', '👩‍💻 '];
const KEYS = ['Backspace', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'Control+b', 'Delete'];
const end = Date.now() + SECONDS * 1000;
let drops = 0;
await Promise.all(people.map(async (p, i) => {
  const r = mulberry32(SEED + i + 1);
  await p.page.click('.ql-editor');
  while (Date.now() < end) {
    const x = r();
    if (x < 0.6) await p.page.keyboard.type(pick(r, WORDS), { delay: 5 });
    else if (x < 0.9) await p.page.keyboard.press(pick(r, KEYS));
    else if (x < 0.95) {
      p.offline = !p.offline;
      if (p.offline) drops++;
      await p.ctx.setOffline(p.offline);
    } else await p.page.waitForTimeout(int(r, 300));
  }
  if (p.offline) await p.ctx.setOffline(false);
}));
void rng;

let ok = true;
try {
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
  if (errors.length) throw new Error(errors.join('\n'));
  console.log(`converged at rev ${server.rev}, ${server.ops.length} ops, ${drops} network drops`);
} catch (e) {
  ok = false;
  console.log(`FAIL (seed ${SEED}): ${e.message}`);
}
for (const p of people) await shot(p.page, `soak-${p.name.split(' ')[0].toLowerCase()}`);
await browser.close();
await target.close();
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
