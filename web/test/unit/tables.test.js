// Where "Insert table" puts a table (issue 16): never splitting the line the
// caret is on, always leaving a line to type on after it, and as many rows
// and columns as asked, each row with an id of its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableInsertion } from '../../src/editor/table-tools.js';
import { describeControl } from '../../src/editor/toolbar.js';

const ids = () => {
  let n = 0;
  return () => `row-t${(n += 1)}`;
};
const size = { rows: 2, columns: 3 };

test('an empty line becomes the table and stays after it', () => {
  const { delta, caret } = tableInsertion({ lineStart: 6, lineLength: 1, docLength: 8 }, size, ids());
  assert.deepEqual(delta.ops, [
    { retain: 6 },
    { insert: '\n\n\n', attributes: { table: 'row-t1' } },
    { insert: '\n\n\n', attributes: { table: 'row-t2' } },
  ]);
  assert.equal(caret, 6);
});

test('a line with text keeps it, the table goes below, and at the end an empty line follows', () => {
  const { delta, caret } = tableInsertion({ lineStart: 0, lineLength: 6, docLength: 6 }, { rows: 1, columns: 2 }, ids());
  assert.deepEqual(delta.ops, [
    { retain: 6 },
    { insert: '\n\n', attributes: { table: 'row-t1' } },
    { insert: '\n' },
  ]);
  assert.equal(caret, 6);
});

test('the table controls have names and tooltips', () => {
  for (const control of ['table', 'table-row-above', 'table-row-below', 'table-column-left', 'table-column-right',
    'table-delete-row', 'table-delete-column', 'table-delete']) {
    const text = describeControl(control, null);
    assert.ok(text, control);
    assert.match(text.name, /^[A-Z][a-z]+( [a-z]+)*$/);
    assert.equal(text.title, text.name);
  }
  assert.equal(describeControl('table', null).name, 'Insert table');
});
