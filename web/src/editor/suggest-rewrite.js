// Suggestion mode in the browser: each change the person makes is rewritten
// before it is sent (docs/protocol-notes.md, "Suggestion mode"). Inserted
// text gets suggest-insert by me; deleting text that is not my own pending
// insertion becomes a retain that marks it suggest-delete; deleting my own
// pending insertion really deletes it; formatting is not suggested. Outside
// suggestion mode, marks a change would set (typing inside someone's
// suggestion, a paste, an undo) are taken off, so an edit is plain text.
// Pure: Deltas in, Deltas out.

import Delta from 'quill-delta';
import { INSERT, DELETE, mark, markOf } from './suggest-marks.js';

// old: the document before the change; change: the person's change on it.
// Returns {send, refused}: `send` is what goes to the server, a change on
// `old` (the page is then made equal to old.compose(send)); `refused` names
// what of the change was left out ('format' or 'line break'), or is null.
// Line breaks are not suggested: Quill keeps no inline format on a line's
// "\n", so a mark there would differ between the page and the server.
export function rewriteChange(change, old, { me, suggesting, newId }) {
  if (!suggesting) return { send: withoutSetMarks(change), refused: null };
  let id = null;
  // One id per change, or the id of my own suggestion right next to it, so
  // that typing or deleting a word letter by letter stays one suggestion.
  const idNear = (pos, end, key) => {
    if (id) return id;
    const near = [markAt(old, pos - 1, key), markAt(old, end, key)].find((m) => m?.by === me);
    id = near?.id ?? newId();
    return id;
  };
  const send = new Delta();
  let refused = null;
  let pos = 0;
  for (const op of change.ops) {
    if (op.insert !== undefined) {
      const attributes = { ...op.attributes };
      delete attributes[DELETE];
      const own = markOf(attributes, INSERT);
      attributes[INSERT] = own?.by === me ? own : mark(idNear(pos, pos, INSERT), me);
      for (const part of pieces(op.insert)) {
        if (part === '\n') refused = 'line break';
        else send.insert(part, attributes);
      }
    } else if (op.retain !== undefined && withdrawsDeletion(op.attributes)) {
      // Undoing my suggested deletion: the mark goes where it is mine.
      for (const run of old.slice(pos, pos + op.retain).ops) {
        const length = typeof run.insert === 'string' ? run.insert.length : 1;
        send.retain(length, markOf(run.attributes, DELETE)?.by === me ? { [DELETE]: null } : undefined);
      }
      pos += op.retain;
    } else if (op.retain !== undefined) {
      if (op.attributes) refused = 'format';
      send.retain(op.retain);
      pos += op.retain;
    } else {
      const end = pos + op.delete;
      for (const run of old.slice(pos, end).ops) {
        for (const part of pieces(run.insert)) {
          const length = typeof part === 'string' ? part.length : 1;
          if (part === '\n') {
            refused = 'line break';
            send.retain(length);
          } else if (markOf(run.attributes, INSERT)?.by === me) send.delete(length);
          else if (markOf(run.attributes, DELETE)) send.retain(length);
          else send.retain(length, { [DELETE]: mark(idNear(pos, end, DELETE), me) });
        }
      }
      pos = end;
    }
  }
  return { send: send.chop(), refused };
}

function withdrawsDeletion(attributes) {
  return !!attributes && Object.keys(attributes).length === 1 && attributes[DELETE] === null;
}

// Text split into its line breaks and what lies between; an embed is one piece.
function pieces(insert) {
  return typeof insert === 'string' ? insert.split(/(\n)/).filter(Boolean) : [insert];
}

// The change with every suggestion mark it would set removed; clearing a
// mark (null: accept, reject) stays.
export function withoutSetMarks(change) {
  let changed = false;
  const ops = change.ops.map((op) => {
    if (!op.attributes || !(hasSet(op.attributes, INSERT) || hasSet(op.attributes, DELETE))) return op;
    changed = true;
    const attributes = { ...op.attributes };
    if (hasSet(attributes, INSERT)) delete attributes[INSERT];
    if (hasSet(attributes, DELETE)) delete attributes[DELETE];
    const { attributes: _, ...rest } = op;
    return Object.keys(attributes).length ? { ...rest, attributes } : rest;
  });
  return changed ? new Delta(ops).chop() : change;
}

function hasSet(attributes, key) {
  return attributes[key] != null;
}

function markAt(doc, index, key) {
  if (index < 0 || index >= doc.length()) return null;
  return markOf(doc.slice(index, index + 1).ops[0]?.attributes, key);
}

// What turns the page (old.compose(change)) into old.compose(send); null
// when they are the same.
export function pageFix(change, send, old) {
  if (send === change) return null;
  if (JSON.stringify(change.ops) === JSON.stringify(send.ops)) return null;
  const fix = change.invert(old).compose(send);
  return fix.ops.length ? fix : null;
}
