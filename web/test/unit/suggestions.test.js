// Suggestion mode's pure parts: how a change is rewritten into a suggestion
// (and what the page must then show), and the accept / reject ops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { rewriteChange, withoutSetMarks, pageFix } from '../../src/editor/suggest-rewrite.js';
import { acceptOp, rejectOp } from '../../src/editor/suggest-ops.js';
import { suggestionsOf, newSuggestionId } from '../../src/editor/suggest-marks.js';

const ME = 'u-me';
const m = (id, by = ME) => ({ id, by });
const ids = () => {
  let n = 0;
  return () => `s${++n}`;
};
const rewrite = (change, old, suggesting = true) => rewriteChange(new Delta(change), new Delta(old), { me: ME, suggesting, newId: ids() });

test('typed text becomes a suggested insertion by me, and the page shows what was sent', () => {
  const old = new Delta([{ insert: 'Hello world\n' }]);
  const change = new Delta([{ retain: 5 }, { insert: ' big', attributes: { bold: true } }]);
  const { send, refused } = rewriteChange(change, old, { me: ME, suggesting: true, newId: ids() });
  assert.deepEqual(send.ops, [{ retain: 5 }, { insert: ' big', attributes: { bold: true, 'suggest-insert': m('s1') } }]);
  assert.equal(refused, null);
  const page = old.compose(change).compose(pageFix(change, send, old));
  assert.deepEqual(page, old.compose(send));
});

test('typing next to my own suggestion continues it; next to someone else\'s starts a new one', () => {
  const old = [{ insert: 'ab' }, { insert: 'cd', attributes: { 'suggest-insert': m('mine') } }, { insert: 'ef', attributes: { 'suggest-insert': m('theirs', 'u-x') } }, { insert: '\n' }];
  assert.deepEqual(rewrite([{ retain: 4 }, { insert: 'X' }], old).send.ops,
    [{ retain: 4 }, { insert: 'X', attributes: { 'suggest-insert': m('mine') } }]);
  // Inside theirs, Quill gives the typed text their mark: it becomes mine.
  assert.deepEqual(rewrite([{ retain: 5 }, { insert: 'Y', attributes: { 'suggest-insert': m('theirs', 'u-x') } }], old).send.ops,
    [{ retain: 5 }, { insert: 'Y', attributes: { 'suggest-insert': m('s1') } }]);
});

test('deleting text marks it for deletion, deleting my own insertion removes it, struck text stays as is', () => {
  const old = [
    { insert: 'plain ' },
    { insert: 'mine', attributes: { 'suggest-insert': m('a') } },
    { insert: 'struck', attributes: { 'suggest-delete': m('b', 'u-x') } },
    { insert: '\n' },
  ];
  const { send } = rewrite([{ retain: 2 }, { delete: 18 }], old);
  assert.deepEqual(send.ops, [
    { retain: 2 },
    { retain: 4, attributes: { 'suggest-delete': m('s1') } },
    { delete: 4 },
  ]);
  const page = new Delta(old).compose(new Delta([{ retain: 2 }, { delete: 18 }]));
  const fixed = page.compose(pageFix(new Delta([{ retain: 2 }, { delete: 18 }]), send, new Delta(old)));
  assert.equal(fixed.map((op) => op.insert).join(''), 'plain struck\n');
});

test('undoing my suggested deletion withdraws my mark and nobody else\'s', () => {
  const old = [{ insert: 'ab', attributes: { 'suggest-delete': m('a') } }, { insert: 'cd', attributes: { 'suggest-delete': m('b', 'u-x') } }, { insert: '\n' }];
  const { send, refused } = rewrite([{ retain: 4, attributes: { 'suggest-delete': null } }], old);
  assert.deepEqual(send.ops, [{ retain: 2, attributes: { 'suggest-delete': null } }]);
  assert.equal(refused, null);
});

test('replacing a selection is one suggestion: insertion and deletion share an id', () => {
  const { send } = rewrite([{ insert: 'new' }, { delete: 3 }], [{ insert: 'old text\n' }]);
  assert.deepEqual(send.ops, [
    { insert: 'new', attributes: { 'suggest-insert': m('s1') } },
    { retain: 3, attributes: { 'suggest-delete': m('s1') } },
  ]);
});

test('formatting and line breaks are not suggested', () => {
  const fmt = rewrite([{ retain: 3, attributes: { bold: true } }], [{ insert: 'abc\n' }]);
  assert.equal(fmt.send.ops.length, 0);
  assert.equal(fmt.refused, 'format');
  const enter = rewrite([{ retain: 1 }, { insert: 'x\ny' }], [{ insert: 'abc\n' }]);
  assert.deepEqual(enter.send.ops, [{ retain: 1 }, { insert: 'xy', attributes: { 'suggest-insert': m('s1') } }]);
  assert.equal(enter.refused, 'line break');
  const join = rewrite([{ retain: 3 }, { delete: 1 }], [{ insert: 'abc\ndef\n' }]);
  assert.equal(join.send.ops.length, 0);
});

test('outside suggestion mode, marks a change would set are taken off; clearing one stays', () => {
  const paste = new Delta([{ insert: 'x', attributes: { 'suggest-insert': m('z', 'u-x'), italic: true } }, { insert: 'y', attributes: { 'suggest-delete': m('z', 'u-x') } }]);
  assert.deepEqual(withoutSetMarks(paste).ops, [{ insert: 'x', attributes: { italic: true } }, { insert: 'y' }]);
  const accept = new Delta([{ retain: 2, attributes: { 'suggest-insert': null } }]);
  assert.equal(withoutSetMarks(accept), accept);
  assert.deepEqual(rewrite([{ insert: 'q', attributes: { 'suggest-insert': m('z', 'u-x') } }], [{ insert: '\n' }], false).send.ops, [{ insert: 'q' }]);
});

const DOC = new Delta([
  { insert: 'Keep ' },
  { insert: 'added ', attributes: { 'suggest-insert': m('s1', 'u-b') } },
  { insert: 'gone ', attributes: { 'suggest-delete': m('s2', 'u-b') } },
  { insert: 'swap', attributes: { 'suggest-insert': m('s3', 'u-c') } },
  { insert: 'old', attributes: { 'suggest-delete': m('s3', 'u-c'), bold: true } },
  { insert: '\n' },
]);
const text = (doc) => doc.map((op) => op.insert).join('');

test('accepting one suggestion keeps its insertion or removes its deletion, and nothing else', () => {
  assert.deepEqual(acceptOp(DOC, 's1').ops, [{ retain: 5 }, { retain: 6, attributes: { 'suggest-insert': null } }]);
  assert.deepEqual(acceptOp(DOC, 's2').ops, [{ retain: 11 }, { delete: 5 }]);
  const replaced = DOC.compose(acceptOp(DOC, 's3'));
  assert.equal(text(replaced), 'Keep added gone swap\n');
  assert.deepEqual(suggestionsOf(replaced).map((s) => s.id), ['s1', 's2']);
});

test('rejecting does the reverse; accept all and reject all leave plain text', () => {
  assert.equal(text(DOC.compose(rejectOp(DOC, 's3'))), 'Keep added gone old\n');
  const accepted = DOC.compose(acceptOp(DOC));
  assert.equal(text(accepted), 'Keep added swap\n');
  assert.deepEqual(suggestionsOf(accepted), []);
  const rejected = DOC.compose(rejectOp(DOC));
  assert.equal(text(rejected), 'Keep gone old\n');
  assert.deepEqual(rejected.ops.at(-2), { insert: 'old', attributes: { bold: true } });
  assert.deepEqual(suggestionsOf(rejected), []);
});

test('suggestions are listed with their kind and author; ids are url-safe, 16 characters', () => {
  assert.deepEqual(suggestionsOf(DOC).map(({ id, kind, by }) => [id, kind, by]),
    [['s1', 'insert', 'u-b'], ['s2', 'delete', 'u-b'], ['s3', 'replace', 'u-c']]);
  assert.match(newSuggestionId(), /^[A-Za-z0-9_-]{16}$/);
});
