// The toolbar's names and tooltips (issue 19 item 5): every control the
// real toolbar can show is called something a person would say, with the
// shortcut Quill binds for it, Ctrl on a PC and ⌘ on a Mac.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { toolbarGroups, describeControl, headingChoiceName, isMacPlatform } from '../../src/editor/toolbar.js';

const FORMATS = JSON.parse(fs.readFileSync(new URL('../../src/formats.json', import.meta.url), 'utf8'));
const ALLOWED = [...FORMATS.inline, ...FORMATS.line, ...FORMATS.embeds];

// Each control of the toolbar as Quill builds it: a format and, for buttons
// of one format with several values, the button's value.
function controls(groups) {
  return groups.flat().flatMap((c) => {
    if (typeof c === 'string') return [{ format: c, value: '' }];
    const [format, value] = Object.entries(c)[0];
    return [{ format, value: Array.isArray(value) ? '' : value }];
  });
}

test('every control of the toolbar has a human name, no two alike, and a tooltip that starts with it', () => {
  const all = controls(toolbarGroups(ALLOWED));
  assert.ok(all.length >= 12, `only ${all.length} controls`);
  const names = new Set();
  for (const { format, value } of all) {
    const text = describeControl(format, value);
    assert.ok(text, `${format} ${value} has no name`);
    assert.match(text.name, /^[A-Z][a-z]+( [a-z]+)*$/, `${format} ${value} is called "${text.name}"`);
    assert.ok(text.title.startsWith(text.name), text.title);
    assert.ok(!names.has(text.name), `two controls are called ${text.name}`);
    names.add(text.name);
  }
  assert.ok(names.has('Inline code') && names.has('Code block'));
});

test('the shortcuts Quill binds are in the tooltips, as the platform writes them', () => {
  assert.equal(describeControl('bold', '').title, 'Bold (Ctrl+B)');
  assert.equal(describeControl('italic', '', { mac: true }).title, 'Italic (⌘I)');
  assert.equal(describeControl('link', '').title, 'Link (Ctrl+K)');
  assert.equal(describeControl('indent', '+1', { mac: true }).title, 'Increase indent (Tab in a list)');
  assert.equal(describeControl('list', 'check').title, 'Checklist');
  assert.equal(describeControl('no-such-format', ''), null);
});

test('Mac as Quill tells it; the heading choices by level', () => {
  assert.ok(isMacPlatform('MacIntel'));
  assert.ok(!isMacPlatform('Win32') && !isMacPlatform('Linux x86_64') && !isMacPlatform(undefined));
  assert.equal(headingChoiceName('2'), 'Heading 2');
  assert.equal(headingChoiceName(null), 'Normal text');
});

test('a format left out of the allowed list leaves the toolbar, "clear formatting" stays', () => {
  const groups = toolbarGroups(ALLOWED.filter((f) => f !== 'list'));
  assert.ok(!controls(groups).some((c) => c.format === 'list'));
  assert.deepEqual(groups.at(-1), ['clean']);
});
