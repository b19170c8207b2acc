// Half an emoji never leaves the page. Quill's own Delete and Backspace, and
// some selections, can cut a surrogate pair in two; the server refuses a
// change that leaves half of one (PROTOCOL.md: no lone surrogate), and the
// person's edits would end in the "not saved" dialog. This finds the halves a
// user change left behind, so the binding deletes them in the same change.
// A change can also cut pairs while both documents stay whole: Quill turns
// typed text into a change with quill-delta's diff, whose semantic cleanup
// slides an edit along text it shares with a neighbour, code unit by code
// unit. Typing 👩 (d83d dc69) just before 😀 (d83d de00) gives
// retain(i + 1) insert("\udc69\ud83d"): the document after it is right, the
// op holds two halves and the server refuses it. alignedToCodePoints widens
// such an edit to whole characters.
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

// The code unit at `index` of a document read through `slice`, or 0 where
// there is none or an embed.
function unitAt(slice, index) {
  if (index < 0) return 0;
  const op = slice(index, 1).ops[0];
  return typeof op?.insert === 'string' ? op.insert.charCodeAt(0) : 0;
}

const opLength = (op) => {
  if (op.insert != null) return typeof op.insert === 'string' ? op.insert.length : 1;
  if (op.retain != null) return typeof op.retain === 'number' ? op.retain : 1;
  return op.delete;
};

// `change`, turning the document read by `sliceBefore` (of length
// `beforeLength`) into the one read by `sliceAfter`, with every run of inserts
// and deletes widened so that none starts or ends inside a surrogate pair of
// either document: its inserts hold whole characters and it keeps to the
// server's rule that no boundary splits a pair. Both documents must be free
// of lone halves (loneHalves has been repaired). Returns `change` itself when
// nothing is cut, which is the usual case. Two retains that meet inside a
// pair (a format change starting there) are left as they are: Quill formats
// selections, and those hold whole characters.
export function alignedToCodePoints(change, sliceBefore, beforeLength, sliceAfter) {
  // Pieces in order: retains (kept ops) and edits (a run of inserts and
  // deletes: `removed` units of the old document replaced by `added` of the
  // new one), with the implicit retain of the rest made explicit.
  const pieces = [];
  let oldLength = 0;
  for (const op of change.ops) {
    const n = opLength(op);
    if (op.retain != null) {
      pieces.push({ retain: true, op, length: n });
      oldLength += n;
      continue;
    }
    let last = pieces[pieces.length - 1];
    if (!last || last.retain) pieces.push((last = { retain: false, removed: 0, added: 0 }));
    if (op.delete != null) {
      last.removed += n;
      oldLength += n;
    } else last.added += n;
  }
  if (oldLength < beforeLength) pieces.push({ retain: true, op: { retain: beforeLength - oldLength }, length: beforeLength - oldLength });

  const counted = (piece) => piece?.retain && typeof piece.op.retain === 'number';
  let widened = false;
  let oldAt = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (piece.retain) {
      oldAt += piece.length;
      continue;
    }
    // A retained high half just before the edit, or low half just after it,
    // belongs to a pair the edit cuts: take it into the edit (it is deleted
    // and inserted again, with its attributes in the new document).
    const before = pieces[i - 1];
    if (counted(before) && before.length > 0 && isHigh(unitAt(sliceBefore, oldAt - 1))) {
      before.length -= 1;
      piece.removed += 1;
      piece.added += 1;
      oldAt -= 1;
      widened = true;
    }
    const after = pieces[i + 1];
    if (counted(after) && after.length > 0 && isLow(unitAt(sliceBefore, oldAt + piece.removed))) {
      after.length -= 1;
      piece.removed += 1;
      piece.added += 1;
      widened = true;
    }
    oldAt += piece.removed;
  }
  if (!widened) return change;

  // Rebuild: retains as they were (shortened), each edit as the text of the
  // new document it produces, then its deletion.
  const aligned = new Delta();
  let newAt = 0;
  let pending = null; // consecutive edits (a retain between them was used up)
  const flush = () => {
    if (!pending) return;
    if (pending.added > 0) for (const op of sliceAfter(newAt, pending.added).ops) aligned.push(op);
    if (pending.removed > 0) aligned.delete(pending.removed);
    newAt += pending.added;
    pending = null;
  };
  for (const piece of pieces) {
    if (piece.retain) {
      if (piece.length === 0) continue;
      flush();
      if (typeof piece.op.retain === 'number') aligned.retain(piece.length, piece.op.attributes);
      else aligned.push(piece.op);
      newAt += piece.length;
    } else {
      pending ??= { removed: 0, added: 0 };
      pending.removed += piece.removed;
      pending.added += piece.added;
    }
  }
  flush();
  return aligned.chop();
}
