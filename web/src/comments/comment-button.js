// The toolbar's Comment button: enabled while text is selected and the role
// may comment, also Ctrl+Alt+M (⌘⌥M on a Mac) anywhere on the page but in a
// dialog. For a commenter it is the only toolbar control (editor.css).

import { h } from '../ui/dom.js';
import { isMacPlatform } from '../editor/toolbar.js';

const ICON = '<svg viewBox="0 0 18 18" aria-hidden="true"><path class="ql-stroke" d="M3 3.5h12a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H8l-3.5 3v-3H3a1 1 0 0 1-1-1v-7a1 1 0 0 1 1-1z"/><line class="ql-stroke" x1="5.5" y1="7" x2="12.5" y2="7"/><line class="ql-stroke" x1="5.5" y1="9.5" x2="10.5" y2="9.5"/></svg>';

// A read of the browser's selection in the editor, without quill.update(): it
// runs on every selectionchange, and must not flush the editor mid-composition.
export function currentSelection(quill) {
  return quill.composition?.isComposing ? null : quill.selection.getRange()[0];
}

// allowed() -> whether the person may comment now; comment(sel) with the
// selected range, or null when nothing is selected.
export function installCommentButton(quill, { allowed, comment }) {
  const keys = isMacPlatform(navigator.platform) ? '⌘⌥M' : 'Ctrl+Alt+M';
  const button = h('button', { type: 'button', class: 'qe-comment-btn', 'aria-label': 'Comment', title: `Comment on the selected text (${keys})` });
  button.innerHTML = ICON; // a constant: no data in it
  // Keep the text selected (and the editor focused) when it is clicked.
  button.addEventListener('mousedown', (e) => e.preventDefault());
  button.addEventListener('click', () => start());
  quill.getModule('toolbar')?.container?.append(h('span', { class: 'ql-formats qe-comment-tools' }, button));

  function update() {
    const sel = currentSelection(quill);
    button.disabled = !allowed() || !sel || sel.length === 0;
  }

  function start() {
    if (!allowed()) return;
    const sel = quill.getSelection(false) ?? quill.selection.savedRange;
    comment(sel && sel.length > 0 ? sel : null);
  }

  quill.on('selection-change', update);
  document.addEventListener('selectionchange', () => update());
  window.addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || !e.altKey || e.code !== 'KeyM') return;
    if (document.querySelector('dialog[open]')) return;
    e.preventDefault();
    start();
  });

  return { button, update, start };
}
