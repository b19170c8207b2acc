// The Delta arithmetic behind the link editor (link-editor.js), pure so it
// is unit-tested: where the link under the caret starts and ends, and the
// one change that applies the editor's Text and Link fields.

import Delta from 'quill-delta';

// The run of characters around `index` (a caret position in the ops of one
// line, starting at 0) that share one link: the character before the caret
// counts first, as the caret at a link's end is still "in" it. Null when
// neither neighbour is linked.
export function linkAt(ops, index) {
  const runs = linkRuns(ops);
  const covering = (i) => runs.find((r) => i >= r.index && i < r.index + r.length);
  return covering(index - 1) ?? covering(index) ?? null;
}

// Consecutive inserts with the same link merge into one run: a link with a
// bold word in it is several ops but one link.
function linkRuns(ops) {
  const runs = [];
  let at = 0;
  for (const op of ops) {
    const length = typeof op.insert === 'string' ? op.insert.length : 1;
    const url = op.attributes?.link;
    const last = runs[runs.length - 1];
    if (url && last && last.url === url && last.index + last.length === at) last.length += length;
    else if (url) runs.push({ index: at, length, url, text: '' });
    if (url) runs[runs.length - 1].text += typeof op.insert === 'string' ? op.insert : '';
    at += length;
  }
  return runs;
}

// The change for "make [index, index+length) read `text`, linked to `url`".
// Unchanged text keeps each character's own formats (only the link is set);
// new text replaces the old and takes the inline formats its first character
// had (`formats`), as retyping over a bold word stays bold. An empty Text
// field shows the URL itself, as in Google Docs.
export function linkDelta({ index, length, text: oldText, formats = {} }, { text, url }) {
  const shown = text === '' ? url : text;
  const delta = new Delta().retain(index);
  if (shown === oldText && length > 0) return delta.retain(length, { link: url });
  const attributes = { ...formats, link: url };
  return (length > 0 ? delta.delete(length) : delta).insert(shown, attributes);
}
