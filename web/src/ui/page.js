// The page inside the server's <main id="quire-editor">: header (home link,
// title, presence, status, share, the ⋯ menu), the access banner, the Quill
// toolbar and editor (the outline goes beside it), and the status bar at the
// bottom (ui/writer-tools.js fills it). Returns the parts the other modules fill.

import { h } from './dom.js';

export function buildPage(root) {
  const title = h('input', {
    class: 'qe-title', type: 'text', 'aria-label': 'Document title', maxlength: 200,
    spellcheck: 'false', autocomplete: 'off',
  });
  const presence = h('span', { class: 'qe-presence' });
  const status = h('span', { class: 'qe-status', role: 'status', 'aria-live': 'polite' });
  const share = h('button', { class: 'qe-share', type: 'button', 'data-quire-share': true, text: 'Share' });
  const menu = h('button', { class: 'qe-menu-btn', type: 'button', 'aria-label': 'Document menu', title: 'Version history, downloads, print', text: '⋯' });
  const header = h('header', { class: 'qe-header' },
    h('a', { class: 'qe-home', href: '/', 'aria-label': 'Quire: all documents', title: 'All documents', text: 'Quire' }),
    title,
    h('div', { class: 'qe-meta' }, presence, status, share, h('div', { class: 'qe-menu-wrap' }, menu)));
  // Shown when access changes while the page is open (ui/access-banner.js).
  const access = h('div', { class: 'qe-access', role: 'alert' });
  const editor = h('div', { class: 'qe-editor' });
  const body = h('div', { class: 'qe-body' }, editor);
  const footer = h('div', { class: 'qe-footer' });
  root.replaceChildren(header, access, body, footer);
  root.classList.add('qe-root');
  return { root, header, access, title, presence, status, share, menu, editor, body, footer };
}
