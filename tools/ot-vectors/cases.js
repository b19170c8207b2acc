// Random quill-delta cases and their results computed by the real quill-delta 5.1.0.
// Shared by generate.js (golden vectors), check.js and differential.js (live run).
'use strict';
const Delta = require('quill-delta');
const { AttributeMap } = Delta;

// sfc32: a small seeded PRNG, so that a seed reproduces every case.
function rng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p };
}

// Text that stresses UTF-16: astral characters, ZWJ emoji, flags, combining marks, CJK.
const WORDS = [
  'a', 'Hello', ' ', '\n', '\n', '😀', 'e\u0301', 'o\u030B', '👨‍👩‍👧‍👦', '漢字', '🇫🇷', 'x😀y',
  '\n\n', 'ab', 'é', 'tab\there', '𝒳', 'ü\n',
];
const EMBEDS = [
  () => ({ image: 'i.png' }),
  () => ({ formula: 'x^2' }),
  () => ({ video: 'https://v.example/1' }),
  () => ({ image: { src: 'a.png', size: [1, 2] } }),
];
const INLINE = ['bold', 'italic', 'color', 'link', 'font', 'size'];
const LINE = ['header', 'list', 'align', 'indent'];
const VALUES = [
  () => true, () => false, () => 'red', () => 'blue', () => 1, () => 2, () => 0, () => 1.5,
  () => 'https://quire.example/x', () => ({ family: 'serif', size: [1, 2] }),
  () => ({ nested: { deep: true } }), () => [1, 'a'],
];

function word(r) {
  let s = r.pick(WORDS);
  if (r.chance(0.3)) s += r.pick(WORDS);
  return s;
}

// A random attribute map or undefined; `nulls` lets values be null (format removal).
function attrs(r, nulls, keys = INLINE) {
  if (r.chance(0.45)) return undefined;
  const res = {};
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    res[r.pick(keys)] = nulls && r.chance(0.25) ? null : r.pick(VALUES)();
  }
  return res;
}

function randomDoc(r) {
  const roll = r.next();
  const doc = new Delta();
  if (roll < 0.05) return doc; // the empty Delta
  if (roll < 0.12) return doc.insert('\n');
  const n = 1 + r.int(7);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.12)) doc.insert(r.pick(EMBEDS)(), attrs(r, r.chance(0.05)));
    else if (r.chance(0.15)) doc.insert('\n', attrs(r, false, LINE));
    else doc.insert(word(r), attrs(r, r.chance(0.05)));
  }
  return doc.insert('\n', r.chance(0.3) ? attrs(r, false, LINE) : undefined);
}

// Every offset that falls on a code-point boundary (embeds count 1).
function boundaries(doc) {
  const cuts = [0];
  let at = 0;
  for (const op of doc.ops) {
    if (typeof op.insert === 'string') {
      for (const ch of op.insert) { at += ch.length; cuts.push(at); }
    } else { at += 1; cuts.push(at); }
  }
  return cuts;
}

function insertSomething(r, d) {
  if (r.chance(0.15)) d.insert(r.pick(EMBEDS)(), attrs(r, true));
  else if (r.chance(0.1)) d.insert('\n', attrs(r, true, LINE));
  else d.insert(word(r), attrs(r, r.chance(0.2)));
}

// One step at cut index `ci`: insert, format (with line formats sometimes) or delete.
function step(r, d, cuts, ci) {
  const left = cuts.length - 1 - ci;
  const action = r.int(6);
  if (action <= 1 || left === 0) { insertSomething(r, d); return ci; }
  const n = 1 + r.int(Math.min(left, 4));
  const len = cuts[ci + n] - cuts[ci];
  if (action === 2) {
    d.retain(len, attrs(r, true, r.chance(0.3) ? LINE : INLINE) || { bold: true });
  } else {
    d.delete(len);
  }
  return ci + n;
}

// A change on `doc` that cuts only at code-point boundaries.
function randomOp(r, doc) {
  const cuts = boundaries(doc);
  const d = new Delta();
  let ci = 0;
  do {
    const skip = r.int(Math.min(cuts.length - 1 - ci, 4) + 1);
    d.retain(cuts[ci + skip] - cuts[ci]);
    ci += skip;
    ci = step(r, d, cuts, ci);
  } while (ci < cuts.length - 1 && r.chance(0.5));
  return d.chop();
}

// A change that does one thing exactly at cut `k` (exhaustive families).
function opAtCut(r, doc, k) {
  const cuts = boundaries(doc);
  const d = new Delta().retain(cuts[k]);
  step(r, d, cuts, k);
  return d.chop();
}

// A case: a document, two concurrent changes a and b, a change c made after a, and two
// attribute maps for the AttributeMap functions.
function makeCase(r, id, family, doc, a) {
  doc = doc || randomDoc(r);
  a = a || randomOp(r, doc);
  const b = randomOp(r, doc);
  const c = randomOp(r, doc.compose(a));
  const x = attrs(r, true, INLINE.concat(LINE));
  const y = attrs(r, true, INLINE.concat(LINE));
  // Round-trip through JSON so no two ops share an object (JS `===` matters in invert).
  return JSON.parse(JSON.stringify({ id, family, doc: doc.ops, a: a.ops, b: b.ops, c: c.ops, x: x || null, y: y || null }));
}

const und = (v) => (v === null ? undefined : v);
const nul = (v) => (v === undefined ? null : v);

// Everything the Rust side must reproduce, in the order of the output fields.
function results(input) {
  const doc = new Delta(input.doc);
  const a = new Delta(input.a);
  const b = new Delta(input.b);
  const c = new Delta(input.c);
  const fresh = () => JSON.parse(JSON.stringify(input));
  const x = () => und(fresh().x);
  const y = () => und(fresh().y);
  const after = doc.compose(a);
  const len = doc.length();
  const tp = [];
  for (let i = 0; i <= len + 1; i++) tp.push([a.transformPosition(i, true), a.transformPosition(i, false)]);
  const lines = [];
  after.eachLine((line, attributes) => { lines.push([line.ops, attributes]); });
  return {
    compose_doc_a: after.ops,
    compose_a_c: a.compose(c).ops,
    transform_true: a.transform(b, true).ops,
    transform_false: a.transform(b, false).ops,
    transform_position: tp,
    invert: new Delta(fresh().a).invert(new Delta(fresh().doc)).ops,
    lengths: [a.length(), a.changeLength()],
    lines,
    attr_compose_keep: nul(AttributeMap.compose(x(), y(), true)),
    attr_compose: nul(AttributeMap.compose(x(), y(), false)),
    attr_transform_true: nul(AttributeMap.transform(x(), y(), true)),
    attr_transform_false: nul(AttributeMap.transform(x(), y(), false)),
    attr_diff: nul(AttributeMap.diff(x(), y())),
    attr_invert: AttributeMap.invert(x(), y()),
  };
}

// Tables as Quill's table module writes them: each cell is a line whose "\n" carries
// { table: rowId }, a row is consecutive cells with one id. The ops are the module's:
// typing in a cell, a row inserted (as many "\n" as columns, with a new id), a column
// deleted (one cell of every row), a cell moved to another row or out of the table.
const ROW_IDS = ['row-ab12', 'row-x9z0', 'row-1', 'row-2', 'row-q7', 'row-zzzz'];

function tableDoc(r) {
  const doc = new Delta();
  if (r.chance(0.5)) doc.insert(word(r).replace(/\n/g, ' ')).insert('\n');
  const rows = 1 + r.int(3);
  const columns = 1 + r.int(3);
  for (let row = 0; row < rows; row++) {
    const id = ROW_IDS[row];
    for (let col = 0; col < columns; col++) {
      if (r.chance(0.7)) doc.insert(word(r).replace(/\n/g, ' '), attrs(r, false));
      doc.insert('\n', { table: id });
    }
  }
  return r.chance(0.6) ? doc.insert('\n') : doc;
}

// The "\n" of every cell line of `doc`: [offset, row id].
function cellEnds(doc) {
  const ends = [];
  let at = 0;
  for (const op of doc.ops) {
    const len = typeof op.insert === 'string' ? op.insert.length : 1;
    if (op.insert === '\n' && op.attributes && op.attributes.table) ends.push([at, op.attributes.table]);
    at += len;
  }
  return ends;
}

function tableOp(r, doc) {
  const ends = cellEnds(doc);
  if (ends.length === 0) return randomOp(r, doc);
  const roll = r.int(5);
  const [end, id] = r.pick(ends);
  if (roll === 0) {
    // A new row before the row of `end`, as wide as that row.
    const row = ends.filter(([, other]) => other === id);
    const start = row[0][0] - (row[0][0] > 0 ? lineLength(doc, row[0][0]) : 0);
    return new Delta().retain(start).insert('\n'.repeat(row.length), { table: r.pick(ROW_IDS) }).chop();
  }
  if (roll === 1) return deleteColumn(doc, ends, r.int(3));
  if (roll === 2) return new Delta().retain(end).retain(1, { table: r.chance(0.3) ? null : r.pick(ROW_IDS) });
  if (roll === 3) return new Delta().retain(end).insert(word(r).replace(/\n/g, ' '), attrs(r, false));
  return randomOp(r, doc);
}

// How many units of text stand before the "\n" at `end` on its line.
function lineLength(doc, end) {
  const text = doc.ops.map((op) => (typeof op.insert === 'string' ? op.insert : ' ')).join('');
  return end - (text.lastIndexOf('\n', end - 1) + 1);
}

// Deletes the cell at `column` of every row that has one: its text and its "\n".
function deleteColumn(doc, ends, column) {
  const d = new Delta();
  let at = 0;
  let rowId = null;
  let col = 0;
  for (const [end, id] of ends) {
    col = id === rowId ? col + 1 : 0;
    rowId = id;
    if (col !== column) continue;
    const start = end - lineLength(doc, end);
    d.retain(start - at).delete(end + 1 - start);
    at = end + 1;
  }
  return d.chop();
}

function makeTableCase(r, id) {
  const doc = tableDoc(r);
  const a = tableOp(r, doc);
  const b = tableOp(r, doc);
  const c = tableOp(r, doc.compose(a));
  const x = attrs(r, true, ['table', 'bold']);
  const y = attrs(r, true, ['table', 'header']);
  return JSON.parse(JSON.stringify({ id, family: 'table', doc: doc.ops, a: a.ops, b: b.ops, c: c.ops, x: x || null, y: y || null }));
}

// `count` cases from `seed`: mostly random, plus families that try every cut of a document.
// The last `tables` cases are tables, from a stream of their own, so that the others stay as
// they were before tables existed.
function* generate(seed, count, tables = 0) {
  const r = rng(seed);
  let id = 0;
  while (id < count - tables) {
    if (r.chance(0.2)) {
      const doc = randomDoc(r);
      const cuts = boundaries(doc);
      for (let k = 0; k < cuts.length && id < count - tables; k++) {
        yield makeCase(r, id++, 'cut', doc, opAtCut(r, doc, k));
      }
    } else {
      yield makeCase(r, id++, 'random');
    }
  }
  const t = rng(seed + 1);
  while (id < count) yield makeTableCase(t, id++);
}

module.exports = { rng, generate, results, boundaries };
