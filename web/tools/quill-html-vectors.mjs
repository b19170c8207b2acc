// Quill's own HTML for the Deltas Quire exports: loads the pinned Quill under
// jsdom, configured with the editor's formats (src/formats.json), and writes
// quill.getSemanticHTML() of each case to ../tests/data/convert/quill-html.json,
// which tests/it/convert_reference.rs compares with Quire's HTML export.
//
//   node tools/quill-html-vectors.mjs           writes the file
//   node tools/quill-html-vectors.mjs --check   fails if Quill no longer gives exactly the committed file
//
// The cases are the golden document (tests/data/convert/all-formats.delta.json)
// and the small Deltas below, one for each thing a reader would notice.

import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const OUT = join(root, 'tests/data/convert/quill-html.json');
const require = createRequire(import.meta.url);

const nl = (attributes) => (attributes ? { insert: '\n', attributes } : { insert: '\n' });
const text = (insert, attributes) => (attributes ? { insert, attributes } : { insert });

// name -> ops. Names are the keys the Rust test reports and lists differences by.
const CASES = [
  ['all-formats', JSON.parse(readFileSync(join(root, 'tests/data/convert/all-formats.delta.json'), 'utf8'))],
  ['headers', [text('One'), nl({ header: 1 }), text('Two'), nl({ header: 2 }), text('Three'), nl({ header: 3 }),
    text('Body'), nl()]],
  ['header-with-marks', [text('A '), text('bold', { bold: true }), text(' title'), nl({ header: 2 })]],
  ['marks-nested', [text('x', { bold: true }), text('y', { bold: true, italic: true }),
    text('z', { italic: true, underline: true }), text('w', { strike: true, code: true }), nl()]],
  ['link-around-marks', [text('a ', { link: 'https://example.com/' }),
    text('b', { link: 'https://example.com/', italic: true }), text(' c', { link: 'https://example.com/' }),
    text(' then '), text('other', { link: 'https://example.org/x?y=1&z=2' }), nl()]],
  ['adjacent-links', [text('one', { link: 'https://a.example/' }), text('two', { link: 'https://b.example/' }), nl()]],
  ['code-inline-with-marks', [text('bold code', { code: true, bold: true }), text(' and '),
    text('<tag> & "q"', { code: true }), nl()]],
  ['spaces', [text('  two leading, two  inside, one trailing '), nl()]],
  ['empty-lines', [text('\n'), text('between'), nl(), text('\n\n')]],
  ['empty-document', [nl()]],
  ['paragraphs', [text('one\ntwo\nthree\n')]],
  ['quote', [text('quoted '), text('bold', { bold: true }), nl({ blockquote: true }), text('second'),
    nl({ blockquote: true }), text('after'), nl()]],
  ['quote-empty-line', [text('a'), nl({ blockquote: true }), nl({ blockquote: true }), text('b'),
    nl({ blockquote: true })]],
  ['code-block', [text('let a = 1;'), nl({ 'code-block': true }), nl({ 'code-block': true }),
    text('  <b> & "x"'), nl({ 'code-block': true }), text('after'), nl()]],
  ['code-block-languages', [text('x = 1'), nl({ 'code-block': 'python' }), text('y'), nl({ 'code-block': 'plain' }),
    text('z'), nl({ 'code-block': true })]],
  ['bullets', [text('a'), nl({ list: 'bullet' }), text('b'), nl({ list: 'bullet' })]],
  ['ordered', [text('a'), nl({ list: 'ordered' }), text('b'), nl({ list: 'ordered' }), text('c'), nl({ list: 'ordered' })]],
  ['checklist', [text('done'), nl({ list: 'checked' }), text('open'), nl({ list: 'unchecked' })]],
  ['nested', [text('a'), nl({ list: 'bullet' }), text('a.1'), nl({ list: 'bullet', indent: 1 }),
    text('a.1.1'), nl({ list: 'bullet', indent: 2 }), text('a.2'), nl({ list: 'bullet', indent: 1 }),
    text('b'), nl({ list: 'bullet' })]],
  ['nested-mixed-kinds', [text('a'), nl({ list: 'ordered' }), text('a.1'), nl({ list: 'bullet', indent: 1 }),
    text('a.2'), nl({ list: 'checked', indent: 1 }), text('b'), nl({ list: 'ordered' })]],
  ['kinds-change-at-top', [text('bullet'), nl({ list: 'bullet' }), text('ordered'), nl({ list: 'ordered' }),
    text('checked'), nl({ list: 'checked' }), text('bullet again'), nl({ list: 'bullet' })]],
  ['indent-jump', [text('top'), nl({ list: 'bullet' }), text('two deeper'), nl({ list: 'bullet', indent: 2 }),
    text('top again'), nl({ list: 'bullet' })]],
  ['list-starts-nested', [text('deep first'), nl({ list: 'ordered', indent: 1 }), text('top'), nl({ list: 'ordered' })]],
  ['list-item-marks', [text('item with '), text('link', { link: 'mailto:a@example.com' }), text(' and '),
    text('code', { code: true }), nl({ list: 'bullet' }), nl({ list: 'bullet' })]],
  ['list-between-paragraphs', [text('before'), nl(), text('item'), nl({ list: 'ordered' }), text('after'), nl()]],
  ['two-lists-split-by-paragraph', [text('one'), nl({ list: 'ordered' }), text('break'), nl(), text('one again'),
    nl({ list: 'ordered' })]],
  ['unicode', [text('café 日本語 😀 👩‍👩‍👧', { bold: true }), nl()]],
  ['unsafe-link', [text('click', { link: 'javascript:alert(1)' }), nl()]],
  ['header-4', [text('Four'), nl({ header: 4 })]],
  ['indent-on-paragraph', [text('indented'), nl({ indent: 1 })]],
  ['align-is-not-a-format', [text('centred'), nl({ align: 'center' })]],
  ['table', [text('Before'), nl(),
    text('Item'), nl({ table: 'row-a1' }), text('Qty', { bold: true }), nl({ table: 'row-a1' }),
    text('Apples', { link: 'https://example.com/' }), nl({ table: 'row-b2' }), text('3 '), text('ripe', { italic: true }),
    nl({ table: 'row-b2' }),
    text('after'), nl()]],
  ['table-empty-cells', [text('a'), nl({ table: 'row-1' }), nl({ table: 'row-1' }), nl({ table: 'row-2' }),
    text('  spaced  '), nl({ table: 'row-2' })]],
  ['table-then-list', [text('x'), nl({ table: 'row-x' }), text('y'), nl({ table: 'row-x' }), text('item'),
    nl({ list: 'bullet' })]],
];

function setUpDom() {
  const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>', { pretendToBeVisual: true });
  const { window } = dom;
  // Quill reads these globals when its modules load and when it renders.
  for (const name of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Text',
    'MutationObserver', 'getComputedStyle', 'requestAnimationFrame', 'DOMParser', 'KeyboardEvent',
    'MouseEvent', 'Event', 'CustomEvent', 'Range', 'Selection']) {
    if (name in window) Object.defineProperty(globalThis, name, { value: window[name], configurable: true, writable: true });
  }
  // jsdom has no layout, so no innerText, which Quill reads for the text of code-block lines. Those lines hold
  // only text (an empty one is skipped before), and Quill's CSS keeps their white space, so in a browser their
  // innerText is their textContent.
  Object.defineProperty(window.HTMLElement.prototype, 'innerText', {
    get() { return this.textContent; },
    configurable: true,
  });
  return window;
}

async function render() {
  setUpDom();
  const { default: Quill } = await import('quill');
  const formats = JSON.parse(readFileSync(join(here, '../src/formats.json'), 'utf8'));
  const allowed = [...formats.inline, ...formats.line, ...formats.embeds];
  const cases = CASES.map(([name, ops]) => {
    const container = document.createElement('div');
    document.body.appendChild(container);
    const quill = new Quill(container, { formats: allowed });
    quill.setContents(ops, 'api');
    const html = quill.getSemanticHTML();
    container.remove();
    return { name, delta: ops, html };
  });
  const header = {
    comment: 'Written by web/tools/quill-html-vectors.mjs: Quill getSemanticHTML() of each Delta, with the editor\'s formats. Do not edit.',
    quill: require('quill/package.json').version,
    jsdom: require('jsdom/package.json').version,
  };
  return `${JSON.stringify({ ...header, cases }, null, 1)}\n`;
}

const fresh = await render();
if (process.argv.includes('--check')) {
  const committed = readFileSync(OUT, 'utf8');
  if (committed !== fresh) {
    const a = committed.split('\n');
    const b = fresh.split('\n');
    const i = a.findIndex((line, n) => line !== b[n]);
    console.error(`${OUT} differs from what Quill writes now, first at line ${i + 1}:\n  committed ${a[i]}\n  quill     ${b[i]}`);
    console.error('rerun node tools/quill-html-vectors.mjs in web/ and review the diff');
    process.exit(1);
  }
  console.log(`quill html vectors: ${CASES.length} cases match quill ${require('quill/package.json').version}`);
} else {
  writeFileSync(OUT, fresh);
  console.log(`wrote ${CASES.length} cases to ${OUT}`);
}
// Quill and jsdom leave timers behind; the work is done.
process.exit(0);
