// The keyboard shortcuts help (issue 16), Ctrl+/ or ⌘/: a dialog listing
// what works in the editor, built from the tables that make the keys work
// (toolbar.js for formatting, markdown-shortcuts.js for Markdown,
// writer-keys.js for find and this help), so it cannot drift from them.
// Quill's own keys (undo, redo, list autofill) are listed as Quill 2 binds them.

import { h } from './dom.js';
import { makeModal } from './modal.js';
import { controlShortcuts, describeControl, headingChoiceName } from '../editor/toolbar.js';
import { markdownMarkers } from '../editor/markdown-shortcuts.js';
import { writerKeyText } from '../editor/writer-keys.js';

let seq = 0;

// Quill's history module: Ctrl+Z, Ctrl+Shift+Z (and Ctrl+Y where
// navigator.platform says Windows, its own test); its keyboard module turns
// "- ", "* ", "1. " and "[ ] " into lists.
function quillShortcuts(mac, windows) {
  const mod = mac ? '⌘' : 'Ctrl+';
  const shift = mac ? '⌘⇧' : 'Ctrl+Shift+';
  return {
    history: [
      { name: 'Undo', keys: `${mod}Z` },
      { name: 'Redo', keys: windows ? `${shift}Z or Ctrl+Y` : `${shift}Z` },
    ],
    lists: [
      { name: 'Bulleted list', keys: '- or * then Space' },
      { name: 'Numbered list', keys: '1. then Space' },
      { name: 'Checklist', keys: '[ ] then Space' },
    ],
  };
}

function markdownName(format) {
  const [name, value] = Object.entries(format)[0];
  return name === 'header' ? headingChoiceName(value) : describeControl(name)?.name ?? name;
}

// [{ title, rows: [{ name, keys }] }]
export function shortcutSections({ mac = false, windows = false } = {}) {
  const quill = quillShortcuts(mac, windows);
  const markdown = markdownMarkers().map(([marker, format]) => ({
    name: markdownName(format),
    keys: marker === '```' ? '``` then Space or Enter' : `${marker} then Space`,
  }));
  return [
    { title: 'Text', rows: [...quill.history, ...controlShortcuts({ mac })] },
    { title: 'Markdown at the start of a line', rows: [...markdown, ...quill.lists] },
    {
      title: 'Tools',
      rows: [
        { name: 'Find', keys: writerKeyText('find', { mac }) },
        { name: 'Find and replace', keys: writerKeyText('replace', { mac }) },
        { name: 'Next or previous match', keys: 'Enter, Shift+Enter' },
        { name: 'Outline of the headings', keys: 'Outline, bottom left' },
        { name: 'Comment on the selected text', keys: mac ? '⌘⌥M' : 'Ctrl+Alt+M' },
        { name: 'Print or save as PDF', keys: mac ? '⌘P' : 'Ctrl+P' },
        { name: 'Keyboard shortcuts', keys: writerKeyText('help', { mac }) },
      ],
    },
  ];
}

export function createShortcutsHelp({ root, quill, mac, windows }) {
  const uid = `qe-keys-${++seq}`;
  const closeButton = h('button', { type: 'button', class: 'qe-icon-btn', 'aria-label': 'Close', text: '×' });
  const sections = shortcutSections({ mac, windows }).map(({ title, rows }) => h('section', { class: 'qe-keys-section' },
    h('h3', { text: title }),
    h('dl', { class: 'qe-keys-list' }, rows.map(({ name, keys }) => h('div', { class: 'qe-keys-row' },
      h('dt', { text: name }), h('dd', {}, h('kbd', { text: keys })))))));
  const dialog = h('dialog', { class: 'qe-dialog qe-keys-dialog', 'aria-labelledby': `${uid}-t` },
    h('div', { class: 'qe-dlg-head' }, h('h2', { id: `${uid}-t`, text: 'Keyboard shortcuts' }), closeButton),
    h('div', { class: 'qe-keys-body' }, sections));
  root.append(dialog);

  // Back in the text, the caret where it was (focus alone would not put it back).
  let selection = null;
  const modal = makeModal(dialog, {
    onClose: () => {
      const range = selection;
      selection = null;
      if (range) setTimeout(() => quill.setSelection(range, 'user'));
    },
  });
  closeButton.addEventListener('click', () => modal.close());

  function open() {
    selection = quill.hasFocus() ? quill.getSelection() : null;
    modal.open(closeButton);
  }
  return { open, close: () => modal.close(), dialog, get isOpen() { return modal.isOpen; } };
}
