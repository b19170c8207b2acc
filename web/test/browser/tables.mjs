#!/usr/bin/env node
// Tables end to end against the REAL binary (QUIRE_URL), issue 16, in
// Chromium: two people in one document; A inserts a 3×3 table with the
// toolbar's "Insert table", types into its cells (Tab moves on, one cell in
// bold), adds a row below and a column to the right with the table buttons
// that show while the caret is in a table; B sees the same table live (same
// rows, columns and cell texts); A deletes a column from the keyboard (the
// button reached by focus, Enter), and both converge on the same Delta,
// whose cell lines carry row ids of the shape the server accepts. The
// table is photographed in the light and the dark theme.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/tables.mjs
// Screenshots: target/e2e/tables-*.png (QUIRE_E2E_DIR). Prints "N passed, M
// failed"; exit 1 on failure.

import path from 'node:path';
import { until, contents, newTestContext, watchErrors, SHOTS, shot } from './lib.mjs';
import { realServer } from './targets.mjs';
import { realRun, assert, synced } from './real-run.mjs';

const run = await realRun('tables');
const { step, browser, errors } = run;
const target = await realServer(run.base);

async function person(name, role) {
  const ctx = await newTestContext(browser, { viewport: { width: 1100, height: 800 } });
  await target.login(ctx, name, role);
  const page = await ctx.newPage();
  watchErrors(page, name, errors);
  return { ctx, page };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null && window.__quire.quill.isEnabled()),
  { what: 'editor loaded' });

// The table as a reader sees it: each row's cell texts.
const tableShape = (page) => page.evaluate(() => [...document.querySelectorAll('.ql-editor table tr')]
  .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
const describe = (rows) => `${rows.length} rows × ${rows[0]?.length ?? 0} columns ${JSON.stringify(rows)}`;
const toolsShown = (page) => page.evaluate(() => {
  const group = document.querySelector('.qe-table-tools');
  return group != null && !group.hidden && group.getBoundingClientRect().width > 0;
});
const button = (page, name) => page.locator(`.ql-toolbar button[aria-label="${name}"]`);

const A = await person('Tam Table', 'editor');
const B = await person('Bo Table', 'editor');

await step('both people open the document', async () => {
  await A.page.goto(target.docUrl());
  await B.page.goto(target.docUrl());
  await loaded(A.page);
  await loaded(B.page);
  assert(!(await toolsShown(A.page)), 'the table buttons show outside a table');
});

await step('"Insert table" (named, with a tooltip) puts a 3×3 table below the line, caret in the first cell', async () => {
  const insert = button(A.page, 'Insert table');
  assert((await insert.getAttribute('title')) === 'Insert table', `tooltip ${await insert.getAttribute('title')}`);
  await A.page.click('.ql-editor');
  await A.page.keyboard.type('Shopping');
  await insert.click();
  const rows = await until(async () => {
    const shape = await tableShape(A.page);
    return shape.length === 3 && shape.every((r) => r.length === 3) && shape;
  }, { what: 'a 3×3 table' });
  assert(rows.flat().every((cell) => cell === ''), `new cells hold ${describe(rows)}`);
  assert((await A.page.evaluate(() => window.__quire.quill.getText(0, 9))) === 'Shopping\n', 'the line above was split');
  await until(() => toolsShown(A.page), { what: 'the table buttons in the table' });
});

await step('A types into the cells (Tab moves to the next one, Ctrl+B makes one bold)', async () => {
  const type = async (...cells) => {
    for (const [i, cell] of cells.entries()) {
      if (i > 0) await A.page.keyboard.press('Tab');
      if (typeof cell === 'object') {
        await A.page.keyboard.press('Control+b');
        await A.page.keyboard.type(cell.bold);
        await A.page.keyboard.press('Control+b');
      } else {
        await A.page.keyboard.type(cell);
      }
    }
  };
  await type('Item', 'Qty', 'Note', 'Apples', '3', { bold: 'ripe' }, 'Pears', '2', 'a | pipe');
  await synced(A.page);
  const rows = await tableShape(A.page);
  const want = [['Item', 'Qty', 'Note'], ['Apples', '3', 'ripe'], ['Pears', '2', 'a | pipe']];
  assert(JSON.stringify(rows) === JSON.stringify(want), `A's table is ${describe(rows)}`);
  const bold = await A.page.evaluate(() => document.querySelector('.ql-editor table tr:nth-child(2) td:nth-child(3) strong')?.textContent);
  assert(bold === 'ripe', `bold cell ${bold}`);
});

await step('A adds a row below and a column to the right with the table buttons', async () => {
  // The caret is in the last cell ("a | pipe"): the new row goes at the end, the new column on the right.
  await button(A.page, 'Insert row below').click();
  await until(async () => (await tableShape(A.page)).length === 4, { what: 'a fourth row' });
  await button(A.page, 'Insert column right').click();
  const rows = await until(async () => {
    const shape = await tableShape(A.page);
    return shape.every((r) => r.length === 4) && shape;
  }, { what: 'a fourth column' });
  assert(rows.length === 4, `A's table is ${describe(rows)}`);
  // Quill leaves the caret in its cell; Tab goes on to the new column's.
  await A.page.keyboard.press('Tab');
  await A.page.keyboard.type('new');
  const after = await tableShape(A.page);
  assert(after[2][3] === 'new', `"new" went elsewhere: ${describe(after)}`);
  await synced(A.page);
});

await step('B sees the same table live: rows, columns and cell texts', async () => {
  const a = await tableShape(A.page);
  const b = await until(async () => {
    const shape = await tableShape(B.page);
    return JSON.stringify(shape) === JSON.stringify(a) && shape;
  }, { what: `B's table to be A's ${describe(a)}` });
  assert(b.length === 4 && b.every((r) => r.length === 4), `B's table is ${describe(b)}`);
  assert(b.flat().includes('new') && b.flat().includes('ripe'), describe(b));
});

await step('A deletes a column from the keyboard (the button, Enter); both converge on one Delta', async () => {
  // The caret is in the new column, which goes.
  await button(A.page, 'Delete column').focus();
  await A.page.keyboard.press('Enter');
  const want = [['Item', 'Qty', 'Note'], ['Apples', '3', 'ripe'], ['Pears', '2', 'a | pipe'], ['', '', '']];
  await until(async () => JSON.stringify(await tableShape(A.page)) === JSON.stringify(want),
    { what: `A's table to lose the new column (now ${describe(await tableShape(A.page))})` });
  await until(async () => JSON.stringify(await tableShape(B.page)) === JSON.stringify(want),
    { what: `B's table to lose the new column (now ${describe(await tableShape(B.page))})` });
  await synced(A.page);
  await synced(B.page);
  const [da, db] = [await contents(A.page), await contents(B.page)];
  assert(JSON.stringify(da) === JSON.stringify(db), `the Deltas differ:\n${JSON.stringify(da)}\n${JSON.stringify(db)}`);
  const ids = da.filter((op) => op.attributes?.table).map((op) => op.attributes.table);
  assert(ids.length >= 4 && ids.every((id) => /^[A-Za-z0-9-]{1,32}$/.test(id)), `row ids ${ids}`);
  assert(new Set(ids).size === 4, `four rows, four ids: ${ids}`);
});

await step('screenshots of the table, light and dark, with the table buttons', async () => {
  // The caret in "Qty": the table buttons show after "Insert table".
  await A.page.evaluate(() => window.__quire.quill.setSelection(window.__quire.quill.getText().indexOf('Qty') + 1, 0, 'user'));
  await until(() => toolsShown(A.page), { what: 'the table buttons' });
  await shot(A.page, 'tables-editor-1100');
  await A.page.locator('.ql-editor table').screenshot({ path: path.join(SHOTS, 'tables-table-light.png') });
  await A.page.emulateMedia({ colorScheme: 'dark' });
  const border = await A.page.evaluate(() => getComputedStyle(document.querySelector('.ql-editor td')).borderTopColor);
  assert(border !== 'rgb(0, 0, 0)', `dark cells keep black borders: ${border}`);
  await A.page.locator('.ql-editor table').screenshot({ path: path.join(SHOTS, 'tables-table-dark.png') });
  await shot(A.page, 'tables-editor-dark-1100');
  await A.page.emulateMedia({ colorScheme: 'light' });
});

await run.finish();
