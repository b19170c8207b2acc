// Markdown at the start of a line (issue 19, item 10), as Quill does for
// lists ("- ", "1. "): "# ", "## ", "### " make a heading, "> " a quote,
// "```" then a space or Enter a code block. The marker goes and the line
// takes the format, in one change with source 'user' (sent like typing).
// The space is typed first and the undo history cut before and after, so
// one Ctrl+Z gives back the marker as it was typed, as in Google Docs.

import Delta from 'quill-delta';

// Marker (the text before the caret, alone at the line's start) → line format.
const BLOCKS = {
  '#': { header: 1 },
  '##': { header: 2 },
  '###': { header: 3 },
  '>': { blockquote: true },
  '```': { 'code-block': true },
};

// [[marker, line format]] for the shortcuts help.
export const markdownMarkers = () => Object.entries(BLOCKS);

export function blockFormatFor(marker) {
  return Object.hasOwn(BLOCKS, marker) ? BLOCKS[marker] : null;
}

// The change that deletes the `markerLength` characters at `lineStart` and
// gives the line (`lineLength` characters, its newline included, marker
// included) the format.
export function blockShortcutDelta({ lineStart, markerLength, lineLength }, format) {
  return new Delta()
    .retain(lineStart)
    .delete(markerLength)
    .retain(lineLength - markerLength - 1)
    .retain(1, format);
}

// Not inside code (where "# " is code) and not in a list item, which keeps
// its list ("# " typed there stays text, as Quill's list autofill does).
const PLAIN_LINE = { 'code-block': false, list: false };

export function markdownBindings() {
  return {
    'quire markdown block on space': {
      key: ' ',
      shiftKey: null,
      collapsed: true,
      format: PLAIN_LINE,
      prefix: /^(#{1,3}|>|```)$/,
      handler(range, context) {
        return convertLine(this.quill, range, context.prefix, { typeSpace: true });
      },
    },
    'quire markdown code block on enter': {
      key: 'Enter',
      collapsed: true,
      format: PLAIN_LINE,
      prefix: /^```$/,
      handler(range, context) {
        return convertLine(this.quill, range, context.prefix, { typeSpace: false });
      },
    },
  };
}

// true lets Quill (and the browser) handle the key as usual.
function convertLine(quill, range, marker, { typeSpace }) {
  const format = blockFormatFor(marker);
  const [line, offset] = quill.getLine(range.index);
  // The prefix is the text of the leaf at the caret: it must also be the
  // whole of the line before the caret, and the format must exist here.
  if (!format || !line || offset !== marker.length) return true;
  const lineStart = range.index - offset;
  quill.history.cutoff();
  if (typeSpace) {
    quill.insertText(range.index, ' ', 'user');
    quill.history.cutoff();
  }
  const markerLength = marker.length + (typeSpace ? 1 : 0);
  const lineFormat = { ...replaced(line.formats(), format), ...format };
  quill.updateContents(blockShortcutDelta({ lineStart, markerLength, lineLength: line.length() }, lineFormat), 'user');
  quill.history.cutoff();
  quill.setSelection(lineStart, 0, 'silent');
  return false;
}

// A line is a heading or a quote, not both: "# " in a quote makes it a
// heading instead, so the format it had goes (null removes it).
function replaced(current, format) {
  const out = {};
  for (const name of ['header', 'blockquote']) if (current[name] != null && !(name in format)) out[name] = null;
  return out;
}
