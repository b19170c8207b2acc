// The editor never sends half an emoji: loneHalves finds what a change left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { loneHalves, deletion } from '../../src/editor/surrogates.js';

const slicer = (doc) => (index, length) => doc.slice(index, index + length);

// Applies `change` to `before` and returns the halves found in the result.
function halvesAfter(before, change) {
  const after = before.compose(change);
  return { after, lone: loneHalves(change, slicer(after), after.length()) };
}

test('a delete of one half of an emoji leaves the other, and the repair removes it', () => {
  const before = new Delta().insert('a😀b\n');
  const { after, lone } = halvesAfter(before, new Delta().retain(2).delete(1));
  assert.deepEqual(lone, [1]);
  const fixed = after.compose(deletion(lone));
  assert.deepEqual(fixed.ops, [{ insert: 'ab\n' }]);
});

test('a formatted emoji cut by a delete across formats', () => {
  const before = new Delta().insert('x', { bold: true }).insert('😀y\n');
  const { lone } = halvesAfter(before, new Delta().retain(1).delete(1));
  assert.deepEqual(lone, [1]);
});

test('whole emoji and ordinary edits leave nothing', () => {
  const before = new Delta().insert('a😀b👩‍👩‍👧\n');
  assert.deepEqual(halvesAfter(before, new Delta().retain(1).delete(2)).lone, []);
  assert.deepEqual(halvesAfter(before, new Delta().retain(3).insert('zz')).lone, []);
  assert.deepEqual(halvesAfter(before, new Delta().insert('😀')).lone, []);
  assert.deepEqual(halvesAfter(before, new Delta().retain(4).delete(3)).lone, []);
});

test('inserted text with a lone half is found, and several are deleted in one change', () => {
  const before = new Delta().insert('ab\n');
  const { after, lone } = halvesAfter(before, new Delta().retain(1).insert('\ud83dx\ude00'));
  assert.deepEqual(lone, [1, 3]);
  assert.deepEqual(after.compose(deletion(lone)).ops, [{ insert: 'axb\n' }]);
});
