// The pure parts of the writer tools (issue 16): matches with and without
// case, the one replace-all change keeping each match's formats, headings
// read from a Delta, word and character counts, and the writer keys. The DOM
// around them is driven in Chromium by test/browser/writer-tools.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { documentText, findMatches, replaceDelta, formatsAt, nearestMatch } from '../../src/editor/find-matches.js';
import { headingsOf, sameHeadings } from '../../src/editor/outline.js';
import { countWords, countCharacters, countsText } from '../../src/editor/word-count.js';
import { writerAction, writerKeyText } from '../../src/editor/writer-keys.js';
import { controlShortcuts } from '../../src/editor/toolbar.js';
import { markdownMarkers } from '../../src/editor/markdown-shortcuts.js';
import { shortcutSections } from '../../src/ui/shortcuts-help.js';

test('find: case folded by default, exact with matchCase, never overlapping', () => {
  const text = 'Cat cat CAT concat\n';
  assert.deepEqual(findMatches(text, 'cat').map((m) => m.index), [0, 4, 8, 15]);
  assert.deepEqual(findMatches(text, 'cat', { matchCase: true }).map((m) => m.index), [4, 15]);
  assert.deepEqual(findMatches(text, 'CAT', { matchCase: true }), [{ index: 8, length: 3 }]);
  assert.deepEqual(findMatches('aaaa', 'aa').map((m) => m.index), [0, 2]);
  assert.deepEqual(findMatches(text, ''), []);
  assert.deepEqual(findMatches(text, 'dog'), []);
});

test('find: positions stay Quill indexes (letters that lower into two units, embeds)', () => {
  // "İ" lowers to two code units; the match after it must not shift.
  assert.deepEqual(findMatches('İx ab AB', 'ab'), [{ index: 3, length: 2 }, { index: 6, length: 2 }]);
  const text = documentText([{ insert: 'a' }, { insert: { image: 'x' } }, { insert: 'bc\n' }]);
  assert.equal(text.length, 5);
  assert.deepEqual(findMatches(text, 'bc'), [{ index: 2, length: 2 }]);
});

test('replace all: one Delta, each replacement with the formats of its first character', () => {
  const doc = new Delta()
    .insert('Say ')
    .insert('cat', { bold: true })
    .insert(' and c')
    .insert('at', { italic: true })
    .insert(' and CAT\n');
  const matches = findMatches(documentText(doc.ops), 'cat');
  assert.equal(matches.length, 3);
  const change = replaceDelta(doc.ops, matches, 'dog');
  assert.deepEqual(change.ops, [
    // quill-delta puts an insert before the delete at the same place.
    { retain: 4 }, { insert: 'dog', attributes: { bold: true } }, { delete: 3 },
    { retain: 5 }, { insert: 'dog' }, { delete: 3 },
    { retain: 5 }, { insert: 'dog' }, { delete: 3 },
  ]);
  assert.deepEqual(doc.compose(change).ops, [
    { insert: 'Say ' }, { insert: 'dog', attributes: { bold: true } }, { insert: ' and dog and dog\n' },
  ]);
  // An empty replacement deletes; no match changes nothing.
  assert.equal(documentText(doc.compose(replaceDelta(doc.ops, matches, '')).ops), 'Say  and  and \n');
  assert.deepEqual(replaceDelta(doc.ops, [], 'x').ops, []);
  assert.deepEqual(formatsAt(doc.ops, 14), { italic: true });
});

test('find: the current match after a change is the nearest at or after where it was', () => {
  const ms = [{ index: 2 }, { index: 9 }, { index: 20 }];
  assert.equal(nearestMatch(ms, 9), 1);
  assert.equal(nearestMatch(ms, 10), 2);
  assert.equal(nearestMatch(ms, 30), 0);
  assert.equal(nearestMatch([], 0), -1);
});

test('outline: headings 1 to 3 with where their lines start; empty ones and level 4 left out', () => {
  const doc = new Delta()
    .insert('Title').insert('\n', { header: 1 })
    .insert('Intro text\nPart ')
    .insert('one', { bold: true }).insert('\n', { header: 2 })
    .insert('\n', { header: 2 })
    .insert('Deep').insert('\n', { header: 4 })
    .insert('Detail').insert('\n', { header: 3 })
    .insert('end\n');
  const hs = headingsOf(doc.ops);
  assert.deepEqual(hs, [
    { index: 0, level: 1, text: 'Title' },
    { index: 17, level: 2, text: 'Part one' },
    { index: 32, level: 3, text: 'Detail' },
  ]);
  assert.equal(documentText(doc.ops).slice(17, 25), 'Part one');
  assert.ok(sameHeadings(hs, headingsOf(doc.ops)));
  assert.ok(!sameHeadings(hs, hs.slice(1)));
  assert.deepEqual(headingsOf(new Delta().insert('no headings\n').ops), []);
});

test('word count: runs of non-space, characters without line breaks, selection "of"', () => {
  assert.equal(countWords('  Hello,   world!\n\nSecond\tline — yes\n'), 6); // the dash too: split on white space
  assert.equal(countWords('\n'), 0);
  assert.equal(countCharacters('ab c\n'), 4);
  assert.equal(countCharacters('😀x\n'), 2);
  assert.equal(countsText('one two three\n'), '3 words · 13 characters');
  assert.equal(countsText('one\n'), '1 word · 3 characters');
  assert.equal(countsText('one two three\n', 'two thr'), '2 of 3 words · 7 of 13 characters');
});

test('writer keys: Ctrl on Windows and Linux, ⌘ (and ⌘⇧H) on a Mac, nothing with Alt', () => {
  const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  assert.equal(writerAction(key('f', { ctrlKey: true })), 'find');
  assert.equal(writerAction(key('h', { ctrlKey: true })), 'replace');
  assert.equal(writerAction(key('/', { ctrlKey: true })), 'help');
  assert.equal(writerAction(key('/', { ctrlKey: true, shiftKey: true })), 'help');
  assert.equal(writerAction(key('f', { ctrlKey: true, altKey: true })), null);
  assert.equal(writerAction(key('f')), null);
  assert.equal(writerAction(key('f', { metaKey: true })), null);
  assert.equal(writerAction(key('f', { metaKey: true }), { mac: true }), 'find');
  assert.equal(writerAction(key('h', { metaKey: true }), { mac: true }), null);
  assert.equal(writerAction(key('H', { metaKey: true, shiftKey: true }), { mac: true }), 'replace');
  assert.equal(writerKeyText('replace'), 'Ctrl+H');
  assert.equal(writerKeyText('replace', { mac: true }), '⌘⇧H');
  assert.equal(writerKeyText('help', { mac: true }), '⌘/');
});

test('the help lists the toolbar shortcuts from the toolbar table', () => {
  const list = controlShortcuts();
  assert.deepEqual(list.slice(0, 3), [{ name: 'Bold', keys: 'Ctrl+B' }, { name: 'Italic', keys: 'Ctrl+I' }, { name: 'Underline', keys: 'Ctrl+U' }]);
  assert.ok(list.some((c) => c.name === 'Link' && c.keys === 'Ctrl+K'));
  assert.ok(controlShortcuts({ mac: true }).some((c) => c.name === 'Bold' && c.keys === '⌘B'));
  assert.ok(!list.some((c) => c.name === 'Quote'), 'a control without a key is not a shortcut');
});

test('the help dialog\'s rows: every toolbar shortcut, every Markdown marker, the writer keys, on a Mac too', () => {
  for (const mac of [false, true]) {
    const rows = shortcutSections({ mac }).flatMap((s) => s.rows);
    const has = (name, keys) => rows.some((r) => r.name === name && r.keys === keys);
    for (const c of controlShortcuts({ mac })) assert.ok(has(c.name, c.keys), `${c.name} ${c.keys}`);
    for (const [marker] of markdownMarkers()) assert.ok(rows.some((r) => r.keys.startsWith(`${marker} then`)), marker);
    assert.ok(has('Heading 2', '## then Space') && has('Quote', '> then Space'));
    assert.ok(has('Find and replace', writerKeyText('replace', { mac })));
    assert.ok(has('Keyboard shortcuts', writerKeyText('help', { mac })));
    assert.ok(has('Undo', mac ? '⌘Z' : 'Ctrl+Z'));
    assert.ok(has('Redo', mac ? '⌘⇧Z' : 'Ctrl+Shift+Z'), 'Ctrl+Y is bound on Windows only');
  }
  assert.ok(shortcutSections({ windows: true }).flatMap((s) => s.rows).some((r) => r.name === 'Redo' && r.keys === 'Ctrl+Shift+Z or Ctrl+Y'));
});
