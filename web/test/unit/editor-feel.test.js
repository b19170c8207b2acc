// The pure parts of issue 19's items 7 and 10: where the link popover goes,
// the link under the caret and the change the link editor makes, and the
// Markdown shortcuts' formats and changes. The DOM around them is driven in
// Chromium by test/browser/editor-feel.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { placePopover, EDGE_GAP } from '../../src/editor/popover-place.js';
import { linkAt, linkDelta } from '../../src/editor/link-edits.js';
import { blockFormatFor, blockShortcutDelta } from '../../src/editor/markdown-shortcuts.js';

const phone = { width: 390, height: 800 };
const size = { width: 320, height: 120 };

test('popover: below the text, moved in from the left and right edges', () => {
  assert.deepEqual(placePopover({ left: 40, top: 200, bottom: 220 }, size, phone), { left: 40, top: 226 });
  // Text at the far left (even scrolled out to a negative x) and at the far right.
  assert.equal(placePopover({ left: -40, top: 200, bottom: 220 }, size, phone).left, EDGE_GAP);
  assert.equal(placePopover({ left: 380, top: 200, bottom: 220 }, size, phone).left, 390 - 320 - EDGE_GAP);
});

test('popover: above the text when it does not fit below, else as low as fits', () => {
  assert.equal(placePopover({ left: 10, top: 700, bottom: 720 }, size, phone).top, 700 - 6 - 120);
  const tiny = { width: 390, height: 150 };
  assert.equal(placePopover({ left: 10, top: 60, bottom: 80 }, size, tiny).top, 150 - EDGE_GAP - 120);
  // Wider than the window (CSS caps it, but still): pinned to the left edge.
  assert.equal(placePopover({ left: 200, top: 0, bottom: 20 }, { width: 500, height: 50 }, phone).left, EDGE_GAP);
});

const line = [
  { insert: 'See ' },
  { insert: 'the ', attributes: { link: 'https://a.test' } },
  { insert: 'docs', attributes: { link: 'https://a.test', bold: true } },
  { insert: ' and ' },
  { insert: 'more', attributes: { link: 'https://b.test' } },
  { insert: '\n' },
];

test('link under the caret: one run across format changes, the end counts, plain text does not', () => {
  const a = { index: 4, length: 8, url: 'https://a.test', text: 'the docs' };
  assert.deepEqual(linkAt(line, 5), a);
  assert.deepEqual(linkAt(line, 12), a); // just after "docs"
  assert.equal(linkAt(line, 4)?.url, 'https://a.test'); // just before "the"
  assert.equal(linkAt(line, 2), null);
  assert.equal(linkAt(line, 14), null); // inside " and "
  assert.deepEqual(linkAt(line, 18), { index: 17, length: 4, url: 'https://b.test', text: 'more' });
});

test('link change: same text keeps its formats, new text replaces it, an empty Text shows the URL', () => {
  const sel = { index: 4, length: 8, text: 'the docs' };
  assert.deepEqual(linkDelta(sel, { text: 'the docs', url: 'https://c.test' }),
    new Delta().retain(4).retain(8, { link: 'https://c.test' }));
  assert.deepEqual(linkDelta({ ...sel, formats: { bold: true } }, { text: 'manual', url: 'https://c.test' }),
    new Delta().retain(4).delete(8).insert('manual', { bold: true, link: 'https://c.test' }));
  assert.deepEqual(linkDelta({ index: 3, length: 0, text: '' }, { text: '', url: 'https://c.test' }),
    new Delta().retain(3).insert('https://c.test', { link: 'https://c.test' }));
  // Applied to a document, it gives the text with the link and nothing else changed.
  const doc = new Delta().insert('Hello world\n');
  const after = doc.compose(linkDelta({ index: 0, length: 5, text: 'Hello' }, { text: 'Hi', url: 'https://x.test' }));
  assert.deepEqual(after.ops, [{ insert: 'Hi', attributes: { link: 'https://x.test' } }, { insert: ' world\n' }]);
});

test('markdown shortcuts: the markers and their formats, nothing else', () => {
  assert.deepEqual(blockFormatFor('#'), { header: 1 });
  assert.deepEqual(blockFormatFor('##'), { header: 2 });
  assert.deepEqual(blockFormatFor('###'), { header: 3 });
  assert.deepEqual(blockFormatFor('>'), { blockquote: true });
  assert.deepEqual(blockFormatFor('```'), { 'code-block': true });
  for (const other of ['####', '-', '', 'toString', '``', '#>']) assert.equal(blockFormatFor(other), null, other);
});

test('markdown shortcuts: the marker and its space go, the line takes the format', () => {
  // "Intro\n# Title\n" with the caret after "# " (the space already typed).
  const doc = new Delta().insert('Intro\n# Title\n');
  const change = blockShortcutDelta({ lineStart: 6, markerLength: 2, lineLength: 8 }, { header: 1 });
  assert.deepEqual(doc.compose(change).ops, [{ insert: 'Intro\nTitle' }, { insert: '\n', attributes: { header: 1 } }]);
  const empty = new Delta().insert('```\n');
  assert.deepEqual(empty.compose(blockShortcutDelta({ lineStart: 0, markerLength: 3, lineLength: 4 }, { 'code-block': true })).ops,
    [{ insert: '\n', attributes: { 'code-block': true } }]);
});
