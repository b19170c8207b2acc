// The editor's "⋯" menu (issue 7): Version history, Name current version…
// (editors and the owner), Download as Text / HTML / Markdown, Print (the
// browser's, with the print style sheet of editor.css; its "Save as PDF" is
// Quire's PDF). A WAI-ARIA
// menu button: Enter, Space or ArrowDown opens it on the first item, arrows
// and Home/End move, Esc closes and gives focus back to the button.

import { h } from './dom.js';
import { makeModal } from './modal.js';
import { FORMATS, fileName, contentPath } from '../download.js';

let seq = 0;

// extras: [{text, action, visible(), run()}], more items first in the menu
// (Accept all / Reject all suggestions, ui/suggestions.js).
export function createDocMenu({ root, button, docId, api, title, flash, canWrite, extras = [] }) {
  const uid = `qe-menu-${++seq}`;
  const base = `/api/docs/${encodeURIComponent(docId)}`;

  const item = (text, attrs, onclick) => {
    const el = h(attrs.href ? 'a' : 'button', { role: 'menuitem', tabindex: '-1', class: 'qe-menu-item', text, ...attrs });
    if (!attrs.href) el.type = 'button';
    el.addEventListener('click', (e) => {
      close(false);
      onclick?.(e);
    });
    return el;
  };
  const history = item('Version history', { href: `/d/${encodeURIComponent(docId)}/history`, 'data-action': 'history' });
  const nameVersion = item('Name current version…', { 'data-action': 'name-version', 'data-writer': true }, () => nameDialog.open());
  const downloads = Object.entries(FORMATS).map(([format, f]) => item(`Download as ${f.label}`,
    { 'data-action': `download-${format}` }, () => download(format)));
  const print = item('Print or save as PDF…', { 'data-action': 'print' }, () => window.print());
  const extraItems = extras.map((x) => ({ x, el: item(x.text, { 'data-action': x.action }, () => x.run()) }));
  const menu = h('div', { class: 'qe-menu', role: 'menu', id: uid, 'aria-label': 'Document', hidden: true },
    ...extraItems.map(({ el }) => el), extraItems.length ? h('div', { class: 'qe-menu-sep', role: 'separator', 'data-extra-sep': true }) : null,
    history, nameVersion, h('div', { class: 'qe-menu-sep', role: 'separator' }), ...downloads,
    h('div', { class: 'qe-menu-sep', role: 'separator' }), print);
  button.setAttribute('aria-haspopup', 'menu');
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', uid);
  button.after(menu);

  const items = () => [...menu.querySelectorAll('[role="menuitem"]')].filter((el) => !el.hidden);
  function open(focusLast = false) {
    nameVersion.hidden = !canWrite();
    for (const { x, el } of extraItems) el.hidden = !x.visible();
    const sep = menu.querySelector('[data-extra-sep]');
    if (sep) sep.hidden = extraItems.every(({ el }) => el.hidden);
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    const list = items();
    (focusLast ? list[list.length - 1] : list[0])?.focus();
    document.addEventListener('pointerdown', outside, true);
  }
  function close(focusButton = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (focusButton) button.focus();
  }
  function outside(e) {
    if (!menu.contains(e.target) && !button.contains(e.target)) close(false);
  }
  button.addEventListener('click', () => (menu.hidden ? open() : close()));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      open(e.key === 'ArrowUp');
    }
  });
  // Focus handed to something else while the menu is open (a closing dialog
  // gives focus back to its opener a task after it closes) takes the menu
  // with it, as Tab does. Only a known new owner counts: a null relatedTarget
  // is also what a click on an item gives where buttons take no focus
  // (Safari), and pointerdown outside already covers clicks elsewhere.
  menu.addEventListener('focusout', (e) => {
    const to = e.relatedTarget;
    if (to && !menu.contains(to) && !button.contains(to)) close(false);
  });
  menu.addEventListener('keydown', (e) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    const move = {
      ArrowDown: (i + 1) % list.length,
      ArrowUp: (i - 1 + list.length) % list.length,
      Home: 0,
      End: list.length - 1,
    }[e.key];
    if (move !== undefined) {
      e.preventDefault();
      list[move]?.focus();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'Tab') {
      close(false);
    }
  });

  // ---- Name current version… -------------------------------------------------
  const nameInput = h('input', { id: `${uid}-name`, type: 'text', maxlength: 100, required: true, autocomplete: 'off', class: 'qe-version-name' });
  const nameError = h('p', { class: 'qe-share-msg', role: 'alert', 'data-kind': 'error' });
  const save = h('button', { type: 'submit', class: 'qe-primary', text: 'Name version' });
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const form = h('form', { novalidate: true },
    h('h2', { id: `${uid}-nametitle`, text: 'Name current version' }),
    h('p', { class: 'qe-share-hint', text: 'A named version is kept for good and appears in the version history.' }),
    h('label', { for: `${uid}-name`, text: 'Name' }),
    nameInput, nameError,
    h('div', { class: 'qe-dlg-foot' }, cancel, save));
  const dialog = h('dialog', { class: 'qe-dialog qe-name-dialog', 'aria-labelledby': `${uid}-nametitle` }, form);
  root.append(dialog);
  const modal = makeModal(dialog);
  const nameDialog = {
    open() {
      nameInput.value = '';
      nameError.textContent = '';
      modal.open(nameInput);
    },
  };
  cancel.addEventListener('click', () => modal.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = nameInput.value.trim();
    if (!name) {
      nameError.textContent = 'Give the version a name.';
      nameInput.focus();
      return;
    }
    save.disabled = true;
    try {
      await api.post(`${base}/versions`, { name });
      modal.close();
      flash('Version named');
    } catch (err) {
      nameError.textContent = `Could not name the version: ${err.message}`;
    } finally {
      save.disabled = false;
    }
  });

  // ---- downloads -------------------------------------------------------------
  async function download(format) {
    const f = FORMATS[format];
    try {
      const res = await api.call('GET', contentPath(docId, format));
      const blob = new Blob([await res.arrayBuffer()], { type: f.type });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: fileName(title(), format), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      flash(`Downloaded as ${f.label}`);
    } catch (err) {
      flash(err.status === 400
        ? `${f.label} download is not available on this server yet`
        : `Could not download: ${err.message}`, 'error');
    }
  }

  return { open, close, download, menu, nameDialog };
}
