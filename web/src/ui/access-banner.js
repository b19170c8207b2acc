// The banner that says the person's access changed while the page was open
// ("You can now only view this document", "You no longer have access…"),
// with a way back to the unsent text and to the document list.

import { h } from './dom.js';

export function createAccessBanner(el, { showUnsent }) {
  const title = h('strong', { class: 'qe-access-title' });
  const detail = h('span', { class: 'qe-access-detail' });
  const unsentBtn = h('button', { type: 'button', class: 'qe-access-unsent', text: 'Show unsent changes', onclick: () => showUnsent() });
  const home = h('a', { class: 'qe-access-home', href: '/', text: 'All documents' });
  el.append(h('div', { class: 'qe-access-text' }, title, detail), h('div', { class: 'qe-access-actions' }, unsentBtn, home));
  el.hidden = true;

  return {
    // notice: from access.js (plus `unsent` when text was dropped), or null.
    show(notice) {
      if (!notice) {
        el.hidden = true;
        delete el.dataset.kind;
        return;
      }
      title.textContent = notice.title;
      detail.textContent = notice.detail;
      el.dataset.kind = notice.kind;
      // Kept once shown: a later notice without unsent text must not hide it.
      if (notice.unsent === true) unsentBtn.dataset.has = '1';
      unsentBtn.hidden = !unsentBtn.dataset.has;
      home.hidden = notice.kind === 'readonly';
      el.hidden = false;
    },
    // A `forbidden` after the demotion showed unsent text: offer it here too.
    hadUnsent() {
      unsentBtn.dataset.has = '1';
      if (!el.hidden) unsentBtn.hidden = false;
    },
  };
}
