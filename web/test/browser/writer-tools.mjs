#!/usr/bin/env node
// End to end against the REAL binary (QUIRE_URL), issue 16's writer tools,
// in Chromium, with two people in one document:
//   find: Ctrl+F opens the find bar, "cat" counts 4 ("1 of 4"), Enter and
//     Shift+Enter move, Match case counts 3, the matches are painted (CSS
//     highlights) and the document is not changed by it;
//   replace: Ctrl+H, Replace all is one op (the revision moves by one) and
//     both people see every match replaced, the bold one still bold; Escape
//     goes back to the text, one Ctrl+Z brings every original back for both;
//     the count follows the other person's typing; Replace changes the
//     current match only and is undone alone;
//   outline: the other person adds a heading ("## " + text) and it appears in
//     A's outline, indented; a click puts A's caret at its start; hidden or
//     shown, it stays so after a reload;
//   word count: the document's and the selection's ("1 of N words");
//   shortcuts help: Ctrl+/ opens a labelled dialog listing the toolbar,
//     Markdown and find keys; Escape closes it and focus goes back;
//   print: the ⋯ menu's Print calls window.print(); in print media the
//     toolbar, status bar, outline and find bar are not shown; a PDF is made;
//   a viewer gets find but no replace; at phone width the outline starts
//     hidden and, shown, lies over the text without narrowing it.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/writer-tools.mjs
// Screenshots: target/e2e/writer-tools-*.png and writer-tools-print.pdf
// (QUIRE_E2E_DIR). Prints "N passed, M failed"; exit 1 on failure.

import fs from 'node:fs';
import path from 'node:path';
import { shot, until, contents, text, SHOTS } from './lib.mjs';
import { realRun, assert, loaded, synced } from './real-run.mjs';
import { stableJSON } from '../lib/same.js';

const run = await realRun('writer-tools');
const { base, step, errors } = run;
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const signUp = (who, viewport = DESKTOP) => run.signUp(who, viewport);
const rev = (page) => page.evaluate(() => window.__quire.client.rev);
const findCount = (page) => page.locator('.qe-find-count').textContent();
const painted = (page) => page.evaluate(() => ({
  all: CSS.highlights.get('qe-find')?.size ?? 0,
  current: CSS.highlights.get('qe-find-current')?.size ?? 0,
  currentText: [...(CSS.highlights.get('qe-find-current') ?? [])].map((r) => r.toString()).join(''),
}));
const inEditor = (page) => page.evaluate(() => !!document.activeElement?.closest('.ql-editor'));
const visible = (page, sel) => page.evaluate((s) => {
  const el = document.querySelector(s);
  return !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
}, sel);
const outlineItems = (page) => page.evaluate(() => [...document.querySelectorAll('.qe-outline-item')]
  .map((li) => ({ text: li.textContent, level: li.className.match(/qe-outline-l(\d)/)?.[1], indent: parseFloat(getComputedStyle(li.querySelector('button')).paddingLeft) })));
// Words as the test counts them, independently of the page: runs of non-space.
const words = (s) => s.split(/\s+/).filter(Boolean).length;

const ORIGINAL = [
  { insert: 'Notes on cats' },
  { insert: '\n', attributes: { header: 1 } },
  { insert: 'The cat sat on the mat. A Cat ran past the ' },
  { insert: 'cat', attributes: { bold: true } },
  { insert: 'alogues.\n' },
];

const A = await signUp('Wren Writer');
const B = await signUp('Bo Bystander');
const doc = await (await A.ctx.request.post(`${base}/api/docs`, { data: { title: 'Writer tools' }, headers: { 'X-CSRF-Token': A.csrf } })).json();
const docUrl = `${base}/d/${doc.id}`;
const shareAs = async (who, role) => {
  const res = await A.ctx.request.put(`${base}/api/docs/${doc.id}/members/${encodeURIComponent(who.email)}`, { data: { role }, headers: { 'X-CSRF-Token': A.csrf } });
  assert(res.ok(), `share ${res.status()}: ${await res.text()}`);
};

await step('two people open one document with a heading, a bold word and "cat" four times (the empty outline says so first)', async () => {
  await shareAs(B, 'editor');
  await A.page.goto(docUrl);
  await loaded(A.page);
  assert(await visible(A.page, '.qe-outline-empty'), 'no empty outline text');
  assert((await A.page.locator('.qe-outline-empty').textContent()) === 'Headings you add appear here', 'the empty outline\'s text');
  await A.page.evaluate((ops) => window.__quire.quill.setContents(ops, 'user'), ORIGINAL);
  await until(async () => !(await visible(A.page, '.qe-outline-empty')), { what: 'the empty text gone' });
  await synced(A.page);
  await B.page.goto(docUrl);
  await loaded(B.page);
  await until(async () => (await text(B.page)).startsWith('Notes on cats'), { what: 'the text on B' });
});

await step('Ctrl+F: the find bar counts "cat" (4), Enter and Shift+Enter move, Match case counts 3, matches painted', async () => {
  const revBefore = await rev(A.page);
  await A.page.evaluate(() => window.__quire.quill.setSelection(0, 0, 'user'));
  await A.page.keyboard.press('Control+f');
  await until(() => visible(A.page, '.qe-find'), { what: 'the find bar' });
  assert(await A.page.evaluate(() => document.activeElement?.classList.contains('qe-find-input')), 'focus is not in Find');
  assert(!(await visible(A.page, '.qe-replace-row')), 'Ctrl+F shows the replace row');
  await A.page.keyboard.type('cat');
  await until(async () => (await findCount(A.page)) === '1 of 4', { what: '"1 of 4"' });
  let p = await painted(A.page);
  assert(p.all === 3 && p.current === 1 && p.currentText === 'cat', `painted ${JSON.stringify(p)}`);
  await A.page.keyboard.press('Enter');
  assert((await findCount(A.page)) === '2 of 4', `after Enter: ${await findCount(A.page)}`);
  await A.page.keyboard.press('Enter');
  p = await painted(A.page);
  assert((await findCount(A.page)) === '3 of 4' && p.currentText === 'Cat', `third: ${await findCount(A.page)} ${JSON.stringify(p)}`);
  await A.page.keyboard.press('Shift+Enter');
  assert((await findCount(A.page)) === '2 of 4', `after Shift+Enter: ${await findCount(A.page)}`);
  await A.page.check('.qe-find-case');
  await until(async () => / of 3$/.test(await findCount(A.page)), { what: 'Match case: 3' });
  await A.page.uncheck('.qe-find-case');
  await until(async () => / of 4$/.test(await findCount(A.page)), { what: 'back to 4' });
  await shot(A.page, 'writer-tools-find');
  // Painting is not editing: nothing was sent, the document is as it was.
  assert(stableJSON(await contents(A.page)) === stableJSON(ORIGINAL), `the document changed: ${JSON.stringify(await contents(A.page))}`);
  assert((await rev(A.page)) === revBefore && (await A.page.evaluate(() => !window.__quire.sync.hasUnsaved)), 'finding sent an op');
});

const REPLACED = [
  { insert: 'Notes on dogs' },
  { insert: '\n', attributes: { header: 1 } },
  { insert: 'The dog sat on the mat. A dog ran past the ' },
  { insert: 'dog', attributes: { bold: true } },
  { insert: 'alogues.\n' },
];

await step('Ctrl+H, Replace all: one op, both people see every match replaced, the bold one still bold', async () => {
  const revBefore = await rev(A.page);
  await A.page.keyboard.press('Control+h');
  await until(() => visible(A.page, '.qe-replace-row'), { what: 'the replace row' });
  await A.page.fill('.qe-replace-input', 'dog');
  await shot(A.page, 'writer-tools-replace');
  await A.page.click('.qe-find button:has-text("Replace all")');
  await synced(A.page);
  assert(stableJSON(await contents(A.page)) === stableJSON(REPLACED), `A: ${JSON.stringify(await contents(A.page))}`);
  await until(async () => stableJSON(await contents(B.page)) === stableJSON(REPLACED), { what: 'the replacements on B' });
  assert((await rev(A.page)) === revBefore + 1, `Replace all took ${(await rev(A.page)) - revBefore} ops`);
  assert((await findCount(A.page)) === 'No results', `count after: ${await findCount(A.page)}`);
});

await step('Escape goes back to the text; one Ctrl+Z brings every original back, for both', async () => {
  await A.page.keyboard.press('Escape');
  await until(async () => !(await visible(A.page, '.qe-find')), { what: 'the find bar closed' });
  assert(await inEditor(A.page), 'focus is not in the text after Escape');
  assert((await painted(A.page)).all === 0, 'highlights left after closing');
  await A.page.keyboard.press('Control+z');
  await synced(A.page);
  assert(stableJSON(await contents(A.page)) === stableJSON(ORIGINAL), `A after undo: ${JSON.stringify(await contents(A.page))}`);
  await until(async () => stableJSON(await contents(B.page)) === stableJSON(ORIGINAL), { what: 'the originals on B' });
});

await step('the count follows the other person\'s typing', async () => {
  await A.page.keyboard.press('Control+f');
  await until(async () => / of 4$/.test(await findCount(A.page)), { what: 'the count of 4 again' });
  await B.page.evaluate(() => window.__quire.quill.insertText(0, 'cat ', 'user'));
  await until(async () => / of 5$/.test(await findCount(A.page)), { what: 'the count of 5 after B typed' });
  assert((await painted(A.page)).all + 1 === 5, `painted ${JSON.stringify(await painted(A.page))}`);
  await B.page.evaluate(() => window.__quire.quill.deleteText(0, 4, 'user'));
  await until(async () => / of 4$/.test(await findCount(A.page)), { what: 'the count back to 4' });
  await A.page.keyboard.press('Escape');
  await synced(B.page);
});

await step('Replace changes the current match only, moves to the next, and is undone alone', async () => {
  await A.page.evaluate(() => window.__quire.quill.setSelection(0, 0, 'user'));
  await A.page.keyboard.press('Control+h');
  await until(() => visible(A.page, '.qe-replace-row'), { what: 'the replace row' });
  await A.page.fill('.qe-find-input[aria-label="Find"]', 'cat');
  await A.page.fill('.qe-replace-input', 'dog');
  await until(async () => (await findCount(A.page)) === '1 of 4', { what: '"1 of 4"' });
  await A.page.click('.qe-find button:has-text("Replace"):not(:has-text("all"))');
  await until(async () => (await findCount(A.page)) === '1 of 3', { what: '"1 of 3" after one Replace' });
  assert((await text(A.page)).startsWith('Notes on dogs\nThe cat sat'), `after Replace: ${JSON.stringify(await text(A.page))}`);
  assert((await painted(A.page)).currentText === 'cat', 'the current match is not the next "cat"');
  await A.page.keyboard.press('Escape');
  await A.page.keyboard.press('Control+z');
  await synced(A.page);
  assert(stableJSON(await contents(A.page)) === stableJSON(ORIGINAL), `after undo: ${JSON.stringify(await contents(A.page))}`);
  await until(async () => stableJSON(await contents(B.page)) === stableJSON(ORIGINAL), { what: 'the original on B' });
});

await step('the outline: B adds "## Second part" and A\'s outline shows it, indented; a click puts A\'s caret there', async () => {
  let items = await outlineItems(A.page);
  assert(items.length === 1 && items[0].text === 'Notes on cats', `outline before: ${JSON.stringify(items)}`);
  await B.page.evaluate(() => {
    const { quill } = window.__quire;
    quill.focus();
    quill.setSelection(quill.getLength() - 1, 0, 'user');
  });
  await B.page.keyboard.press('Enter');
  await B.page.keyboard.type('## Second part');
  await B.page.keyboard.press('Enter');
  await B.page.keyboard.type('More text here.');
  await synced(B.page);
  items = await until(async () => {
    const got = await outlineItems(A.page);
    return got.length === 2 && got;
  }, { what: 'the new heading in A\'s outline' });
  assert(items[1].text === 'Second part' && items[1].level === '2' && items[1].indent > items[0].indent, `outline: ${JSON.stringify(items)}`);
  await A.page.evaluate(() => window.__quire.quill.setSelection(0, 0, 'user'));
  await A.page.click('.qe-outline-item button:has-text("Second part")');
  const where = await A.page.evaluate(() => {
    const { quill } = window.__quire;
    const sel = quill.getSelection();
    return { index: sel?.index, length: sel?.length, expected: quill.getText().indexOf('Second part') };
  });
  assert(where.index === where.expected && where.length === 0, `caret ${JSON.stringify(where)}`);
  assert(await inEditor(A.page), 'focus is not in the text after the outline click');
  await shot(A.page, 'writer-tools-outline');
});

await step('hidden with its button, the outline stays hidden after a reload; shown again, it stays shown', async () => {
  await A.page.click('.qe-outline-toggle');
  await until(async () => !(await visible(A.page, '.qe-outline')), { what: 'the outline hidden' });
  assert(await A.page.getAttribute('.qe-outline-toggle', 'aria-expanded') === 'false', 'the button does not say it is hidden');
  await A.page.reload();
  await loaded(A.page);
  assert(!(await visible(A.page, '.qe-outline')), 'the outline came back after a reload');
  await A.page.click('.qe-outline-toggle');
  await until(() => visible(A.page, '.qe-outline'), { what: 'the outline shown' });
  await A.page.reload();
  await loaded(A.page);
  assert(await visible(A.page, '.qe-outline'), 'the outline is hidden after a reload');
  await until(async () => (await outlineItems(A.page)).length === 2, { what: 'the headings after the reload' });
});

await step('word count: the document\'s, and "1 of N words" for a selected word', async () => {
  const docText = await text(A.page);
  const n = words(docText);
  const chars = docText.replace(/\n/g, '').length;
  const shown = await until(async () => {
    const t = await A.page.locator('.qe-counts').textContent();
    return t.startsWith(`${n} words`) && t;
  }, { what: `${n} words` });
  assert(shown === `${n} words · ${chars} characters`, `count shows "${shown}", expected ${n} words, ${chars} characters`);
  await A.page.evaluate(() => {
    const { quill } = window.__quire;
    quill.setSelection(quill.getText().indexOf('Second'), 'Second'.length, 'user');
  });
  await until(async () => (await A.page.locator('.qe-counts').textContent()) === `1 of ${n} words · 6 of ${chars} characters`,
    { what: 'the selection\'s count' });
});

await step('Ctrl+/ opens the keyboard shortcuts, labelled, with the toolbar, Markdown and find keys; Escape gives focus back', async () => {
  await A.page.evaluate(() => window.__quire.quill.setSelection(3, 0, 'user'));
  await A.page.keyboard.press('Control+/');
  await until(() => visible(A.page, '.qe-keys-dialog'), { what: 'the shortcuts dialog' });
  const dlg = await A.page.evaluate(() => {
    const d = document.querySelector('.qe-keys-dialog');
    const rows = Object.fromEntries([...d.querySelectorAll('.qe-keys-row')].map((r) => [r.querySelector('dt').textContent, r.querySelector('dd').textContent]));
    return { open: d.open, modal: d.matches(':modal'), label: document.getElementById(d.getAttribute('aria-labelledby'))?.textContent, rows };
  });
  assert(dlg.open && dlg.modal && dlg.label === 'Keyboard shortcuts', `dialog ${JSON.stringify(dlg)}`);
  for (const [name, keys] of [['Bold', 'Ctrl+B'], ['Link', 'Ctrl+K'], ['Undo', 'Ctrl+Z'], ['Heading 1', '# then Space'],
    ['Quote', '> then Space'], ['Find', 'Ctrl+F'], ['Find and replace', 'Ctrl+H'], ['Keyboard shortcuts', 'Ctrl+/']]) {
    assert(dlg.rows[name] === keys, `${name}: ${dlg.rows[name]} (rows ${JSON.stringify(dlg.rows)})`);
  }
  await shot(A.page, 'writer-tools-shortcuts');
  await A.page.keyboard.press('Escape');
  await until(async () => !(await visible(A.page, '.qe-keys-dialog')), { what: 'the dialog closed' });
  await until(() => inEditor(A.page), { what: 'focus back in the text' });
  const sel = await A.page.evaluate(() => window.__quire.quill.getSelection()?.index);
  assert(sel === 3, `caret after the dialog: ${sel}`);
});

await step('Print: the ⋯ menu calls window.print(); print media shows the text only; a PDF is made', async () => {
  await A.page.evaluate(() => {
    window.__printed = 0;
    window.print = () => { window.__printed++; };
  });
  await A.page.click('.qe-menu-btn');
  await A.page.click('.qe-menu [data-action="print"]');
  assert(await A.page.evaluate(() => window.__printed) === 1, 'Print did not call window.print()');
  // With the find bar open, as someone would print in the middle of a search.
  await A.page.keyboard.press('Control+f');
  await until(() => visible(A.page, '.qe-find'), { what: 'the find bar' });
  await A.page.emulateMedia({ media: 'print' });
  for (const sel of ['.ql-toolbar', '.qe-footer', '.qe-outline', '.qe-find', '.qe-meta', '.topbar']) {
    assert(!(await visible(A.page, sel)), `${sel} is shown in print`);
  }
  assert(await visible(A.page, '.ql-editor h2'), 'the text is not shown in print');
  await shot(A.page, 'writer-tools-print');
  const pdf = path.join(SHOTS, 'writer-tools-print.pdf');
  await A.page.pdf({ path: pdf, format: 'A4' });
  const head = fs.readFileSync(pdf).subarray(0, 5).toString();
  assert(head === '%PDF-' && fs.statSync(pdf).size > 2000, `PDF ${head} ${fs.statSync(pdf).size} bytes`);
  await A.page.emulateMedia({ media: 'screen' });
  await A.page.keyboard.press('Escape');
});

await step('a viewer gets find but no replace', async () => {
  const C = await signUp('Vi Viewer');
  await shareAs(C, 'viewer');
  await C.page.goto(docUrl);
  await loaded(C.page);
  await C.page.click('.ql-editor');
  await C.page.keyboard.press('Control+h');
  await until(() => visible(C.page, '.qe-find'), { what: 'the viewer\'s find bar' });
  await C.page.keyboard.type('cat');
  await until(async () => / of 4$/.test(await findCount(C.page)), { what: 'the viewer\'s count' });
  assert(!(await visible(C.page, '.qe-replace-row')) && !(await visible(C.page, '.qe-find-hint')), 'a viewer is offered Replace');
  await shot(C.page, 'writer-tools-find-viewer');
  await C.ctx.close();
});

await step('phone width: the outline starts hidden, and shown it lies over the text without narrowing it', async () => {
  await B.page.setViewportSize(PHONE);
  await B.page.reload();
  await loaded(B.page);
  assert(!(await visible(B.page, '.qe-outline')), 'the outline is shown on a phone at first');
  const width = () => B.page.evaluate(() => document.querySelector('.qe-editor').getBoundingClientRect().width);
  const before = await width();
  await B.page.click('.qe-outline-toggle');
  await until(() => visible(B.page, '.qe-outline'), { what: 'the outline on the phone' });
  assert((await width()) === before && before >= 380, `the text went from ${before} to ${await width()} px wide`);
  await shot(B.page, 'writer-tools-outline-390');
  await B.page.click('.qe-outline-item button:has-text("Second part")');
  await until(async () => !(await visible(B.page, '.qe-outline')), { what: 'the outline hidden after a jump' });
});

await step('dark theme: the find bar and the status bar are dark', async () => {
  await A.page.emulateMedia({ colorScheme: 'dark' });
  await A.page.keyboard.press('Control+h');
  await until(() => visible(A.page, '.qe-find'), { what: 'the find bar' });
  const bg = await A.page.evaluate(() => [getComputedStyle(document.querySelector('.qe-find')).backgroundColor, getComputedStyle(document.querySelector('.qe-footer')).backgroundColor]);
  for (const c of bg) {
    const [r, g, b] = c.match(/\d+/g).map(Number);
    assert(r + g + b < 150, `background ${c} in the dark theme`);
  }
  await shot(A.page, 'writer-tools-dark');
  await A.page.keyboard.press('Escape');
  await A.page.emulateMedia({ colorScheme: 'light' });
});

await run.finish();
