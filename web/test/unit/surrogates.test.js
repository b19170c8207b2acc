// The editor never sends half an emoji: loneHalves finds what a change left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { alignedToCodePoints, loneHalves, deletion } from '../../src/editor/surrogates.js';
import { bindQuill } from '../../src/editor/binding.js';
import { mulberry32, int, pick } from '../lib/random.js';

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

// Typed text becomes a change through quill-delta's diff (Quill's
// Editor.update when it cannot use its ASCII shortcut), whose semantic
// cleanup slides an insert along the code units it shares with its
// neighbour: typing 👩 (d83d dc69) just before 😀 (d83d de00) comes out as
// retain past the first d83d, then insert "\udc69\ud83d". Both documents are
// whole; the op holds two halves and the server refuses it (soak seed
// 689286220).

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
const docText = (doc) => doc.ops.map((op) => (typeof op.insert === 'string' ? op.insert : '\ufffc')).join('');

// What the server checks (PROTOCOL.md): no insert holds a lone half and no
// boundary of the change falls inside a pair of the document it applies to.
function problems(change, before) {
  const found = [];
  const text = docText(before);
  const cutAt = (i) => i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i));
  let at = 0;
  for (const op of change.ops) {
    if (typeof op.insert === 'string') {
      if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(op.insert)) found.push(`insert ${JSON.stringify(op.insert)} holds a lone half`);
      if (cutAt(at)) found.push(`insert at ${at} cuts a pair`);
    } else if (op.insert == null) {
      if (cutAt(at)) found.push(`${op.delete != null ? 'delete' : 'retain'} starts inside a pair at ${at}`);
      at += op.delete ?? (typeof op.retain === 'number' ? op.retain : 1);
      if (cutAt(at)) found.push(`${op.delete != null ? 'delete' : 'retain'} ends inside a pair at ${at}`);
    }
  }
  return found;
}

const aligned = (before, after, change) =>
  alignedToCodePoints(change, (i, n) => before.slice(i, i + n), before.length(), (i, n) => after.slice(i, i + n));

test("quill-delta's diff of typed text cuts pairs, and the aligned change does not", () => {
  const cases = [
    ['X😀Y\n', 'X👩😀Y\n'], // insert sliding into the pair after it
    ['a😀😃b\n', 'a😃b\n'], // delete only: both documents whole, the boundaries cut pairs
    ['a😀😃b\n', 'a😀b\n'], // these three come out whole
    ['😀\n', '👩\n'],
    ['ab 😀 cd\n', 'ab 😀 👩 😀 cd\n'],
  ];
  let cut = 0;
  for (const [from, to] of cases) {
    const before = new Delta().insert(from);
    const after = new Delta().insert(to);
    const change = before.diff(after);
    cut += problems(change, before).length > 0 ? 1 : 0;
    const fixed = aligned(before, after, change);
    assert.deepEqual(problems(fixed, before), [], `${from} -> ${to}: ${JSON.stringify(fixed.ops)}`);
    assert.deepEqual(before.compose(fixed).ops, after.ops, `${from} -> ${to}`);
  }
  assert.equal(cut, 2, 'quill-delta no longer cuts pairs in these: the cases need renewing');

  // What Chromium made of Control+b then 👩 typed before 😀: Quill's cursor
  // blot leaves its diff without the caret, and the change even bolds the
  // high half of 😀 (the soak's failure, caught again in a browser).
  const before = new Delta().insert('X😀Y\n');
  const after = new Delta().insert('X').insert('👩', { bold: true }).insert('😀Y\n');
  const change = before.diff(after);
  assert.deepEqual(change.ops, [{ retain: 1 }, { retain: 1, attributes: { bold: true } }, { insert: '\udc69', attributes: { bold: true } }, { insert: '\ud83d' }]);
  const fixed = aligned(before, after, change);
  assert.deepEqual(fixed.ops, [{ retain: 1 }, { insert: '👩', attributes: { bold: true } }, { insert: '😀' }, { delete: 2 }]);
  assert.deepEqual(before.compose(fixed).ops, after.ops);
  const whole = new Delta().insert('X😀Y\n').diff(new Delta().insert('X😀xY\n'));
  assert.equal(aligned(new Delta().insert('X😀Y\n'), new Delta().insert('X😀xY\n'), whole), whole, 'a whole change is kept as it is');
});

test('aligned changes keep formats, embeds and the implicit retain, on random edits', () => {
  const rng = mulberry32(689286220);
  const pieces = ['😀', '👩', '😃', '💻', 'a', ' ', '\u200d', '中'];
  const randomText = (n) => Array.from({ length: n }, () => pick(rng, pieces)).join('');
  let cut = 0;
  for (let round = 0; round < 2000; round++) {
    const before = new Delta().insert(randomText(int(rng, 6)), int(rng, 3) === 0 ? { bold: true } : undefined)
      .insert({ image: 'x.png' }).insert(randomText(int(rng, 6))).insert('\n');
    // A random edit at whole characters, as a person makes it.
    const chars = Array.from(docText(before).slice(0, -1));
    const at = int(rng, chars.length + 1);
    const gone = int(rng, 3);
    const offset = chars.slice(0, at).join('').length;
    const removed = chars.slice(at, at + gone).join('').length;
    const edit = new Delta().retain(offset).insert(randomText(int(rng, 3)), int(rng, 2) ? { bold: true } : undefined).delete(removed);
    const after = before.compose(edit);
    const change = before.diff(after);
    if (problems(change, before).length) cut++;
    const fixed = aligned(before, after, change);
    assert.deepEqual(problems(fixed, before), [], JSON.stringify({ before: before.ops, after: after.ops, fixed: fixed.ops }));
    assert.deepEqual(before.compose(fixed).ops, after.ops);
  }
  assert.ok(cut > 50, `only ${cut} of the diffs cut a pair`);
});

// The binding with a stand-in for Quill: what reaches sync.localChange is
// what the server accepts.
function fakeQuill(initial) {
  const handlers = {};
  const quill = {
    doc: initial,
    on: (name, fn) => (handlers[name] ??= []).push(fn),
    getModule: () => null,
    getContents: (index = 0, length = quill.doc.length() - index) => quill.doc.slice(index, index + length),
    getLength: () => quill.doc.length(),
    getSelection: () => null,
    setContents: (d) => { quill.doc = new Delta(d.ops ?? d); },
    updateContents: (d) => { quill.doc = quill.doc.compose(d); },
    enable: () => {},
    history: { clear: () => {} },
    // The person's edit as Quill reports it: the new document, and its diff.
    type(after) {
      const old = quill.doc;
      quill.doc = after;
      for (const fn of handlers['text-change'] ?? []) fn(old.diff(after), old, 'user');
    },
  };
  return quill;
}

test('the binding sends typed emoji as whole characters', () => {
  const start = new Delta().insert('X😀Y\n');
  const quill = fakeQuill(start);
  const sent = [];
  bindQuill({
    quill,
    sync: { localChange: (d) => sent.push(d), setSelection: () => {}, initialDocument: () => start, readOnly: false },
  });
  quill.type(new Delta().insert('X👩😀Y\n'));
  quill.type(new Delta().insert('X😀Y\n'));
  quill.type(new Delta().insert('X').insert('👩', { bold: true }).insert('😀Y\n'));
  assert.equal(sent.length, 3);
  let doc = start;
  for (const change of sent) {
    assert.deepEqual(problems(change, doc), [], JSON.stringify(change.ops));
    doc = doc.compose(change);
  }
  assert.deepEqual(doc.ops, quill.doc.ops);
});
