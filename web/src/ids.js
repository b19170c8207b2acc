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

// Colours live in colors.js; re-exported for the callers that import them here.
export { PALETTE, colorFor } from './colors.js';

// "Ada Lovelace" -> "AL", "ada" -> "A", "" -> "?". Uses code points so an
// emoji or accented first letter is not cut in half.
export function initials(name) {
  const words = String(name ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = (w) => Array.from(w)[0].toUpperCase();
  if (words.length === 1) return first(words[0]);
  return first(words[0]) + first(words[words.length - 1]);
}
