// Identity helpers shared by the page and the node tests. Pure apart from
// crypto.getRandomValues (present in browsers and node >= 19).

// PROTOCOL.md: at least 128 random bits, kept across reconnects of one page
// and document. 16 bytes, base64url without padding.
export function randomClientId() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Colours readable as text background with white initials (WCAG AA-ish) and
// distinct from each other; a stable pick per user so a person keeps the same
// colour in every tab and for every viewer.
export const PALETTE = [
  '#c2410c', '#b45309', '#4d7c0f', '#047857', '#0e7490', '#1d4ed8',
  '#6d28d9', '#a21caf', '#be123c', '#475569', '#15803d', '#7c2d12',
];

export function colorFor(key) {
  let h = 2166136261; // FNV-1a: tiny, stable, good enough for bucketing
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return PALETTE[(h >>> 0) % PALETTE.length];
}

// "Ada Lovelace" -> "AL", "ada" -> "A", "" -> "?". Uses code points so an
// emoji or accented first letter is not cut in half.
export function initials(name) {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = (w) => Array.from(w)[0].toUpperCase();
  if (words.length === 1) return first(words[0]);
  return first(words[0]) + first(words[words.length - 1]);
}
