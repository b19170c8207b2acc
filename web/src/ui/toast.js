// Confirmations and failures of what someone just did ("Title saved",
// "Downloaded as HTML", "Could not rename: …") as toasts at the bottom
// centre (issue 19, item 10): the save status in the header keeps saying
// whether the text is saved, and nothing on the page moves (the region is
// fixed and lets clicks through). A few can show at once, newest last.

import { h } from './dom.js';

const SHOW_MS = 4000;
const ERROR_MS = 7000; // an error takes longer to read and act on
const MAX_SHOWN = 3;

export function createToaster(parent = document.body, { showMs = SHOW_MS, errorMs = ERROR_MS } = {}) {
  // One live region for all of them, so screen readers announce each once.
  const region = h('div', { class: 'qe-toasts', role: 'status', 'aria-live': 'polite' });
  parent.append(region);

  function show(text, kind = 'note') {
    const toast = h('div', { class: 'qe-toast', 'data-kind': kind, text });
    region.append(toast);
    while (region.children.length > MAX_SHOWN) region.firstElementChild.remove();
    setTimeout(() => toast.remove(), kind === 'error' ? errorMs : showMs);
    return toast;
  }

  return { show, region };
}
