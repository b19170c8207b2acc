// Accept and reject: ordinary ops that an owner's or editor's page builds
// from its document (docs/protocol-notes.md, "Suggestion mode"). Accepting
// keeps suggested text (its suggest-insert mark is cleared) and deletes text
// suggested for deletion; rejecting does the reverse. `id` null: every
// suggestion at once (Accept all / Reject all). Pure.

import Delta from 'quill-delta';
import { INSERT, DELETE, markOf } from './suggest-marks.js';

export function acceptOp(doc, id = null) {
  return resolveOp(doc, id, { keep: INSERT, drop: DELETE });
}

export function rejectOp(doc, id = null) {
  return resolveOp(doc, id, { keep: DELETE, drop: INSERT });
}

// `drop` runs of the suggestion are deleted, `keep` runs lose their mark.
// Text with both marks (someone proposed deleting a suggested insertion)
// goes when either side says drop.
function resolveOp(doc, id, { keep, drop }) {
  const matches = (attributes, key) => {
    const m = markOf(attributes, key);
    return !!m && (id === null || m.id === id);
  };
  const op = new Delta();
  for (const run of doc.ops) {
    const length = typeof run.insert === 'string' ? run.insert.length : 1;
    if (matches(run.attributes, drop)) op.delete(length);
    else if (matches(run.attributes, keep)) op.retain(length, { [keep]: null });
    else op.retain(length);
  }
  return op.chop();
}
