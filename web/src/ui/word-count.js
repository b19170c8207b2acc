// The word and character count in the status bar (issue 16): the document's,
// and "12 of 340 words" while there is a selection. It follows every change
// and every selection; it is not a live region, which would read it out at
// every keystroke.

import { countsText } from '../editor/word-count.js';

export function createWordCount(el, quill) {
  let range = null;
  function update() {
    const selected = range?.length ? quill.getText(range.index, range.length) : '';
    el.textContent = countsText(quill.getText(), selected);
  }
  quill.on('editor-change', (type, value) => {
    // Leaving the text (a click on the toolbar) keeps the selection it had.
    if (type === 'selection-change' && value) range = value;
    if (type === 'text-change') range = quill.getSelection();
    update();
  });
  update();
  return { update };
}
