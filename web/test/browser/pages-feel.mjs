#!/usr/bin/env node
// The dashboard and version history as a person uses them (issue 19, items 6 and 8), against the REAL
// binary (QUIRE_URL), in Chromium:
//   - an imported Markdown file takes its first heading as its title (the dashboard's file picker);
//   - the history previews a version with its formatting, shows dates in the reader's time zone and who
//     edited, says no "revision"; restoring asks first (no answer, no change) and the editor says "Restored";
//   - the "Blank document" tile opens a new document;
//   - a row's ⋯ menu renames without moving any row, moves to the trash with "Undo", and stays in the window
//     on a phone; nobody sees another's title through the Undo notice.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/pages-feel.mjs
// Screenshots: target/e2e/feel-*.png. Prints "N passed, M failed"; exit 1 on failure.

import { launch, shot, until, useTestBundle } from './lib.mjs';
import { assert, checks, importDoc, person, serverUrl } from './pages-lib.mjs';

const base = serverUrl('pages-feel');
const { check, finish } = checks();
const browser = await launch();
const ann = await person(browser, base, 'Ann Lee', { width: 1280, height: 900 });
const bob = await person(browser, base, 'Bob', { width: 1280, height: 900 });
await useTestBundle(ann.ctx);

const TRIP = [
  '# Trip to Lisbon',
  '',
  'Day **one**: the *museum*.',
  '',
  '- pack',
  '- go',
  '',
  '- [x] booked',
  '',
].join('\n');

async function docText(who, id) {
  const res = await who.api('GET', `/api/docs/${id}/content`);
  return (await res.json()).ops.map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');
}

async function editorReady(page) {
  await page.waitForSelector('.ql-editor');
  await until(() => page.evaluate(() => window.__quire?.client?.isSynchronized === true), { what: 'editor synced' });
}

let tripId = null;

await check('an imported Markdown file takes its first heading as the title', async () => {
  await ann.page.goto(`${base}/`);
  await ann.page.setInputFiles('#import-file', {
    name: 'notes-2026.md', mimeType: 'text/markdown', buffer: Buffer.from(TRIP),
  });
  await ann.page.waitForURL(/\/d\/[^/?]+$/);
  tripId = new URL(ann.page.url()).pathname.split('/').pop();
  await editorReady(ann.page);
  const title = await ann.page.inputValue('.qe-title');
  assert(title === 'Trip to Lisbon', `title ${JSON.stringify(title)}`);
});

await check('history: a formatted preview, local dates, who edited, no revision numbers', async () => {
  // A second version: a line typed in the editor, then named.
  await ann.page.click('.ql-editor');
  await ann.page.keyboard.press('Control+End');
  await ann.page.keyboard.type('Day two: the coast.');
  await until(() => ann.page.evaluate(() => window.__quire.client.isSynchronized), { what: 'typed line sent' });
  const named = await ann.api('POST', `/api/docs/${tripId}/versions`, { name: 'With day two' });
  assert(named.ok(), `naming a version: ${named.status()}`);
  await ann.page.goto(`${base}/d/${tripId}/history`);
  const list = await ann.page.locator('ol.versions').innerText();
  assert(!/revision/i.test(list), `the list still speaks of revisions: ${list}`);
  assert(list.includes('With day two') && list.includes('Imported'), list);
  assert(list.includes('Edited by Ann Lee'), `who edited is missing: ${list}`);
  const times = await ann.page.locator('ol.versions time').evaluateAll((els) => els.map((el) => ({
    iso: el.getAttribute('datetime'), text: el.textContent, utc: el.title,
  })));
  assert(times.length >= 2, `${times.length} dates`);
  for (const t of times) {
    assert(!Number.isNaN(Date.parse(t.iso)), `datetime ${t.iso}`);
    assert(!t.text.includes('UTC') && /\d/.test(t.text), `not a local date: ${t.text}`);
    assert(t.utc.endsWith('UTC'), `the UTC date is not kept as a tooltip: ${t.utc}`);
  }
  await ann.page.locator('ol.versions a', { hasText: 'Imported' }).click();
  await ann.page.waitForURL(/\?v=/);
  const preview = ann.page.locator('#preview');
  assert((await preview.locator('h1').innerText()) === 'Trip to Lisbon', 'no heading in the preview');
  assert((await preview.locator('strong').innerText()) === 'one', 'no bold in the preview');
  assert((await preview.locator('em').innerText()) === 'museum', 'no italic in the preview');
  assert((await preview.locator('li').count()) >= 3, 'no list in the preview');
  const done = await preview.locator('li[data-checked="true"]').evaluate((el) => getComputedStyle(el).textDecorationLine);
  assert(done.includes('line-through'), `a done checklist item is not struck through: ${done}`);
  assert(!(await preview.innerText()).includes('Day two'), 'the preview shows the later text');
  await shot(ann.page, 'feel-history-1280');
  await ann.page.setViewportSize({ width: 390, height: 780 });
  await shot(ann.page, 'feel-history-390');
  await ann.page.setViewportSize({ width: 1280, height: 900 });
});

await check('history: restoring asks first; no answer changes nothing; yes restores and says "Restored"', async () => {
  const before = await docText(ann, tripId);
  assert(before.includes('Day two'), before);
  let asked = '';
  ann.page.once('dialog', (dialog) => { asked = dialog.message(); dialog.dismiss(); });
  await ann.page.click('#restore');
  await until(() => asked, { what: 'the confirmation' });
  assert(/Restore the version from .*\?/.test(asked) && asked.includes('stays in the history'), `asked: ${asked}`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert(/\/history/.test(ann.page.url()), `left the history page: ${ann.page.url()}`);
  assert((await docText(ann, tripId)) === before, 'dismissing the question restored anyway');

  ann.page.once('dialog', (dialog) => dialog.accept());
  await ann.page.click('#restore');
  await ann.page.waitForURL(new RegExp(`/d/${tripId}`));
  await editorReady(ann.page);
  const notice = ann.page.locator('[role=status]', { hasText: 'Restored' });
  await notice.first().waitFor({ state: 'visible', timeout: 5000 });
  await until(async () => !(await docText(ann, tripId)).includes('Day two'), { what: 'the older text back' });
  assert(!ann.page.url().includes('restored'), `a reload would announce it again: ${ann.page.url()}`);
  await shot(ann.page, 'feel-restored-1280');
});

await check('the "Blank document" tile opens a new, empty document', async () => {
  await ann.page.goto(`${base}/`);
  const tile = ann.page.locator('#new-document');
  assert((await tile.innerText()).includes('Blank document'), await tile.innerText());
  await tile.click();
  await ann.page.waitForURL(/\/d\/[^/?]+$/);
  await editorReady(ann.page);
  assert((await ann.page.evaluate(() => window.__quire.quill.getText())) === '\n', 'not empty');
});

async function rowBoxes(page) {
  return page.locator('#docs tbody tr').evaluateAll((rows) => rows.map((row) => {
    const box = row.getBoundingClientRect();
    return `${Math.round(box.top)}:${Math.round(box.height)}:${Math.round(box.width)}`;
  }));
}

function rowOf(page, title) {
  return page.locator('#docs tbody tr', { has: page.locator('.title', { hasText: title }) });
}

await check('a row\'s ⋯ menu renames in place without moving any row', async () => {
  await importDoc(ann, 'Packing list', 'Socks.\n');
  await ann.page.goto(`${base}/`);
  await shot(ann.page, 'feel-dashboard-1280');
  const row = rowOf(ann.page, 'Trip to Lisbon');
  const before = await rowBoxes(ann.page);
  await row.locator('summary[aria-label^="More actions"]').click();
  await row.locator('.menu').waitFor({ state: 'visible' });
  await row.locator('details.rename summary').click();
  const field = row.locator('input[name=title]');
  await field.waitFor({ state: 'visible' });
  assert(await field.evaluate((el) => el === document.activeElement), 'the title field is not focused');
  await shot(ann.page, 'feel-dashboard-rename-1280');
  const during = await rowBoxes(ann.page);
  assert(JSON.stringify(before) === JSON.stringify(during), `rows moved: ${before} -> ${during}`);
  await field.fill('Lisbon, spring');
  await field.press('Enter');
  await ann.page.waitForURL(`${base}/`);
  await rowOf(ann.page, 'Lisbon, spring').waitFor();
  // A click elsewhere closes an open menu.
  const other = rowOf(ann.page, 'Packing list');
  await other.locator('summary[aria-label^="More actions"]').click();
  await ann.page.click('h1');
  assert(!(await other.locator('.menu').isVisible()), 'the menu stayed open after a click elsewhere');
});

await check('moving to the trash says so with Undo, and Undo brings it back', async () => {
  const row = rowOf(ann.page, 'Packing list');
  await row.locator('summary[aria-label^="More actions"]').click();
  await row.locator('button', { hasText: 'Move to trash' }).click();
  const notice = ann.page.locator('#trashed-notice');
  await notice.waitFor({ state: 'visible' });
  assert((await notice.innerText()).includes('Moved “Packing list” to the trash'), await notice.innerText());
  assert((await rowOf(ann.page, 'Packing list').count()) === 0, 'still listed');
  await shot(ann.page, 'feel-trash-undo-1280');
  await ann.page.click('#undo-trash');
  await ann.page.waitForURL(`${base}/`);
  await rowOf(ann.page, 'Packing list').waitFor();
  assert((await ann.page.locator('#trashed-notice').count()) === 0, 'the notice outlived its Undo');
  await ann.page.goto(`${base}/?scope=trash`);
  assert((await rowOf(ann.page, 'Packing list').count()) === 0, 'still in the trash');
});

await check('nobody learns another person\'s title from ?trashed=', async () => {
  const secret = await importDoc(ann, 'Secret plans', 'x\n');
  const res = await ann.api('DELETE', `/api/docs/${secret}`);
  assert(res.ok(), `trash ${res.status()}`);
  await bob.page.goto(`${base}/?trashed=${secret}`);
  assert((await bob.page.locator('#trashed-notice').count()) === 0, 'Bob sees a notice');
  assert(!(await bob.page.content()).includes('Secret plans'), 'Bob sees the title');
});

await check('on a phone the ⋯ menu stays in the window', async () => {
  await ann.page.setViewportSize({ width: 390, height: 780 });
  await ann.page.goto(`${base}/`);
  await shot(ann.page, 'feel-dashboard-390');
  const row = rowOf(ann.page, 'Packing list');
  await row.locator('summary[aria-label^="More actions"]').click();
  const box = await row.locator('.menu').boundingBox();
  assert(box && box.x >= 0 && box.x + box.width <= 390, `menu at ${JSON.stringify(box)}`);
  await shot(ann.page, 'feel-dashboard-menu-390');
});

await browser.close();
finish();
