// The writer tools of issue 16 on the editor page: the status bar at the
// bottom (Outline button, word count, keyboard shortcuts button), the find
// bar, the outline and the shortcuts help, and the keys that open them
// (editor/writer-keys.js) anywhere on the page but in another dialog.

import { h } from './dom.js';
import { createFindBar } from './find-bar.js';
import { createOutline } from './outline-panel.js';
import { createWordCount } from './word-count.js';
import { createShortcutsHelp } from './shortcuts-help.js';
import { writerAction, writerKeyText } from '../editor/writer-keys.js';
import { isMacPlatform } from '../editor/toolbar.js';

export function installWriterTools({ page, quill, canWrite, flash, storage }) {
  const mac = isMacPlatform(navigator.platform);
  const keyText = (action) => writerKeyText(action, { mac });

  const outlineButton = h('button', { type: 'button', class: 'qe-bar-btn qe-outline-toggle', title: 'Show or hide the outline of the headings', text: 'Outline' });
  const counts = h('span', { class: 'qe-counts' });
  const helpButton = h('button', {
    type: 'button', class: 'qe-bar-btn qe-keys-btn', 'aria-label': 'Keyboard shortcuts', title: `Keyboard shortcuts (${keyText('help')})`, text: '⌨ Shortcuts',
  });
  page.footer.append(outlineButton, counts, helpButton);

  const find = createFindBar({ root: page.root, quill, canWrite, flash, keyText });
  const outline = createOutline({ root: page.root, parent: page.body, toggle: outlineButton, quill, storage });
  const wordCount = createWordCount(counts, quill);
  const help = createShortcutsHelp({ root: page.root, quill, mac, windows: /Win/i.test(navigator.platform) });
  helpButton.addEventListener('click', () => help.open());

  const actions = {
    find: () => find.open({ replace: false }),
    replace: () => find.open({ replace: true }),
    help: () => (help.isOpen ? help.close() : help.open()),
  };
  // Capture: before the browser's own find and Quill's keyboard module.
  window.addEventListener('keydown', (e) => {
    const action = writerAction(e, { mac });
    if (!action) return;
    // Behind a dialog nothing else can take focus; the help's own key still closes it.
    const dialogOpen = document.querySelector('dialog[open]');
    if (dialogOpen && !(dialogOpen === help.dialog && action === 'help')) return;
    e.preventDefault();
    e.stopPropagation();
    actions[action]();
  }, true);

  return { find, outline, wordCount, help };
}
