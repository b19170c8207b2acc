// Seeded random edits for the simulation and the server convergence test.
// Cuts only at code-point boundaries (a server rejects split surrogates) and
// never touches the final "\n" (the document must keep it).

import Delta from 'quill-delta';

export function mulberry32(seed) {
  let a = seed >>> 0;
  return function rng() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (rng, n) => Math.floor(rng() * n);
export const pick = (rng, xs) => xs[int(rng, xs.length)];

// Mixed scripts: emoji (surrogate pairs), ZWJ sequences, combining accents,
// CJK, and newlines so line formats have lines to work on.
const WORDS = [
  'a', 'the ', 'quire', 'héllo', 'e\u0301', 'ő', '😀', '👩‍💻', '🇫🇷', '中文',
  'Ünïcödé ', ' ', '\n', 'x', 'œuvre', 'ß', '🙂 ok',
];

export function word(rng) {
  let s = '';
  const n = 1 + int(rng, 3);
  for (let i = 0; i < n; i++) s += pick(rng, WORDS);
  return s;
}

const INLINE = [
  { bold: true }, { italic: true }, { underline: true }, { strike: true },
  { code: true }, { link: 'https://example.com/q' }, { bold: null },
  { italic: null, underline: true }, { link: null },
];
const LINE = [
  { header: 1 }, { header: 2 }, { header: 3 }, { header: null },
  { list: 'bullet' }, { list: 'ordered' }, { list: 'checked' }, { list: 'unchecked' },
  { list: null }, { indent: 1 }, { indent: 2 }, { indent: null },
  { blockquote: true }, { 'code-block': 'plain' }, { blockquote: null },
];

// Strip nulls: an insert's attributes may not carry null (PROTOCOL.md 3).
function insertAttrs(a) {
  const out = {};
  for (const [k, v] of Object.entries(a)) if (v !== null) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

// Offsets (UTF-16) where a cut is allowed: code-point boundaries of the text.
export function boundaries(doc) {
  const cuts = [0];
  let off = 0;
  for (const op of doc.ops) {
    if (typeof op.insert === 'string') {
      for (const ch of op.insert) {
        off += ch.length;
        cuts.push(off);
      }
    } else {
      off += 1;
      cuts.push(off);
    }
  }
  return cuts;
}

export function docText(doc) {
  return doc.ops.map((op) => (typeof op.insert === 'string' ? op.insert : '\uFFFC')).join('');
}

// One random change against `doc` (a document Delta ending in "\n").
export function randomEdit(rng, doc) {
  const cuts = boundaries(doc);
  const text = docText(doc);
  const last = cuts.length - 2; // index in cuts of the final "\n" start
  const d = new Delta();
  const kind = int(rng, 10);
  if (kind < 5 || last === 0) {
    const at = cuts[int(rng, last + 1)];
    const fmt = rng() < 0.3 ? insertAttrs(pick(rng, INLINE)) : undefined;
    return d.retain(at).insert(word(rng), fmt).chop();
  }
  const i = int(rng, last);
  const j = i + 1 + int(rng, Math.min(last - i, 6));
  const from = cuts[i];
  const len = cuts[j] - from;
  if (kind < 8) return d.retain(from).delete(len).chop();
  if (kind < 9) return d.retain(from).retain(len, pick(rng, INLINE)).chop();
  // A line format: on the "\n" ending the line at `from` (the final one too).
  const nl = text.indexOf('\n', from);
  return d.retain(nl).retain(1, pick(rng, LINE)).chop();
}
