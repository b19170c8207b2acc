#!/usr/bin/env node
// End to end against the REAL binary (QUIRE_URL), two people in Chromium:
//   issue 6 test 4: the owner shares with a second person as viewer through
//     the Share dialog; they find it under "Shared with me", see the text,
//     cannot type; the owner makes them an editor in the dialog and they type
//     without reloading; the owner sees it. Also: no_account, links (created,
//     shown once, revoked), "Editors can share", keyboard, phone width.
//   issue 7 test 6: versions named through the ⋯ menu, the history page,
//     preview of the older one, restore, and both editors show it.
//   the menu's downloads: Text, HTML and Markdown files whose content is the
//     document (its text, in the expected tags, with the expected markup).
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/share-history.mjs
// The editor is the tests' build of web/src (lib.mjs: newTestContext), not
// the binary's embedded copy.
// Screenshots: target/e2e/1x-*.png. Prints "N passed, M failed"; exit 1 on failure.

import fs from 'node:fs';
import { launch, shot, until, text, statusText, toastTexts, hasToast, forgetToasts, newTestContext, dependentSteps } from './lib.mjs';

const base = (process.env.QUIRE_URL ?? '').replace(/\/$/, '');
if (!base || base === 'fake') {
  console.log('share-history needs the real server: set QUIRE_URL');
  process.exit(2);
}

const steps = dependentSteps();
const { step } = steps;

const browser = await launch();
const errors = [];
function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Refusals the test provokes on purpose (no_account 404) are checked
    // through what the page shows.
    // Removal closes the socket and refuses the reconnects (checked through the status).
    if (/Failed to load resource|WebSocket connection to/.test(m.text())) return;
    errors.push(`${label}: ${m.text()} ${m.location()?.url ?? ''}`);
  });
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
}

async function csrfOf(ctx) {
  const html = await (await ctx.request.get(`${base}/`)).text();
  return html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
}

async function person(name, viewport = { width: 1100, height: 800 }) {
  const ctx = await newTestContext(browser, { viewport, acceptDownloads: true });
  const email = `${name.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
  const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name, password: 'correct horse battery staple' } });
  if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
  const page = await ctx.newPage();
  watch(page, name);
  return { ctx, page, name, email, csrf: await csrfOf(ctx) };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: 'editor loaded' });
const synced = (page) => until(() => page.evaluate(() => window.__quire.client.isSynchronized && !window.__quire.sync.hasUnsaved), { what: 'synchronized' });
const dialogOpen = (page, sel = 'dialog.qe-share-dialog') => page.evaluate((s) => !!document.querySelector(s)?.open, sel);
const personRow = (page, email) => page.locator(`dialog.qe-share-dialog li.qe-person[data-email="${email}"]`);
const shareMsg = (page) => page.locator('dialog.qe-share-dialog .qe-share-msg').textContent();

async function openShare(page) {
  await page.click('.qe-share');
  await until(() => dialogOpen(page), { what: 'share dialog open' });
  await until(() => page.locator('dialog.qe-share-dialog li.qe-person').count(), { what: 'people listed' });
}

async function menuItem(page, action) {
  await page.click('.qe-menu-btn');
  await page.click(`.qe-menu [data-action="${action}"]`);
}

// ---- setup ------------------------------------------------------------------

const TITLE = 'Trip plan';
const A = await person('Ann Owner');
const B = await person('Bob Guest');
const doc = await (await A.ctx.request.post(`${base}/api/docs`, { data: { title: TITLE }, headers: { 'X-CSRF-Token': A.csrf } })).json();
const docUrl = `${base}/d/${doc.id}`;

await step('the owner opens the document and types', async () => {
  await A.page.goto(docUrl);
  await loaded(A.page);
  await A.page.click('.ql-editor');
  await A.page.keyboard.type('Day one: the museum.');
  await synced(A.page);
});

// ---- issue 6, test 4 ----------------------------------------------------------

await step('share dialog: the owner is listed and marked, Esc closes and gives focus back', async () => {
  await openShare(A.page);
  const row = A.page.locator('dialog.qe-share-dialog li.qe-person').first();
  if ((await row.getAttribute('data-role')) !== 'owner') throw new Error('first row is not the owner');
  const rowText = await row.textContent();
  if (!/Ann Owner \(you\)/.test(rowText) || !/Owner/.test(rowText) || !rowText.includes(A.email)) throw new Error(`owner row: ${rowText}`);
  const heading = await A.page.locator('dialog.qe-share-dialog h2').textContent();
  if (heading !== `Share “${TITLE}”`) throw new Error(`heading ${heading}`);
  // Focus starts in the e-mail field and Tab never leaves the dialog.
  if (!(await A.page.evaluate(() => document.activeElement?.classList.contains('qe-share-email')))) throw new Error('focus not on the e-mail field');
  for (let i = 0; i < 25; i++) {
    await A.page.keyboard.press(i % 7 === 6 ? 'Shift+Tab' : 'Tab');
    const inside = await A.page.evaluate(() => !!document.activeElement?.closest('dialog.qe-share-dialog'));
    if (!inside) throw new Error(`focus left the dialog after ${i + 1} Tab presses`);
  }
  await shot(A.page, '10-share-owner-empty');
  await A.page.keyboard.press('Escape');
  await until(async () => !(await dialogOpen(A.page)), { what: 'dialog closed by Esc' });
  await until(() => A.page.evaluate(() => document.activeElement?.classList.contains('qe-share')), { what: 'focus back on Share' });
});

await step('an e-mail without an account gets a clear answer', async () => {
  await openShare(A.page);
  await A.page.fill('.qe-share-email', 'nobody-here@example.test');
  await A.page.click('.qe-share-add');
  await until(async () => /no account/i.test(await shareMsg(A.page)), { what: 'no_account message' });
  await shot(A.page, '11-share-no-account');
  await A.page.fill('.qe-share-email', 'not an e-mail');
  await A.page.click('.qe-share-add');
  await until(async () => /Enter an e-mail address/.test(await shareMsg(A.page)), { what: 'e-mail check' });
});

await step('the owner shares with Bob as viewer through the dialog', async () => {
  await A.page.fill('.qe-share-email', B.email);
  await A.page.selectOption('.qe-share-newrole', 'viewer');
  await A.page.click('.qe-share-add');
  await until(async () => (await personRow(A.page, B.email).getAttribute('data-role').catch(() => null)) === 'viewer', { what: 'Bob listed as viewer' });
  if (!/Shared with/.test(await shareMsg(A.page))) throw new Error(`message: ${await shareMsg(A.page)}`);
  if ((await A.page.inputValue('.qe-share-email')) !== '') throw new Error('e-mail field not cleared');
  await shot(A.page, '12-share-bob-viewer');
  await A.page.click('.qe-share-done');
});

await step('Bob finds it under "Shared with me", opens it, sees the text, cannot type (Read-only)', async () => {
  await B.page.goto(`${base}/?scope=shared`);
  const link = B.page.locator('a.title', { hasText: TITLE });
  await until(() => link.count(), { what: 'document under Shared with me' });
  await shot(B.page, '13-bob-shared-with-me');
  await link.first().click();
  await B.page.waitForURL(docUrl);
  await loaded(B.page);
  await until(async () => (await statusText(B.page)) === 'Read-only', { what: 'Read-only' });
  const before = await text(B.page);
  if (!before.includes('Day one: the museum.')) throw new Error(`Bob sees ${JSON.stringify(before)}`);
  if ((await B.page.getAttribute('.ql-editor', 'contenteditable')) !== 'false') throw new Error('editable for a viewer');
  await B.page.click('.ql-editor');
  await B.page.keyboard.type('viewer typing');
  await B.page.waitForTimeout(300);
  if ((await text(B.page)) !== before) throw new Error('the viewer changed the text');
  // The page is the same one from here on: a marker proves there was no reload.
  await B.page.evaluate(() => { window.__noReload = true; });
  await shot(B.page, '14-bob-viewer');
});

await step('a viewer sees who has access, read-only, and no "Name current version…"', async () => {
  await openShare(B.page);
  if (await B.page.isVisible('.qe-share-email')) throw new Error('viewer sees the add form');
  if (await B.page.locator('.qe-share-people select, .qe-share-people button').count()) throw new Error('viewer sees role menus or buttons');
  if (await B.page.isVisible('.qe-share-general')) throw new Error('viewer sees the link section');
  const note = await B.page.locator('.qe-share-note').textContent();
  if (!/Only the owner/.test(note)) throw new Error(`note: ${note}`);
  if ((await personRow(B.page, B.email).getAttribute('data-role')) !== 'viewer') throw new Error('Bob not listed as viewer');
  await shot(B.page, '15-share-viewer-readonly');
  await B.page.keyboard.press('Escape');
  await until(async () => !(await dialogOpen(B.page)), { what: 'closed' });
  await until(() => B.page.evaluate(() => document.activeElement?.classList.contains('qe-share')), { what: 'focus back on Share' });
  // The menu from the keyboard: ArrowDown opens it on the first item.
  // The dialog hands focus back to Share a task after it closes, possibly after our check on a loaded machine.
  // That takes focus from the menu button or from the open menu (which then closes): press again until the menu
  // is open on its first item.
  await until(async () => {
    if (!(await B.page.isVisible('.qe-menu'))) {
      await B.page.focus('.qe-menu-btn');
      await B.page.keyboard.press('ArrowDown');
    }
    return (await B.page.evaluate(() => document.activeElement?.dataset.action)) === 'history';
  }, { what: 'the menu opened from the keyboard, on its first item' });
  if (await B.page.isVisible('.qe-menu [data-action="name-version"]')) throw new Error('a viewer can name versions');
  await shot(B.page, '16-menu-viewer');
  await B.page.keyboard.press('Escape');
  if (await B.page.isVisible('.qe-menu')) throw new Error('menu still open after Esc');
  // Focus handed elsewhere while the menu is open (as a closing dialog does) closes it.
  await B.page.focus('.qe-menu-btn');
  await B.page.keyboard.press('ArrowDown');
  await until(() => B.page.isVisible('.qe-menu'), { what: 'the menu open again' });
  await B.page.evaluate(() => document.querySelector('.qe-share').focus());
  await until(async () => !(await B.page.isVisible('.qe-menu')), { what: 'the menu closed when focus left it' });
});

await step('the owner makes Bob an editor in the dialog; Bob types without reloading; Ann sees it', async () => {
  await openShare(A.page);
  await A.page.selectOption(`dialog.qe-share-dialog li.qe-person[data-email="${B.email}"] select.qe-person-role`, 'editor');
  await until(async () => (await personRow(A.page, B.email).getAttribute('data-role').catch(() => null)) === 'editor', { what: 'Bob listed as editor' });
  await until(async () => (await B.page.getAttribute('.ql-editor', 'contenteditable')) === 'true', { what: 'Bob editable' });
  await until(async () => (await statusText(B.page)) !== 'Read-only', { what: 'not Read-only' });
  await A.page.click('.qe-share-done');
  await B.page.click('.ql-editor');
  await B.page.keyboard.press('Control+End');
  await B.page.keyboard.type(' Bob was here.');
  await until(async () => (await text(A.page)).includes('Bob was here.'), { what: 'Ann sees Bob\'s text' });
  if (!(await B.page.evaluate(() => window.__noReload))) throw new Error('Bob\'s page reloaded');
  await synced(B.page);
  await shot(A.page, '17-ann-sees-bob');
});

await step('share links: created with a role, URL shown once with Copy, listed, revoked', async () => {
  await openShare(A.page);
  if (!(await A.page.locator('.qe-share-nolinks').count())) throw new Error('no "restricted" line without links');
  await A.page.selectOption('.qe-share-linkrole', 'commenter');
  await A.page.click('.qe-share-linkcreate');
  await until(() => A.page.isVisible('.qe-share-newlink'), { what: 'new link box' });
  const url = await A.page.inputValue('.qe-share-newurl');
  if (!/\/s\/\S+$/.test(url)) throw new Error(`link url ${url}`);
  if (!/shown only once/.test(await A.page.locator('.qe-share-newlink').textContent())) throw new Error('no "shown once" note');
  const link = A.page.locator('li.qe-share-link[data-role="commenter"]');
  await until(() => link.count(), { what: 'link listed' });
  if (!/can comment/.test(await link.textContent())) throw new Error(await link.textContent());
  await A.page.click('.qe-share-copy'); // clipboard may be denied headless: either way it answers
  await until(async () => /Copied|Select/.test(await A.page.locator('.qe-share-copy').textContent()), { what: 'copy feedback' });
  await shot(A.page, '18-share-link-created');
  // The link works until revoked (for a signed-in visitor, per PROTOCOL).
  // The server builds it from its public_url, which may not be where this
  // test reaches it (a server on port 0): take the path.
  const visit = `${base}${new URL(url).pathname}`;
  const before = await A.ctx.request.get(visit, { maxRedirects: 0 });
  await link.locator('.qe-share-revoke').click();
  await until(async () => (await link.count()) === 0, { what: 'link gone' });
  const after = await A.ctx.request.get(visit, { maxRedirects: 0 });
  if (after.status() === before.status() && after.status() < 400) throw new Error(`revoked link still answers ${after.status()}`);
  // Reopening shows the URL no more.
  await A.page.keyboard.press('Escape');
  await openShare(A.page);
  if (await A.page.isVisible('.qe-share-newlink')) throw new Error('the link URL is shown again');
});

await step('"Editors can share": the owner ticks it and Bob (editor) can then add people', async () => {
  await A.page.check('.qe-share-editors');
  await until(async () => (await (await A.ctx.request.get(`${base}/api/docs/${doc.id}`)).json()).editors_can_share === true, { what: 'editors_can_share saved' });
  await A.page.click('.qe-share-done');
  await openShare(B.page);
  if (!(await B.page.isVisible('.qe-share-email'))) throw new Error('editor cannot add people');
  if (await B.page.isVisible('.qe-share-general')) throw new Error('an editor sees the owner-only link section');
  if (await B.page.locator('.qe-person-makeowner').count()) throw new Error('an editor sees "Make owner"');
  await shot(B.page, '19-share-editor-can-share');
  await B.page.keyboard.press('Escape');
});

await step('phone width: the dialog fits the screen', async () => {
  const P = await A.ctx.newPage();
  watch(P, 'Ann phone');
  await P.setViewportSize({ width: 375, height: 740 });
  await P.goto(docUrl);
  await loaded(P);
  await openShare(P);
  const fit = await P.evaluate(() => {
    const d = document.querySelector('dialog.qe-share-dialog');
    const r = d.getBoundingClientRect();
    return { left: r.left, right: r.right, vw: window.innerWidth, overflow: d.scrollWidth - d.clientWidth };
  });
  await shot(P, '20-share-phone');
  if (fit.left < 0 || fit.right > fit.vw || fit.overflow > 0) throw new Error(`dialog does not fit: ${JSON.stringify(fit)}`);
  await P.keyboard.press('Escape');
  await P.click('.qe-menu-btn');
  await shot(P, '21-menu-phone');
  const m = await P.evaluate(() => document.querySelector('.qe-menu').getBoundingClientRect().toJSON());
  if (m.left < 0 || m.right > 375) throw new Error(`menu off screen: ${JSON.stringify(m)}`);
  await P.close();
});

// ---- issue 7, test 6 ----------------------------------------------------------

let firstDraft = '';
await step('"Name current version…" in the menu names a version (twice, with an edit between)', async () => {
  await synced(A.page);
  await synced(B.page);
  firstDraft = await text(A.page);
  await menuItem(A.page, 'name-version');
  await until(() => dialogOpen(A.page, 'dialog.qe-name-dialog'), { what: 'name dialog' });
  await A.page.keyboard.type('First draft');
  await shot(A.page, '22-name-version');
  await A.page.keyboard.press('Enter');
  await until(async () => !(await dialogOpen(A.page, 'dialog.qe-name-dialog')), { what: 'name dialog closed' });
  await until(() => hasToast(A.page, 'Version named'), { what: '"Version named"' });
  await forgetToasts(A.page);
  await A.page.click('.ql-editor');
  await A.page.keyboard.press('Control+End');
  await A.page.keyboard.type(' Day two: the beach.');
  await synced(A.page);
  await menuItem(A.page, 'name-version');
  await until(() => dialogOpen(A.page, 'dialog.qe-name-dialog'), { what: 'name dialog' });
  await A.page.fill('.qe-version-name', 'Second draft');
  await A.page.click('dialog.qe-name-dialog button[type="submit"]');
  // The dialog closes once the server has answered; the toast is this
  // version's own (the first one's was set aside by forgetToasts).
  await until(async () => !(await dialogOpen(A.page, 'dialog.qe-name-dialog')), { what: 'name dialog closed' });
  await until(() => hasToast(A.page, 'Version named'), { what: '"Version named"' });
  const versions = await (await A.ctx.request.get(`${base}/api/docs/${doc.id}/versions`)).json();
  const names = JSON.stringify(versions).match(/First draft|Second draft/g) ?? [];
  if (!names.includes('First draft') || !names.includes('Second draft')) throw new Error(`versions: ${JSON.stringify(versions).slice(0, 400)}`);
});

await step('history: preview the older version, see the changes, restore it; both editors show it', async () => {
  await menuItem(A.page, 'history');
  await A.page.waitForURL(`${docUrl}/history`);
  await shot(A.page, '23-history');
  await A.page.locator('ol.versions a', { hasText: 'First draft' }).click();
  await until(async () => {
    const t = await A.page.locator('#preview').textContent();
    return t.includes('Day one: the museum.') && !t.includes('Day two');
  }, { what: 'preview of First draft' });
  await shot(A.page, '24-history-preview-first');
  await A.page.click('#show-changes');
  await A.page.waitForURL(/changes=1/);
  await shot(A.page, '25-history-changes');
  // Restoring asks first (pages-feel.mjs checks that "no" changes nothing).
  A.page.once('dialog', (dialog) => dialog.accept());
  await A.page.click('#restore');
  await A.page.waitForURL((url) => url.href.startsWith(docUrl));
  await loaded(A.page);
  const want = firstDraft;
  await until(async () => (await text(A.page)) === want, { what: 'Ann\'s editor shows the First draft' });
  await until(async () => (await text(B.page)) === want, { what: 'Bob\'s editor shows it live' });
  await shot(A.page, '26-restored');
});

// ---- downloads ------------------------------------------------------------------
// The server has every format (text, html, markdown): each must download a
// file whose content is the document, never a "not available" message.

// The document as formatted text, typed through the editor: a heading (the
// toolbar), bold and italic (shortcuts), characters HTML must escape, and a
// bulleted list (Quill's "- " at a line start).
const PLAIN = 'Fish & chips <3 "quoted"';
await step('the owner adds a heading, bold, italic, escapes and a list for the downloads', async () => {
  await A.page.click('.ql-editor');
  await A.page.keyboard.press('Control+End');
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.type('Packing list');
  await A.page.click('.ql-header .ql-picker-label');
  await A.page.click('.ql-header .ql-picker-item[data-value="1"]');
  await A.page.keyboard.press('End');
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.press('Control+b');
  await A.page.keyboard.type('sunscreen');
  await A.page.keyboard.press('Control+b');
  await A.page.keyboard.type(' and a ');
  await A.page.keyboard.press('Control+i');
  await A.page.keyboard.type('hat');
  await A.page.keyboard.press('Control+i');
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.type(PLAIN);
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.type('- towels');
  await A.page.keyboard.press('Enter');
  await A.page.keyboard.type('maps');
  await synced(A.page);
  const ops = await A.page.evaluate(() => window.__quire.quill.getContents().ops);
  const want = [
    (o) => o.attributes?.header === 1,
    (o) => o.insert === 'sunscreen' && o.attributes?.bold,
    (o) => o.insert === 'hat' && o.attributes?.italic,
    (o) => o.attributes?.list === 'bullet',
  ];
  if (!want.every((f) => ops.some(f)) || !(await text(A.page)).includes('\nPacking list\n')) throw new Error(`the editor did not format as typed: ${JSON.stringify(ops)}`);
});

// Pick a download from the menu: the file, or a failure with what the page said instead.
async function download(page, format) {
  let done = false;
  const refused = until(async () => {
    if (done) return 'done';
    return (await toastTexts(page)).find((t) => /not available|Could not download/.test(t));
  }, { timeout: 15000, what: 'download or message' }).catch(() => null);
  try {
    const got = await Promise.race([
      page.waitForEvent('download', { timeout: 15000 }).then((dl) => ({ dl })),
      refused.then((msg) => (msg && msg !== 'done' ? { msg } : new Promise(() => {}))),
      menuItem(page, `download-${format}`).then(() => new Promise(() => {})),
    ]);
    if (got.msg) throw new Error(`no ${format} file: the page says "${got.msg}"`);
    return got.dl;
  } finally {
    done = true;
  }
}

const docText = () => text(A.page);
const lineTexts = async () => (await docText()).split('\n').filter((l) => l !== '');

await step('Download as Text saves the document under the title, exactly its text', async () => {
  const dl = await download(A.page, 'text');
  if (dl.suggestedFilename() !== `${TITLE}.txt`) throw new Error(`file name ${dl.suggestedFilename()}`);
  const body = fs.readFileSync(await dl.path(), 'utf8');
  const want = await docText();
  if (body !== want) throw new Error(`file != document\n file: ${JSON.stringify(body)}\n doc:  ${JSON.stringify(want)}`);
  await until(() => hasToast(A.page, 'Downloaded as Text'), { what: 'toast Downloaded as Text' });
});

await step('Download as HTML: a page titled like the document, its text in the expected tags', async () => {
  const dl = await download(A.page, 'html');
  if (dl.suggestedFilename() !== `${TITLE}.html`) throw new Error(`file name ${dl.suggestedFilename()}`);
  const body = fs.readFileSync(await dl.path(), 'utf8');
  // Read it as a browser does (no scripts in it to run: JavaScript off).
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  try {
    const P = await ctx.newPage();
    await P.setContent(body);
    const got = await P.evaluate(() => {
      const texts = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
      return {
        title: document.title,
        h1: texts('body > h1'),
        p: texts('body > p'),
        strong: texts('p > strong'),
        em: texts('p > em'),
        li: texts('body > ul > li'),
        scripts: document.querySelectorAll('script').length,
        blocks: [...document.body.children].map((e) => e.tagName.toLowerCase()),
      };
    });
    const lines = await lineTexts();
    const want = {
      title: TITLE,
      h1: ['Packing list'],
      p: [...lines.slice(0, lines.indexOf('Packing list')), 'sunscreen and a hat', PLAIN],
      strong: ['sunscreen'],
      em: ['hat'],
      li: ['towels', 'maps'],
      scripts: 0,
    };
    const { blocks, ...rest } = got;
    if (JSON.stringify(rest) !== JSON.stringify(want)) {
      throw new Error(`HTML does not hold the document\n got:  ${JSON.stringify(got)}\n want: ${JSON.stringify(want)}\n file: ${body}`);
    }
    // The blocks in the document's order.
    const order = blocks.join(' ');
    if (!/^(p )+h1 p p ul$/.test(order)) throw new Error(`blocks out of order: ${order}\n file: ${body}`);
    // The characters that need it are escaped in the source.
    if (!body.includes('Fish &amp; chips &lt;3')) throw new Error(`not escaped: ${body}`);
  } finally {
    await ctx.close();
  }
  await until(() => hasToast(A.page, 'Downloaded as HTML'), { what: 'toast Downloaded as HTML' });
});

await step('Download as Markdown: the document\'s text with heading, emphasis and list markup', async () => {
  const dl = await download(A.page, 'markdown');
  if (dl.suggestedFilename() !== `${TITLE}.md`) throw new Error(`file name ${dl.suggestedFilename()}`);
  const body = fs.readFileSync(await dl.path(), 'utf8');
  const lines = body.split('\n');
  const doc = await lineTexts();
  const first = doc.slice(0, doc.indexOf('Packing list'));
  const want = [...first, '# Packing list', '**sunscreen** and a *hat*', '- towels', '- maps'];
  const missing = want.filter((l) => !lines.includes(l));
  if (missing.length) throw new Error(`Markdown lacks ${JSON.stringify(missing)}\n file: ${body}`);
  // In the document's order, and the escaped line still reads as the text.
  const at = want.map((l) => lines.indexOf(l));
  if (at.some((x, i) => i && x <= at[i - 1])) throw new Error(`lines out of order: ${at}\n file: ${body}`);
  const plain = lines.find((l) => l.startsWith('Fish'));
  if (!plain || plain.replace(/\\(.)/g, '$1').replace(/&lt;/g, '<').replace(/&amp;/g, '&').replace(/&quot;/g, '"') !== PLAIN) {
    throw new Error(`line ${JSON.stringify(plain)} does not read as ${JSON.stringify(PLAIN)}\n file: ${body}`);
  }
  await until(() => hasToast(A.page, 'Downloaded as Markdown'), { what: 'toast Downloaded as Markdown' });
});

await step('"Make owner" (confirmed) transfers ownership; the new owner removes the old one, whose page says so', async () => {
  await openShare(A.page);
  const bobRow = personRow(A.page, B.email);
  await bobRow.locator('.qe-person-makeowner').click();
  // A confirmation first: Cancel leaves everything as it was.
  await bobRow.locator('.qe-person-confirm button', { hasText: 'Cancel' }).click();
  if (await bobRow.locator('.qe-person-confirm').count()) throw new Error('confirmation still shown');
  await bobRow.locator('.qe-person-makeowner').click();
  await shot(A.page, '27-make-owner-confirm');
  await bobRow.locator('.qe-person-confirm .qe-danger-btn').click();
  await until(async () => (await personRow(A.page, B.email).getAttribute('data-role').catch(() => null)) === 'owner', { what: 'Bob is the owner' });
  if ((await personRow(A.page, A.email).getAttribute('data-role')) !== 'editor') throw new Error('Ann is not an editor');
  if (await A.page.isVisible('.qe-share-general')) throw new Error('Ann still sees the owner-only section');
  await shot(A.page, '28-after-transfer');
  await A.page.keyboard.press('Escape');
  await openShare(B.page);
  if (!(await B.page.isVisible('.qe-share-general'))) throw new Error('the new owner has no link section');
  await personRow(B.page, A.email).locator('.qe-person-remove').click();
  await until(async () => (await personRow(B.page, A.email).count()) === 0, { what: 'Ann removed' });
  await until(async () => /no longer have access/.test(await statusText(A.page)), { what: 'Ann told', timeout: 20000 });
  await until(() => A.page.isVisible('.qe-access'), { what: 'the access banner' });
  await shot(A.page, '29-ann-removed');
  await B.page.keyboard.press('Escape');
});

await step('no console errors or CSP violations', async () => {
  if (errors.length) throw new Error(errors.join('\n'));
});

await browser.close();
process.exit(steps.report());
