// Half an emoji never leaves the page. Quill's own Delete and Backspace, and
// some selections, can cut a surrogate pair in two; the server refuses a
// change that leaves half of one (PROTOCOL.md: no lone surrogate), and the
// person's edits would end in the "not saved" dialog. This finds the halves a
// user change left behind, so the binding deletes them in the same change.
// Pure: `slice(index, length)` reads the document after the change.

import Delta from 'quill-delta';

const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;

// Indexes, in the document after `change`, where the change starts or ends a
// piece: the only places where it can have split a pair.
function boundaries(change) {
  const found = [];
  let index = 0;
  for (const op of change.ops) {
    if (op.insert != null) {
      const length = typeof op.insert === 'string' ? op.insert.length : 1;
      found.push(index, index + length);
      index += length;
    } else if (op.retain != null) {
      index += typeof op.retain === 'number' ? op.retain : 1;
      found.push(index);
    } else if (op.delete != null) {
      found.push(index);
    }
  }
  return found;
}

// The text of `slice(index, length)`, embeds as a character that is no half.
function textAt(slice, index, length) {
  if (length <= 0) return '';
  return slice(index, length)
    .ops.map((op) => (typeof op.insert === 'string' ? op.insert : '\ufffc'))
    .join('');
}

// Document indexes of the lone halves in [from, to) of the document after the
// change, read with one character of context on each side.
function halvesIn(slice, docLength, from, to, lone) {
  const start = Math.max(0, from - 1);
  const end = Math.min(docLength, to + 1);
  const text = textAt(slice, start, end - start);
  for (let i = Math.max(from, 0) - start; i < Math.min(to, docLength) - start; i++) {
    const code = text.charCodeAt(i);
    const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if ((isHigh(code) && !isLow(next)) || (isLow(code) && !isHigh(prev))) lone.add(start + i);
  }
}

// Document indexes of the lone halves the change left: around each of its
// boundaries and inside the text it inserted, in order.
export function loneHalves(change, slice, docLength) {
  const lone = new Set();
  let index = 0;
  for (const op of change.ops) {
    if (typeof op.insert === 'string') {
      halvesIn(slice, docLength, index, index + op.insert.length, lone);
      index += op.insert.length;
    } else if (op.insert != null) index += 1;
    else if (op.retain != null) index += typeof op.retain === 'number' ? op.retain : 1;
  }
  for (const at of boundaries(change)) halvesIn(slice, docLength, at - 1, at + 1, lone);
  return [...lone].sort((a, b) => a - b);
}

// The change that deletes the halves at `indexes` (ascending).
export function deletion(indexes) {
  const repair = new Delta();
  let at = 0;
  for (const index of indexes) {
    repair.retain(index - at).delete(1);
    at = index + 1;
  }
  return repair;
}
