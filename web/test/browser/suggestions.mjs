#!/usr/bin/env node
// Suggestion mode end to end (issue 14), in Chromium against a server of its
// own (QUIRE_BIN, as account-admin.mjs): editors Ann and Bo and commenter Cy
// on one document. Bo turns on "Suggesting", types a word and deletes
// another (and undoes one more): Ann sees the insertion underlined and the deletion struck
// through, in Bo's colour, with his name on hover; she opens the card of
// each, accepts the insertion and rejects the deletion, and both pages (and
// the server) hold the same plain text. Cy, a commenter, has a read-only
// editor until he turns on Suggesting; then his typing is a suggestion Ann
// sees, and "Accept all suggestions" in the document menu makes it text.
// No page errors.
//
//   QUIRE_BIN=../target/debug/quire node test/browser/suggestions.mjs
// Screenshots: target/e2e/suggestion-mode.png (Ann's page, the card open), suggestion-mode-suggesting.png (Bo's). Prints "N passed, M failed"; exit 1 on failure.

import { launch, until, contents, newTestContext, dependentSteps, watchErrors, shot, startServer } from './lib.mjs';
import { realServer } from './targets.mjs';

const server = await startServer();
const browser = await launch();
const target = await realServer(server.url);
const errors = [];
const { step, report } = dependentSteps();

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

async function person(name, role) {
  const ctx = await newTestContext(browser, { viewport: { width: 1100, height: 760 } });
  await target.login(ctx, name, role);
  const page = await ctx.newPage();
  watchErrors(page, name, errors);
  return { ctx, page, name };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null && window.__quire.sync.loaded),
  { what: 'editor loaded' });
const synced = (page) => until(() => page.evaluate(() => window.__quire.client.isSynchronized && !window.__quire.sync.hasUnsaved),
  { what: 'synchronized' });
const plain = (ops) => ops.map((op) => op.insert).join('');
const marks = (ops) => ops.filter((op) => op.attributes?.['suggest-insert'] || op.attributes?.['suggest-delete'])
  .map((op) => `${op.attributes['suggest-insert'] ? '+' : '-'}${op.insert}`);
const toggle = (page) => page.locator('.qe-suggest-toggle');

// The document is created by an owner who never opens it, so both people who review are editors.
await target.login(await browser.newContext(), 'Olive Owner', 'owner');
const ann = await person('Ann Editor', 'editor');
const bo = await person('Bo Editor', 'editor');
const cy = await person('Cy Commenter', 'commenter');

await step('Ann and Bo open the document; Ann writes a sentence', async () => {
  await ann.page.goto(target.docUrl());
  await bo.page.goto(target.docUrl());
  await loaded(ann.page);
  await loaded(bo.page);
  await ann.page.click('.ql-editor');
  await ann.page.keyboard.type('The quick fox jumps over the dog.');
  await synced(ann.page);
  await until(async () => plain(await contents(bo.page)) === 'The quick fox jumps over the dog.\n', { what: 'Bo sees the text' });
  assert(await toggle(ann.page).isVisible(), 'an editor has no Suggesting toggle');
  assert((await toggle(bo.page).getAttribute('aria-pressed')) === 'false', 'Suggesting is on from the start');
});

await step('Bo turns on Suggesting, types "brown " and deletes "jumps": they stay, marked as his', async () => {
  await toggle(bo.page).click();
  assert((await toggle(bo.page).getAttribute('aria-pressed')) === 'true', 'the toggle is not pressed');
  await bo.page.evaluate(() => window.__quire.quill.setSelection(10, 0, 'user'));
  await bo.page.keyboard.type('brown ');
  await bo.page.evaluate(() => window.__quire.quill.setSelection(20, 5, 'user'));
  await bo.page.keyboard.press('Backspace');
  await synced(bo.page);
  const mine = await contents(bo.page);
  assert(plain(mine) === 'The quick brown fox jumps over the dog.\n', `Bo's text: ${plain(mine)}`);
  assert(JSON.stringify(marks(mine)) === JSON.stringify(['+brown ', '-jumps']), `Bo's marks: ${JSON.stringify(mine)}`);
  await shot(bo.page, 'suggestion-mode-suggesting');
});

await step('Bo\'s undo takes back his own suggestion (Ctrl+Z after deleting "dog")', async () => {
  const before = await contents(bo.page);
  await bo.page.evaluate(() => window.__quire.quill.history.cutoff());
  await bo.page.evaluate(() => window.__quire.quill.setSelection(35, 3, 'user'));
  await bo.page.keyboard.press('Backspace');
  await until(async () => marks(await contents(bo.page)).includes('-dog'), { what: '"dog" struck through' });
  await bo.page.keyboard.press('Control+z');
  await until(async () => JSON.stringify(await contents(bo.page)) === JSON.stringify(before), { what: 'the deletion of "dog" undone' });
  await synced(bo.page);
});

await step('Ann sees the suggestion: underlined and struck through in Bo\'s colour, his name on hover', async () => {
  await until(async () => JSON.stringify(marks(await contents(ann.page))) === JSON.stringify(['+brown ', '-jumps']),
    { what: 'the suggestion on Ann\'s page' });
  const look = await ann.page.evaluate(() => {
    const ins = document.querySelector('.ql-editor .qe-suggest-ins');
    const del = document.querySelector('.ql-editor .qe-suggest-del');
    const s = (el) => getComputedStyle(el);
    return {
      ins: { text: ins.textContent, line: s(ins).textDecorationLine, color: s(ins).color },
      del: { text: del.textContent, line: s(del).textDecorationLine, color: s(del).color },
      plainColor: s(document.querySelector('.ql-editor p')).color,
    };
  });
  assert(look.ins.text === 'brown ' && look.ins.line.includes('underline'), `insertion: ${JSON.stringify(look.ins)}`);
  assert(look.del.text === 'jumps' && look.del.line.includes('line-through'), `deletion: ${JSON.stringify(look.del)}`);
  assert(look.ins.color === look.del.color && look.ins.color !== look.plainColor, `colours: ${JSON.stringify(look)}`);
  await until(() => ann.page.evaluate(() => !!document.querySelector('style[data-quire="suggestion-colours"]')?.textContent),
    { what: 'the author colour rule' });
  await ann.page.hover('.ql-editor .qe-suggest-ins');
  const title = await ann.page.getAttribute('.ql-editor .qe-suggest-ins', 'title');
  assert(title === 'Insertion suggested by Bo Editor', `hover: ${title}`);
});

await step('Ann opens the insertion\'s card (author, Accept, Reject) and accepts it', async () => {
  await ann.page.click('.ql-editor .qe-suggest-ins');
  const card = ann.page.locator('.qe-suggest-card');
  await until(() => card.isVisible(), { what: 'the card' });
  const text = await card.textContent();
  assert(text.includes('Bo Editor') && text.includes('brown'), `card: ${text}`);
  await shot(ann.page, 'suggestion-mode');
  await card.getByRole('button', { name: 'Accept' }).click();
  await until(async () => JSON.stringify(marks(await contents(ann.page))) === JSON.stringify(['-jumps']),
    { what: 'the insertion accepted' });
});

await step('Ann rejects the deletion; both pages and the server hold the same plain text', async () => {
  await ann.page.click('.ql-editor .qe-suggest-del');
  await ann.page.locator('.qe-suggest-card').getByRole('button', { name: 'Reject' }).click();
  await synced(ann.page);
  const expected = 'The quick brown fox jumps over the dog.\n';
  for (const p of [ann, bo]) {
    await until(async () => {
      const ops = await contents(p.page);
      return plain(ops) === expected && marks(ops).length === 0;
    }, { what: `${p.name} sees the plain text` });
  }
  const served = await target.content(ann.ctx);
  assert(JSON.stringify(served.ops) === JSON.stringify(await contents(bo.page)), `server: ${JSON.stringify(served)}`);
  assert(!(await ann.page.locator('.ql-editor .qe-suggest-ins, .ql-editor .qe-suggest-del').count()), 'marks left on the page');
});

await step('Cy, a commenter, can only suggest: read-only until Suggesting is on, then his typing is a suggestion', async () => {
  await cy.page.goto(target.docUrl());
  await loaded(cy.page);
  assert(!(await cy.page.evaluate(() => window.__quire.quill.isEnabled())), 'a commenter\'s editor is editable');
  await toggle(cy.page).click();
  await until(() => cy.page.evaluate(() => window.__quire.quill.isEnabled()), { what: 'Cy\'s editor editable' });
  const status = await cy.page.locator('.qe-status').textContent();
  assert(!status.includes('Read-only'), `Cy's status while suggesting: ${status}`);
  await cy.page.evaluate(() => window.__quire.quill.setSelection(4, 0, 'user'));
  await cy.page.keyboard.type('very ');
  await synced(cy.page);
  await until(async () => JSON.stringify(marks(await contents(ann.page))) === JSON.stringify(['+very ']),
    { what: 'Cy\'s suggestion on Ann\'s page' });
  const by = await ann.page.evaluate(() => document.querySelector('.ql-editor .qe-suggest-ins').dataset.suggestBy);
  const cyId = await cy.page.evaluate(() => document.getElementById('quire-editor').dataset.userId);
  assert(by === cyId, `marked by ${by}, Cy is ${cyId}`);
  // Cy's card has no Accept or Reject.
  await cy.page.click('.ql-editor .qe-suggest-ins');
  await until(() => cy.page.locator('.qe-suggest-card').isVisible(), { what: 'Cy\'s card' });
  assert(!(await cy.page.locator('.qe-suggest-card button').count()), 'a commenter can accept');
});

await step('"Accept all suggestions" in Ann\'s document menu makes it text for everyone', async () => {
  await ann.page.click('.qe-menu-btn');
  await ann.page.click('[data-action="accept-all"]');
  const expected = 'The very quick brown fox jumps over the dog.\n';
  for (const p of [ann, bo, cy]) {
    await until(async () => {
      const ops = await contents(p.page);
      return plain(ops) === expected && marks(ops).length === 0;
    }, { what: `${p.name} sees the accepted text` });
  }
  await cy.page.click('.qe-menu-btn');
  assert(!(await cy.page.locator('[data-action="accept-all"]').isVisible()), 'a commenter is offered Accept all');
});

await step('no page errors', async () => {
  assert(errors.length === 0, errors.join('\n'));
});

await browser.close();
await server.close();
process.exit(report());
