// People's colours: the palette (never the grey of "unknown"), a stable
// preferred colour per user, and the assignment that keeps the colours on
// one page distinct while there are no more people than colours. Pure.

// Twelve hues, each dark enough for white initials (contrast >= 4.5:1) and
// far enough from the others and from grey to tell apart at a glance
// (test/unit/colors.test.js measures both).
export const PALETTE = [
  '#c62828', '#c2410c', '#8d5a00', '#5f7a00', '#2e7d32', '#00796b',
  '#0277bd', '#1e40af', '#5b3cc4', '#8e24aa', '#ad1457', '#7c4a1e',
];

// Someone the page knows nothing about (no id, no colour).
export const UNKNOWN_COLOR = '#475569';

function hash(key) {
  let h = 2166136261; // FNV-1a: tiny, stable, good enough for bucketing
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

// The colour a person asks for in `hello`: the same in every tab.
export function colorFor(key) {
  return PALETTE[hash(String(key)) % PALETTE.length];
}

// keys: the people on the page (user ids, mine included). Each gets its
// preferred colour when nobody before it (in id order, so every page that
// sees the same people agrees) has it, else the next free one. Distinct
// until the palette runs out; past that, colours repeat.
export function assignColors(keys) {
  const out = new Map();
  const taken = new Set();
  for (const key of [...new Set(keys)].sort()) {
    let i = hash(String(key)) % PALETTE.length;
    for (let tries = 0; tries < PALETTE.length && taken.has(PALETTE[i]); tries++) i = (i + 1) % PALETTE.length;
    if (taken.size >= PALETTE.length) taken.clear(); // more people than colours: start a second round
    taken.add(PALETTE[i]);
    out.set(key, PALETTE[i]);
  }
  return out;
}
