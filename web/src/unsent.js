// What to show a person whose pending edits could not be saved (reset,
// bad_op, forbidden): their version of the document as plain text, and the
// pieces of text they had typed, so nothing is dropped silently. Pure.

import Delta from 'quill-delta';

const text = (d) => d.ops.map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('');

// dropped: {base, outstanding: {op}|null, buffer} as OTClient hands it out.
export function unsentText(dropped) {
  if (!dropped) return null;
  const ops = [dropped.outstanding?.op, dropped.buffer].filter(Boolean);
  let doc = dropped.base ?? null;
  if (doc) for (const op of ops) doc = doc.compose(op);
  const typed = [];
  for (const op of ops) {
    for (const c of new Delta(op.ops).ops) {
      if (typeof c.insert === 'string' && c.insert.trim()) typed.push(c.insert);
    }
  }
  return { document: doc ? text(doc) : null, typed };
}
