// Shows edits the server could not take (reset, bad_op, forbidden…) so the
// person can copy them: never drop typed text silently.

import { h } from './dom.js';

export function createUnsentDialog(root) {
  const why = h('p', { class: 'qe-unsent-why' });
  const typed = h('textarea', { class: 'qe-unsent-typed', readonly: true, rows: 4, 'aria-label': 'Text you typed' });
  const whole = h('textarea', { class: 'qe-unsent-doc', readonly: true, rows: 10, 'aria-label': 'Your version of the document' });
  const copyBtn = (area, label) => h('button', {
    type: 'button',
    text: label,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(area.value);
      } catch {
        area.select();
        document.execCommand?.('copy');
      }
    },
  });
  const dialog = h('dialog', { class: 'qe-unsent', 'aria-labelledby': 'qe-unsent-title' },
    h('h2', { id: 'qe-unsent-title', text: 'Some changes were not saved' }),
    why,
    h('label', { text: 'What you typed' }), typed, copyBtn(typed, 'Copy typed text'),
    h('label', { text: 'Your version of the whole document' }), whole, copyBtn(whole, 'Copy your version'),
    h('form', { method: 'dialog' }, h('button', { class: 'qe-primary', text: 'Close' })));
  root.append(dialog);

  return {
    show(unsent, reason) {
      if (!unsent) return;
      why.textContent = reason;
      // Several incidents before the person closes it: keep all the text.
      const add = (area, text) => {
        if (!text) return;
        area.value = area.value ? `${area.value}\n\n---\n\n${text}` : text;
      };
      add(typed, unsent.typed.join('\n'));
      if (unsent.document) whole.value = unsent.document;
      if (!dialog.open) {
        if (typeof dialog.showModal === 'function') dialog.showModal();
        else dialog.setAttribute('open', '');
      }
    },
    // Open again what was shown before (the access banner's button).
    reopen() {
      if (!typed.value && !whole.value) return false;
      if (!dialog.open) {
        if (typeof dialog.showModal === 'function') dialog.showModal();
        else dialog.setAttribute('open', '');
      }
      return true;
    },
    get hasText() {
      return !!(typed.value || whole.value);
    },
    get element() {
      return dialog;
    },
  };
}
