// Find and replace without the DOM: the text of a document's Delta with
// positions that are Quill's indexes, the matches of a query in it, and the
// one change that replaces matches. The find bar (ui/find-bar.js) draws and
// drives them.

import Delta from 'quill-delta';

// An embed takes one index in Quill but has no text; this stands in for it
// so that text positions and document indexes stay the same.
const EMBED = '\uFFFC';

export function documentText(ops) {
  return ops.map((op) => (typeof op.insert === 'string' ? op.insert : EMBED)).join('');
}

// Lower case only where that keeps the length (a few letters, such as the
// Turkish İ, lower into two units), so positions in the folded text are
// positions in the original.
function fold(text) {
  let out = '';
  for (const ch of text) {
    const lower = ch.toLowerCase();
    out += lower.length === ch.length ? lower : ch;
  }
  return out;
}

// [{ index, length }] of each occurrence of `query` in `text`, left to right,
// never overlapping ("aaa" in "aaaa" is one match, as in a word processor).
export function findMatches(text, query, { matchCase = false } = {}) {
  if (!query) return [];
  const haystack = matchCase ? text : fold(text);
  const needle = matchCase ? query : fold(query);
  const out = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    out.push({ index: at, length: needle.length });
  }
  return out;
}

// The attributes of the character at `index` of the document `ops`.
export function formatsAt(ops, index) {
  let pos = 0;
  for (const op of ops) {
    const length = typeof op.insert === 'string' ? op.insert.length : 1;
    if (index < pos + length) return op.attributes ? { ...op.attributes } : {};
    pos += length;
  }
  return {};
}

// One change that puts `replacement` in place of every match (sorted, not
// overlapping), each with the formats of its own first character: a single
// op on the wire and a single step of undo.
export function replaceDelta(ops, matches, replacement) {
  const delta = new Delta();
  let pos = 0;
  for (const { index, length } of matches) {
    delta.retain(index - pos).delete(length);
    const formats = formatsAt(ops, index);
    if (replacement) delta.insert(replacement, Object.keys(formats).length ? formats : undefined);
    pos = index + length;
  }
  return delta.chop();
}

// Which match is the current one after the matches changed: the first that
// starts at or after where the current one was, else the first.
export function nearestMatch(matches, index) {
  if (!matches.length) return -1;
  const at = matches.findIndex((m) => m.index >= index);
  return at === -1 ? 0 : at;
}
