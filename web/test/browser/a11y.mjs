#!/usr/bin/env node
// An automated accessibility audit (axe-core) of the pages people use, against the REAL binary (QUIRE_URL),
// issue 19 item 5: the log-in and sign-up pages, the dashboard with documents, the editor with text in it
// (and with the heading picker, the link box, the ⋯ menu, the list of people, the find and replace bar and
// the keyboard shortcuts open), the editor with the
// Share dialog open, and the history page with a named version and its changes; the dashboard, the editor,
// the Share dialog and history again at 390 px. A violation whose impact is "serious" or "critical" fails its
// check and is printed with its rule, help text and the selectors of the nodes; lesser ones are printed as
// notes. No rule is turned off and no node left out.
// Then the toolbar: every control has a tooltip and a name a person would say (not Quill's "list: bullet").
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/a11y.mjs
// The editor is the tests' build of web/src (lib.mjs: newTestContext). Screenshots: target/e2e/a11y-*.png.
// Each check stands alone (a failure does not skip the others). Prints "N passed, M failed"; exit 1 on failure.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { launch, shot, until, newTestContext } from './lib.mjs';
import { checks, person as signedUp, serverUrl } from './pages-lib.mjs';

const base = serverUrl('a11y');
const { check, finish } = checks();

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const FAILING_IMPACTS = new Set(['serious', 'critical']);
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

// The page's Content-Security-Policy refuses inline scripts (script-src 'self'), so axe is not added as a
// <script>: evaluating its source through the DevTools protocol is not subject to the page's CSP, and the
// policy under test stays the one people get.
async function runAxe(page) {
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const found = await window.axe.run(document, { resultTypes: ['violations'] });
    return found.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

function describe(violation) {
  const targets = violation.targets.slice(0, 8).map((t) => `      ${t}`).join('\n');
  const more = violation.targets.length > 8 ? `\n      … and ${violation.targets.length - 8} more` : '';
  return `  [${violation.impact}] ${violation.id}: ${violation.help}\n${targets}${more}`;
}

async function audit(page, what) {
  await shot(page, `a11y-${what.replace(/\W+/g, '-')}`);
  const violations = await runAxe(page);
  const failing = violations.filter((v) => FAILING_IMPACTS.has(v.impact));
  for (const v of violations.filter((x) => !FAILING_IMPACTS.has(x.impact))) {
    console.log(`# note (${what}):\n${describe(v)}`);
  }
  if (failing.length) throw new Error(`${what}: ${failing.length} serious or critical violations\n${failing.map(describe).join('\n')}`);
}

// ---- setup ------------------------------------------------------------------

const browser = await launch();

// api(...) answers the response's JSON, and throws on an error status.
async function person(name) {
  const who = await signedUp(browser, base, name, DESKTOP, { newContext: newTestContext });
  const api = async (method, url, data, headers = {}) => {
    const r = await who.api(method, url, data, headers);
    if (!r.ok()) throw new Error(`${method} ${url}: ${r.status()} ${await r.text()}`);
    return r.json();
  };
  return { ...who, api };
}

const ann = await person('Ann Lee');
const markdown = '# Trip plan\n\nDay one: the **coast**, with `sunscreen`.\n\n- tent\n- stove\n\n> Pack light.\n';
const { id: docId } = await ann.api('POST', '/api/docs/import?title=Trip%20plan', markdown, {
  'Content-Type': 'text/markdown; charset=utf-8',
});
await ann.api('POST', `/api/docs/${docId}/versions`, { name: 'First draft' });
await ann.api('POST', '/api/docs/import?title=Packing%20list', 'Socks.\n', { 'Content-Type': 'text/markdown; charset=utf-8' });

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: 'editor loaded' });

async function openEditor(page) {
  await page.goto(`${base}/d/${docId}`);
  await loaded(page);
  await until(() => page.evaluate(() => document.querySelector('.ql-editor')?.textContent.includes('Day one')), { what: 'the text shown' });
}

// ---- the audits -------------------------------------------------------------

await check('log-in page', async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await audit(page, 'login');
  await page.setViewportSize(PHONE);
  await audit(page, 'login-390');
  await ctx.close();
});

await check('sign-up page', async () => {
  const ctx = await browser.newContext({ viewport: DESKTOP });
  const page = await ctx.newPage();
  await page.goto(`${base}/signup`);
  await audit(page, 'signup');
  await ctx.close();
});

await check('dashboard with documents, 1280 and 390 px', async () => {
  await ann.page.setViewportSize(DESKTOP);
  await ann.page.goto(`${base}/`);
  await audit(ann.page, 'dashboard');
  await ann.page.setViewportSize(PHONE);
  await ann.page.goto(`${base}/`);
  await audit(ann.page, 'dashboard-390');
});

await check('editor with text, 1280 and 390 px', async () => {
  await ann.page.setViewportSize(DESKTOP);
  await openEditor(ann.page);
  await ann.page.click('.ql-editor h1');
  await ann.page.keyboard.press('End');
  await ann.page.keyboard.type(' 2027');
  await audit(ann.page, 'editor');
  await ann.page.setViewportSize(PHONE);
  await audit(ann.page, 'editor-390');
  await ann.page.setViewportSize(DESKTOP);
});

await check('editor with the heading picker open, and with the link box open', async () => {
  await openEditor(ann.page);
  await ann.page.click('.ql-editor p');
  await ann.page.click('.ql-toolbar .ql-header .ql-picker-label');
  await until(() => ann.page.isVisible('.ql-toolbar .ql-header .ql-picker-options'), { what: 'the heading choices shown' });
  await audit(ann.page, 'editor-heading-picker');
  await ann.page.keyboard.press('Escape');
  await ann.page.click('.ql-editor p');
  await ann.page.keyboard.press('Home');
  await ann.page.keyboard.press('Shift+End');
  await ann.page.click('.ql-toolbar button.ql-link');
  await until(() => ann.page.isVisible('.qe-link-pop .qe-link-input'), { what: 'the link editor' });
  await audit(ann.page, 'editor-link-box');
  await ann.page.keyboard.press('Escape');
});

await check('editor with the find and replace bar open, and with the keyboard shortcuts open (issue 16)', async () => {
  await openEditor(ann.page);
  await ann.page.click('.ql-editor p');
  await ann.page.keyboard.press('Control+h');
  await until(() => ann.page.isVisible('.qe-replace-row'), { what: 'the find and replace bar' });
  await ann.page.keyboard.type('Day');
  await audit(ann.page, 'editor-find');
  await ann.page.keyboard.press('Escape');
  await ann.page.keyboard.press('Control+/');
  await until(() => ann.page.isVisible('.qe-keys-dialog'), { what: 'the keyboard shortcuts' });
  await audit(ann.page, 'editor-shortcuts');
  await ann.page.keyboard.press('Escape');
});

await check('editor with the ⋯ menu open, and with the list of people open', async () => {
  await openEditor(ann.page);
  await ann.page.click('.qe-menu-btn');
  await until(() => ann.page.isVisible('.qe-menu'), { what: 'the menu open' });
  await audit(ann.page, 'editor-menu');
  await ann.page.keyboard.press('Escape');
  await ann.page.click('.qe-presence-btn');
  await until(() => ann.page.isVisible('.qe-people-pop'), { what: 'the people listed' });
  await audit(ann.page, 'editor-people');
  await ann.page.keyboard.press('Escape');
});

await check('editor with the Share dialog open, 1280 and 390 px', async () => {
  for (const [viewport, what] of [[DESKTOP, 'share-dialog'], [PHONE, 'share-dialog-390']]) {
    await ann.page.setViewportSize(viewport);
    await openEditor(ann.page);
    await ann.page.click('.qe-share');
    await until(() => ann.page.evaluate(() => document.querySelector('dialog.qe-share-dialog')?.open), { what: 'share dialog open' });
    await until(() => ann.page.locator('dialog.qe-share-dialog li.qe-person').count(), { what: 'people listed' });
    await audit(ann.page, what);
    await ann.page.keyboard.press('Escape');
  }
  await ann.page.setViewportSize(DESKTOP);
});

await check('history page with a version, and its changes; 390 px too', async () => {
  await ann.page.goto(`${base}/d/${docId}/history`);
  await until(() => ann.page.locator('.versions li').count(), { what: 'a version listed' });
  await audit(ann.page, 'history');
  await ann.page.click('#show-changes');
  await audit(ann.page, 'history-changes');
  await ann.page.setViewportSize(PHONE);
  await audit(ann.page, 'history-changes-390');
  await ann.page.setViewportSize(DESKTOP);
});

await check('editor with a table (imported from Markdown) and its row and column buttons showing', async () => {
  const { id } = await ann.api('POST', '/api/docs/import?title=Budget', '| Item | Cost |\n|---|---|\n| Tent | **120** |\n', {
    'Content-Type': 'text/markdown; charset=utf-8',
  });
  await ann.page.goto(`${base}/d/${id}`);
  await loaded(ann.page);
  await ann.page.click('.ql-editor td');
  await until(() => ann.page.evaluate(() => document.querySelector('.qe-table-tools')?.hidden === false), { what: 'the table buttons' });
  await audit(ann.page, 'editor-table');
});

// ---- the toolbar: tooltips and spoken names ---------------------------------------

await check('editor with the comments panel: a thread with a reply, and a new comment being written (issue 14)', async () => {
  await openEditor(ann.page);
  await ann.page.click('.ql-editor p');
  await ann.page.keyboard.press('Home');
  await ann.page.keyboard.press('Shift+End');
  await ann.page.keyboard.press('Control+Alt+KeyM');
  await ann.page.getByRole('textbox', { name: 'Comment', exact: true }).fill('Which coast?');
  await ann.page.keyboard.press('Control+Enter');
  const thread = ann.page.locator('.qe-comments .qe-thread:not(.qe-composer)');
  await until(async () => (await thread.count()) === 1, { what: 'the thread shown' });
  await thread.getByRole('textbox', { name: 'Reply' }).fill('The north one.');
  await thread.getByRole('button', { name: 'Reply' }).click();
  await until(async () => (await thread.textContent()).includes('The north one.'), { what: 'the reply shown' });
  await ann.page.click('.ql-editor h1');
  await ann.page.keyboard.press('Home');
  await ann.page.keyboard.press('Shift+End');
  await ann.page.keyboard.press('Control+Alt+KeyM');
  await audit(ann.page, 'editor-comments');
  await ann.page.setViewportSize(PHONE);
  await audit(ann.page, 'editor-comments-390');
  await ann.page.setViewportSize(DESKTOP);
  await ann.page.getByRole('button', { name: 'Cancel' }).click();
});

await check('every toolbar control has a tooltip and a human name; the two code controls differ', async () => {
  await openEditor(ann.page);
  const controls = await ann.page.evaluate(() => [...document.querySelectorAll('.ql-toolbar button, .ql-toolbar .ql-picker-label')]
    .map((el) => ({ cls: el.className, title: el.title, label: el.getAttribute('aria-label') ?? '', icon: el.querySelector('svg')?.outerHTML ?? '' })));
  if (controls.length < 10) throw new Error(`only ${controls.length} controls`);
  for (const c of controls) {
    if (!c.title) throw new Error(`${c.cls} has no tooltip`);
    // Quill's own names are its format names: "list: bullet", "clean".
    if (!c.label || /^[a-z]/.test(c.label)) throw new Error(`${c.cls} is read out as "${c.label}"`);
  }
  const bold = controls.find((c) => c.cls.includes('ql-bold'));
  if (!/^Bold \((Ctrl\+|⌘)B\)$/.test(bold?.title ?? '')) throw new Error(`bold's tooltip: ${bold?.title}`);
  const icon = (cls) => controls.find((c) => c.cls.split(' ').includes(cls))?.icon;
  if (!icon('ql-code') || icon('ql-code') === icon('ql-code-block')) throw new Error('inline code and code block share one icon');
  // The heading picker names what it shows, and follows the caret into a heading.
  const picker = () => ann.page.evaluate(() => {
    const label = document.querySelector('.ql-toolbar .ql-header .ql-picker-label');
    return { role: label.getAttribute('role'), name: label.getAttribute('aria-label') };
  });
  await ann.page.click('.ql-editor p');
  const inParagraph = await picker();
  if (inParagraph.role !== 'button' || inParagraph.name !== 'Text style: Normal text') throw new Error(`heading picker: ${JSON.stringify(inParagraph)}`);
  await ann.page.click('.ql-editor h1');
  await until(async () => (await picker()).name === 'Text style: Heading 1', { what: 'the picker named "Heading 1" in the heading' });
});

await browser.close();
finish();
