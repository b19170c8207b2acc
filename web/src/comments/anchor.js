// How a comment's anchor moves through a change, the server's rule
// (src/hub/anchor.rs, docs/protocol-notes.md "How an anchor moves") on
// quill-delta's transformPosition: an insert exactly at either boundary stays
// outside, one strictly inside joins the range, and a range whose text is all
// deleted is orphaned for good and moves on as a point.

import Delta from 'quill-delta';

// anchor: {start, end, orphaned}; op: a Delta (or anything with ops).
export function moveAnchor(op, anchor) {
  const delta = op instanceof Delta ? op : new Delta(op?.ops ?? op ?? []);
  const end = delta.transformPosition(anchor.end, true);
  if (anchor.orphaned) return { start: end, end, orphaned: true };
  const start = delta.transformPosition(anchor.start, false);
  if (end <= start) return { start: end, end, orphaned: true };
  return { start, end, orphaned: false };
}

// Through several changes in order (the client's outstanding op, then its buffer).
export function moveThrough(ops, anchor) {
  return ops.reduce((a, op) => (op ? moveAnchor(op, a) : a), anchor);
}
