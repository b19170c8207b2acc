#!/usr/bin/env node
// Comments in Chromium (issue 14), two people on one document: Ann is an editor
// and Bob a commenter, both by sharing from its owner. Ann selects a word and
// comments; Bob sees the highlight on that word and the thread appear, and
// replies; Ann sees the reply and resolves: the thread leaves the open list on
// both pages and shows under "Show resolved"; Ann reopens it and types before
// the word, and Bob's highlight still covers exactly that word. Bob, a
// commenter, comments too (Ctrl+Alt+M) and resolves his own thread; a viewer
// reads the threads without reply boxes; the toggle hides the panel; Bob edits
// and deletes his own message; a refused comment message is a toast; a
// #comment-ID link opens the panel at that thread and marks the notifications
// read; @ mentions (once the server has GET .../people); the panel below the
// text at phone width. No page errors.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/comments.mjs
//   QUIRE_BIN=../target/debug/quire node test/browser/comments.mjs   (a server of its own)
// Screenshots: target/e2e/comments-panel.png (1280x800) and comments-phone.png.
// Prints "N passed, M failed"; exit 1 on failure.

import path from 'node:path';
import { dependentSteps, launch, shot, until, watchErrors, newTestContext, startServer, SHOTS, toastTexts } from './lib.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const server = process.env.QUIRE_URL ? null : await startServer();
const base = (process.env.QUIRE_URL ?? server.url).replace(/\/$/, '');
const browser = await launch();
const errors = [];
const { step, report } = dependentSteps();

async function person(name, viewport = DESKTOP) {
  const ctx = await newTestContext(browser, { viewport });
  const email = `${name.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
  const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name, password: 'correct horse battery staple' } });
  if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
  const html = await (await ctx.request.get(`${base}/`)).text();
  const csrf = html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
  const page = await ctx.newPage();
  watchErrors(page, name, errors);
  return { ctx, page, name, email, csrf };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: 'editor loaded' });
const synced = (page) => until(() => page.evaluate(() => window.__quire.client.isSynchronized && !window.__quire.sync.hasUnsaved), { what: 'synchronized' });
// The text under the comment highlights, as the page paints it.
const highlighted = (page) => page.evaluate(() => ['qe-comment', 'qe-comment-active']
  .flatMap((name) => [...(CSS.highlights.get(name) ?? [])].map((r) => r.toString())));
const cards = (page) => page.locator('.qe-comments .qe-thread:not(.qe-composer)');
const cardTexts = (page) => cards(page).allTextContents();
const countBadge = (page) => page.locator('.qe-comments-count').textContent();
function check(ok, what) {
  if (!ok) throw new Error(what);
}

const owner = await person('Olga Owner');
const ann = await person('Ann Editor');
const bob = await person('Bob Commenter');
const vic = await person('Vic Viewer');
const doc = await (await owner.ctx.request.post(`${base}/api/docs`, { data: { title: 'Fox notes' }, headers: { 'X-CSRF-Token': owner.csrf } })).json();
for (const [who, role] of [[ann, 'editor'], [bob, 'commenter'], [vic, 'viewer']]) {
  const res = await owner.ctx.request.put(`${base}/api/docs/${doc.id}/members/${encodeURIComponent(who.email)}`, { data: { role }, headers: { 'X-CSRF-Token': owner.csrf } });
  if (!res.ok()) throw new Error(`share with ${who.name}: ${res.status()} ${await res.text()}`);
}
const docUrl = `${base}/d/${doc.id}`;
const TEXT = 'The quick brown fox jumps over the lazy dog.';

await step('Ann types, selects "brown" and comments on it from the toolbar', async () => {
  await ann.page.goto(docUrl);
  await loaded(ann.page);
  await ann.page.click('.ql-editor');
  await ann.page.keyboard.type(TEXT);
  await synced(ann.page);
  const button = ann.page.locator('.ql-toolbar .qe-comment-btn');
  check(await button.isDisabled(), 'Comment is enabled with nothing selected');
  await ann.page.evaluate((t) => window.__quire.quill.setSelection(t.indexOf('brown'), 5, 'user'), TEXT);
  await until(async () => !(await button.isDisabled()), { what: 'Comment enabled on a selection' });
  await button.click();
  const box = ann.page.getByRole('textbox', { name: 'Comment', exact: true });
  await box.fill('Is brown the right colour?');
  await ann.page.getByRole('button', { name: 'Comment', exact: true }).last().click();
  await until(async () => (await cardTexts(ann.page)).some((t) => t.includes('Is brown the right colour?')), { what: 'the thread on Ann\'s page' });
  await until(async () => JSON.stringify(await highlighted(ann.page)) === '["brown"]', { what: 'Ann\'s highlight on brown' });
  check((await countBadge(ann.page)) === '1', 'count of open threads');
});

await step('Bob (commenter) opens the document: the highlight on "brown" and the thread are there', async () => {
  await bob.page.goto(docUrl);
  await loaded(bob.page);
  await until(async () => JSON.stringify(await highlighted(bob.page)) === '["brown"]', { what: 'Bob\'s highlight on brown' });
  const texts = await cardTexts(bob.page);
  check(texts.length === 1 && texts[0].includes('Ann Editor') && texts[0].includes('Is brown the right colour?'), `Bob's cards: ${texts}`);
  // A commenter's toolbar has the Comment button and no formatting.
  check(await bob.page.locator('.ql-toolbar .qe-comment-btn').isVisible(), 'no Comment button for the commenter');
  check(!(await bob.page.locator('.ql-toolbar button.ql-bold').isVisible()), 'the commenter sees formatting buttons');
  // He may not resolve Ann's thread (role table), but may reply.
  check(await cards(bob.page).getByRole('button', { name: 'Resolve' }).count() === 0, 'Resolve offered to a commenter on someone else\'s thread');
});

await step('a thread appears live: Bob replies, Ann sees the reply', async () => {
  const reply = cards(bob.page).first().getByRole('textbox', { name: 'Reply' });
  await reply.fill('Yes, keep it.');
  await cards(bob.page).first().getByRole('button', { name: 'Reply' }).click();
  await until(async () => (await cardTexts(ann.page)).some((t) => t.includes('Bob Commenter') && t.includes('Yes, keep it.')), { what: 'the reply on Ann\'s page' });
  await until(async () => (await reply.inputValue()) === '', { what: 'Bob\'s reply box emptied' });
  await shot(ann.page, 'comments-panel');
});

await step('Ann resolves: the thread leaves the open list on both pages and shows under "Show resolved"', async () => {
  await cards(ann.page).first().getByRole('button', { name: 'Resolve' }).click();
  for (const p of [ann.page, bob.page]) {
    await until(async () => (await cards(p).count()) === 0, { what: 'no open thread' });
    // Highlights are painted at the next frame.
    await until(async () => (await highlighted(p)).length === 0, { what: 'no highlight of a resolved thread' });
    check((await countBadge(p)) === '', 'count not cleared');
  }
  await bob.page.getByLabel('Show resolved').check();
  await until(async () => (await cardTexts(bob.page)).some((t) => t.includes('Resolved by Ann Editor') && t.includes('Yes, keep it.')), { what: 'resolved thread under Show resolved' });
});

await step('Ann reopens it and types before the word: Bob\'s highlight still covers exactly "brown"', async () => {
  await ann.page.getByLabel('Show resolved').check();
  await cards(ann.page).first().getByRole('button', { name: 'Reopen' }).click();
  await until(async () => JSON.stringify(await highlighted(bob.page)) === '["brown"]', { what: 'highlight back after reopening' });
  // Right before the word (the boundary: outside), then earlier in the text.
  await ann.page.evaluate((t) => window.__quire.quill.setSelection(t.indexOf('brown'), 0, 'user'), TEXT);
  await ann.page.keyboard.type('dark ');
  await ann.page.evaluate(() => window.__quire.quill.setSelection(4, 0, 'user'));
  await ann.page.keyboard.type('very ');
  await synced(ann.page);
  await until(() => bob.page.evaluate(() => window.__quire.quill.getText().startsWith('The very quick dark brown fox')), { what: 'Ann\'s typing on Bob\'s page' });
  await until(async () => JSON.stringify(await highlighted(bob.page)) === '["brown"]', { what: 'Bob\'s highlight on brown after the typing' });
  await until(async () => JSON.stringify(await highlighted(ann.page)) === '["brown"]', { what: 'Ann\'s highlight on brown after her typing' });
});

await step('Bob comments with Ctrl+Alt+M and resolves his own thread; clicking a highlight focuses its thread', async () => {
  await bob.page.evaluate(() => {
    const q = window.__quire.quill;
    q.setSelection(q.getText().indexOf('lazy'), 4, 'user');
  });
  await bob.page.keyboard.press('Control+Alt+KeyM');
  await bob.page.getByRole('textbox', { name: 'Comment', exact: true }).fill('Lazy? Sleepy.');
  await bob.page.keyboard.press('Control+Enter');
  await until(async () => (await cardTexts(ann.page)).some((t) => t.includes('Lazy? Sleepy.')), { what: 'Bob\'s thread on Ann\'s page' });
  await until(async () => JSON.stringify((await highlighted(ann.page)).sort()) === '["brown","lazy"]', { what: 'both highlights on Ann\'s page' });
  // Clicking on "brown" in Ann's text makes its thread the active one.
  const box = await ann.page.evaluate(() => {
    const q = window.__quire.quill;
    const b = q.getBounds(q.getText().indexOf('brown') + 2, 1);
    const r = q.container.getBoundingClientRect();
    return { x: r.left + b.left + 1, y: r.top + b.top + b.height / 2 };
  });
  await ann.page.mouse.click(box.x, box.y);
  await until(async () => (await ann.page.locator('.qe-thread-active').textContent().catch(() => '')).includes('Is brown the right colour?'), { what: 'brown\'s thread active' });
  const lazyCard = cards(bob.page).filter({ hasText: 'Lazy? Sleepy.' });
  await lazyCard.getByRole('button', { name: 'Resolve' }).click();
  await until(async () => (await cardTexts(ann.page)).every((t) => !t.includes('Lazy? Sleepy.')) || (await ann.page.locator('.qe-thread-resolved', { hasText: 'Lazy?' }).count()) === 1, { what: 'Bob\'s thread resolved on Ann\'s page' });
});

await step('a viewer reads the threads with no reply box and no Comment button', async () => {
  await vic.page.goto(docUrl);
  await loaded(vic.page);
  await until(async () => (await cardTexts(vic.page)).some((t) => t.includes('Yes, keep it.')), { what: 'threads on the viewer\'s page' });
  check(await vic.page.getByRole('textbox', { name: 'Reply' }).count() === 0 || !(await vic.page.getByRole('textbox', { name: 'Reply' }).first().isVisible()), 'a reply box for a viewer');
  check(!(await vic.page.locator('.ql-toolbar .qe-comment-btn').isVisible()), 'a Comment button for a viewer');
  check(await vic.page.getByRole('button', { name: 'Resolve' }).count() === 0, 'Resolve for a viewer');
});

await step('the toggle hides and shows the panel with the count of open threads', async () => {
  const toggle = ann.page.locator('.qe-comments-toggle');
  check((await toggle.textContent()).startsWith('Comments1'), `toggle: ${await toggle.textContent()}`);
  await toggle.click();
  await until(() => ann.page.locator('aside.qe-comments').isHidden(), { what: 'panel hidden' });
  await until(async () => JSON.stringify(await highlighted(ann.page)) === '["brown"]', { what: 'highlights kept while the panel is closed' });
  await toggle.click();
  await until(() => ann.page.locator('aside.qe-comments').isVisible(), { what: 'panel shown' });
});

await step('Bob edits his own message and deletes it: Ann sees "(edited)", then "Message deleted"', async () => {
  const card = cards(bob.page).filter({ hasText: 'Is brown the right colour?' });
  await card.getByRole('textbox', { name: 'Reply' }).fill('Teh typo');
  await card.getByRole('button', { name: 'Reply' }).click();
  const mine = card.locator('.qe-msg', { hasText: 'Teh typo' });
  await until(() => mine.count(), { what: 'Bob\'s second reply' });
  check(await card.locator('.qe-msg', { hasText: 'Is brown the right colour?' }).getByRole('button', { name: 'Edit your message' }).count() === 0, 'Edit offered on Ann\'s message');
  await mine.getByRole('button', { name: 'Edit your message' }).click();
  const box = card.getByRole('textbox', { name: 'Edit your message' });
  await box.fill('The typo');
  await card.getByRole('button', { name: 'Save' }).click();
  const annCard = cards(ann.page).filter({ hasText: 'Is brown the right colour?' });
  await until(async () => /The typo\s*$/.test(await annCard.locator('.qe-msg').last().textContent()) && (await annCard.locator('.qe-msg').last().textContent()).includes('(edited)'), { what: 'the edit on Ann\'s page' });
  bob.page.once('dialog', (d) => d.accept());
  await card.locator('.qe-msg', { hasText: 'The typo' }).getByRole('button', { name: 'Delete your message' }).click();
  await until(async () => (await annCard.locator('.qe-msg').last().textContent()).includes('Message deleted'), { what: 'the deletion on Ann\'s page' });
});

await step('a refusal of a comment message (an error with its ref) is a toast, and the text stays editable', async () => {
  await ann.page.evaluate(() => window.__quire.comments.state.reply('no-such-thread', 'Hello?'));
  await until(async () => (await toastTexts(ann.page)).includes('That comment no longer exists.'), { what: 'the toast' });
  check(!(await ann.page.evaluate(() => window.__quire.sync.readOnly)), 'the text became read-only');
});

await step('a link to a thread (#comment-ID) opens the panel at it, resolved too, and marks the notifications read', async () => {
  const id = await ann.page.evaluate(() => window.__quire.comments.state.list({ resolved: true }).find((t) => t.quote === 'lazy')?.id);
  check(id, 'no thread on "lazy"');
  const page = await ann.ctx.newPage();
  watchErrors(page, 'Ann linked', errors);
  const read = page.waitForRequest((r) => r.url().endsWith('/api/notifications/read') && r.method() === 'POST');
  await page.goto(`${docUrl}#comment-${id}`);
  check(JSON.stringify((await read).postDataJSON()) === JSON.stringify({ doc: doc.id }), 'read request body');
  await until(() => page.evaluate((tid) => document.activeElement?.dataset?.thread === tid, id), { what: 'the linked thread focused' });
  check(await page.getByLabel('Show resolved').isChecked(), 'a linked resolved thread needs "Show resolved"');
  await page.close();
});

await step('mentions: @ completes the document\'s people and the mentioned person sees "mentions you"', async () => {
  const card = cards(bob.page).filter({ hasText: 'Is brown the right colour?' });
  const reply = card.getByRole('textbox', { name: 'Reply' });
  await reply.click();
  await bob.page.keyboard.type('Agreed @An');
  const option = bob.page.getByRole('option', { name: 'Ann Editor' });
  await until(() => option.isVisible(), { what: 'Ann offered' });
  await bob.page.keyboard.press('Enter');
  check((await reply.inputValue()) === 'Agreed @Ann Editor ', `box: ${await reply.inputValue()}`);
  await card.getByRole('button', { name: 'Reply' }).click();
  const annCard = cards(ann.page).filter({ hasText: 'Agreed @Ann Editor' });
  await until(async () => (await annCard.count()) === 1 && (await annCard.textContent()).includes('mentions you'), { what: '"mentions you" on Ann\'s page' });
});

await step('the mention reaches Ann: the bell on her dashboard counts it, the page lists it, its link opens the thread and reads it', async () => {
  const page = await ann.ctx.newPage();
  watchErrors(page, 'Ann notifications', errors);
  await page.goto(`${base}/`);
  const bell = page.locator('#notifications-link');
  check((await bell.getAttribute('aria-label')) === 'Notifications, 1 unread', `bell: ${await bell.getAttribute('aria-label')}`);
  await bell.click();
  await page.waitForURL(`${base}/notifications`);
  const item = page.locator('#notifications li.notification.unread');
  check((await item.count()) === 1, `${await item.count()} unread notifications listed`);
  const text = await item.textContent();
  check(text.includes('Bob Commenter mentioned you in Fox notes') && text.includes('Agreed @Ann Editor'), `listed: ${text}`);
  await shot(page, 'notifications');
  await item.locator('a').click();
  await until(() => page.evaluate(() => document.activeElement?.closest?.('.qe-thread')?.textContent.includes('Agreed @Ann Editor')), { what: 'the mentioned thread focused' });
  await until(async () => {
    const html = await (await ann.ctx.request.get(`${base}/notifications`)).text();
    return !html.includes('class="notification unread"');
  }, { what: 'the notification read' });
  await page.close();
});

await step('phone width: the panel below the text', async () => {
  const page = await bob.ctx.newPage();
  watchErrors(page, 'Bob phone', errors);
  await page.setViewportSize(PHONE);
  await page.goto(docUrl);
  await loaded(page);
  await until(async () => (await cardTexts(page)).length === 1, { what: 'thread on the phone' });
  await shot(page, 'comments-phone');
  const [editor, panel] = await page.evaluate(() => [document.querySelector('.qe-editor'), document.querySelector('.qe-comments')]
    .map((el) => el.getBoundingClientRect().toJSON()));
  check(panel.top >= editor.bottom - 1, `panel not below the text: ${JSON.stringify({ editor, panel })}`);
  check(panel.width > 300 && panel.right <= PHONE.width + 1, `panel width ${panel.width}`);
  // The window scrolled to the panel (a full-page shot would draw the sticky status bar over it).
  await page.locator('aside.qe-comments').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: path.join(SHOTS, 'comments-phone.png') });
});

await step('Ann deletes the commented word: the thread stays, orphaned, with its quote, and nothing is highlighted', async () => {
  await ann.page.evaluate(() => {
    const q = window.__quire.quill;
    q.setSelection(q.getText().indexOf('brown'), 5, 'user');
  });
  await ann.page.keyboard.press('Backspace');
  const card = cards(bob.page).filter({ hasText: 'Is brown the right colour?' });
  await until(async () => (await card.textContent()).includes('The text this comment was on was deleted.'), { what: 'orphaned on Bob\'s page' });
  check((await card.locator('.qe-thread-quote').textContent()) === 'brown', 'quote kept');
  await until(async () => (await highlighted(bob.page)).length === 0, { what: 'no highlight of an orphaned thread' });
});

await step('no page errors', async () => {
  check(errors.length === 0, errors.join('\n'));
});

await browser.close();
await server?.close();
process.exit(report());
