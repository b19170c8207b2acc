// The document's outline without the DOM: its headings (levels 1 to 3) with
// the index where each line starts, read from the document's Delta. The side
// panel (ui/outline-panel.js) lists them.

const LEVELS = new Set([1, 2, 3]);

// [{ index, level, text }] in document order. A heading with no text is left
// out, as Google Docs does: there would be nothing to click.
export function headingsOf(ops) {
  const out = [];
  let lineStart = 0;
  let pos = 0;
  let text = '';
  for (const op of ops) {
    if (typeof op.insert !== 'string') {
      pos += 1; // an embed: one index, no text
      continue;
    }
    const parts = op.insert.split('\n');
    for (let i = 0; i < parts.length; i++) {
      text += parts[i];
      pos += parts[i].length;
      if (i === parts.length - 1) break;
      // A newline: it carries the line's formats.
      const level = op.attributes?.header;
      if (LEVELS.has(level) && text.trim()) out.push({ index: lineStart, level, text: text.trim() });
      pos += 1;
      lineStart = pos;
      text = '';
    }
  }
  return out;
}

// Same headings at the same places: the list on screen needs no redraw.
export function sameHeadings(a, b) {
  return a.length === b.length && a.every((x, i) => x.index === b[i].index && x.level === b[i].level && x.text === b[i].text);
}
