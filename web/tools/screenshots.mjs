#!/usr/bin/env node
// Screenshots of the pages people look at most, at 1280 and 390 px: the dashboard, the editor with two people
// typing, the Share dialog, the version history and the "document not found" page. Works against any build of
// Quire (it drives the pages as a person does, with selectors every version has), so the same script makes the
// "before" and "after" pictures of docs/screenshots/.
//
//   QUIRE_URL=http://127.0.0.1:PORT node tools/screenshots.mjs OUT_DIR

import fs from 'node:fs';
import path from 'node:path';
import { launch } from '../test/browser/lib.mjs';
import { importDoc, person, serverUrl } from '../test/browser/pages-lib.mjs';

const base = serverUrl('screenshots');
const out = path.resolve(process.argv[2] ?? 'screenshots');
fs.mkdirSync(out, { recursive: true });
const WIDTHS = [1280, 390];
const viewport = (width) => ({ width, height: width < 800 ? 844 : 860 });

const browser = await launch();
const ann = await person(browser, base, 'Ann Lee', viewport(1280));
const bob = await person(browser, base, 'Bob Marsh', viewport(1280));

async function save(page, name, width) {
  const file = path.join(out, `${name}-${width}.png`);
  await page.screenshot({ path: file });
  console.log(file);
}

const STORY = [
  '# Field trip to Lisbon',
  '',
  'We leave on **Monday at 8:00** from the school gate. Bring a *packed lunch* and water.',
  '',
  '## Plan',
  '',
  '1. Morning: the tile museum',
  '2. Lunch by the river',
  '3. Afternoon: the castle',
  '',
  '- [x] Bus booked',
  '- [ ] Permission slips',
  '',
  '> Every pupil needs a signed slip by Friday.',
  '',
].join('\n');

const doc = await importDoc(ann, 'Field trip to Lisbon', STORY);
await importDoc(ann, 'Budget 2027, with every line item the board asked about in November', 'Numbers.\n');
await importDoc(ann, 'Reading list', 'Books.\n');
const shared = await ann.api('PUT', `/api/docs/${doc}/members/${encodeURIComponent(bob.email)}`, { role: 'editor' });
if (!shared.ok()) throw new Error(`sharing: ${shared.status()}`);
const named = await ann.api('POST', `/api/docs/${doc}/versions`, { name: 'First plan' });
if (!named.ok()) throw new Error(`naming a version: ${named.status()}`);

for (const width of WIDTHS) {
  for (const who of [ann, bob]) await who.page.setViewportSize(viewport(width));

  await ann.page.goto(`${base}/`);
  await save(ann.page, 'dashboard', width);

  // Two people in the document: Bob types and moves, Ann looks.
  await ann.page.goto(`${base}/d/${doc}`);
  await bob.page.goto(`${base}/d/${doc}`);
  await ann.page.waitForSelector('.ql-editor');
  await bob.page.waitForSelector('.ql-editor');
  await bob.page.click('.ql-editor h2');
  await bob.page.keyboard.press('End');
  await bob.page.keyboard.type(' for the day');
  await new Promise((resolve) => setTimeout(resolve, 700));
  await save(ann.page, 'editor-two-people', width);

  await ann.page.click('.qe-share');
  await new Promise((resolve) => setTimeout(resolve, 700));
  await save(ann.page, 'share-dialog', width);

  await ann.page.goto(`${base}/d/${doc}/history`);
  await save(ann.page, 'history', width);

  await ann.page.goto(`${base}/d/no-such-document`);
  await save(ann.page, 'not-found', width);
}

await browser.close();
