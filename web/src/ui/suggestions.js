// Suggestion mode on the page (issue 14; docs/protocol-notes.md): the
// "Suggesting" toggle in the header (owner, editor, commenter; a
// commenter's editor is editable only while it is on), the rewrite of each
// change before it is sent (editor/suggest-rewrite.js), suggestions
// coloured by author with the author's name on hover, a card with Accept /
// Reject on click, and Accept all / Reject all for the document menu.

import '../styles/suggestions.css';
import { h } from './dom.js';
import { rewriteChange, pageFix } from '../editor/suggest-rewrite.js';
import { acceptOp, rejectOp } from '../editor/suggest-ops.js';
import { newSuggestionId, suggestionsOf } from '../editor/suggest-marks.js';
import { placePopover } from '../editor/popover-place.js';

const SUGGESTERS = new Set(['owner', 'editor', 'commenter']);
const RESOLVERS = new Set(['owner', 'editor']);
const REFUSED = {
  format: 'Formatting can’t be suggested. Turn off Suggesting to format.',
  'line break': 'Line breaks can’t be suggested yet.',
};

// me: {id, name}; colorOf(userId) and nameOf(userId) say how to show an
// author; api and docId fetch the members' names once.
export function installSuggestions({ root, header, quill, sync, me, flash, colorOf, api, docId }) {
  let on = false;
  let lastKey = '';
  const names = new Map([[me.id, `${me.name} (you)`]]);
  const button = h('button', {
    class: 'qe-suggest-toggle', type: 'button', 'aria-pressed': 'false',
    title: 'Suggesting: your edits become suggestions that the owner or an editor accepts or rejects',
    'aria-label': 'Suggesting',
  }, h('span', { class: 'qe-suggest-label', text: 'Suggesting' }));
  button.addEventListener('click', () => set(!on));
  header.querySelector('.qe-share')?.before(button);
  const style = h('style', { 'data-quire': 'suggestion-colours' });
  document.head.append(style);
  const card = h('div', { class: 'qe-suggest-card', role: 'dialog', 'aria-label': 'Suggestion', hidden: true });
  root.append(card);

  const canResolve = () => RESOLVERS.has(sync.role);

  function set(value) {
    on = value && SUGGESTERS.has(sync.role);
    sync.setSuggestOnly(on);
    button.setAttribute('aria-pressed', String(on));
    root.classList.toggle('qe-suggesting', on);
    roleChanged();
    if (on) quill.focus();
  }

  // The role decides who sees the toggle and whether the editor is editable.
  function roleChanged() {
    button.hidden = !SUGGESTERS.has(sync.role);
    if (on && !SUGGESTERS.has(sync.role)) set(false);
    root.classList.toggle('qe-readonly', !sync.mayType);
    if (sync.loaded) quill.enable(sync.mayType);
  }

  quill.root.addEventListener('keydown', (e) => {
    lastKey = e.key;
  }, true);

  // The binding's hook: what to send for the person's change.
  function rewrite(change, old) {
    const { send, refused } = rewriteChange(change, old, { me: me.id, suggesting: on, newId: newSuggestionId });
    const fix = pageFix(change, send, old);
    if (fix) {
      const sel = quill.getSelection();
      // Where undoing the change's history entry leads, before the fix.
      const { undo } = quill.history.stack;
      const depth = undo.length;
      const undone = depth ? quill.getContents().compose(undo[depth - 1].delta) : null;
      quill.updateContents(fix, 'silent');
      // Undo reverts what was sent, written as the smallest change (a
      // withdrawn deletion is a retain that clears the mark, not the text
      // deleted and typed again). The history replaced its entries when it
      // transformed them through the fix.
      const stack = quill.history.stack.undo;
      if (undone && stack.length === depth) stack[depth - 1].delta = quill.getContents().diff(undone);
      if (sel) {
        // Backspace leaves the caret before the text it struck; Delete after it.
        const index = fix.transformPosition(sel.index, lastKey !== 'Delete');
        quill.setSelection(index, sel.length ? fix.transformPosition(sel.index + sel.length) - index : 0, 'silent');
      }
    }
    if (refused) flash(REFUSED[refused]);
    return send;
  }

  function resolve(accept, id = null) {
    if (!canResolve() || sync.readOnly) return;
    const doc = quill.getContents();
    const op = accept ? acceptOp(doc, id) : rejectOp(doc, id);
    if (!op.ops.length) return;
    quill.updateContents(op, 'api');
    sync.localChange(op);
    closeCard();
  }

  // ---- showing them -------------------------------------------------------

  async function loadNames() {
    try {
      const { members } = await api.get(`/api/docs/${encodeURIComponent(docId)}/members`);
      for (const p of members ?? []) if (!names.has(p.id)) names.set(p.id, p.name);
      paint();
    } catch {
      // Names are a nicety: unknown authors show as "Someone".
    }
  }
  const nameOf = (id) => names.get(id) ?? 'Someone';

  function paint() {
    const authors = new Set([...quill.root.querySelectorAll('[data-suggest-by]')].map((el) => el.dataset.suggestBy));
    style.textContent = [...authors].map((id) => `.ql-editor [data-suggest-by="${CSS.escape(id)}"] { --qe-suggest-color: ${colorOf(id)}; }`).join('\n');
  }
  let painting = 0;
  quill.on('text-change', () => {
    cancelAnimationFrame(painting);
    painting = requestAnimationFrame(paint);
  });

  quill.root.addEventListener('mouseover', (e) => {
    const el = e.target.closest?.('[data-suggest-by]');
    if (!el || el.title) return;
    const what = el.classList.contains('qe-suggest-del') ? 'Deletion' : 'Insertion';
    el.title = `${what} suggested by ${nameOf(el.dataset.suggestBy)}`;
  });

  quill.root.addEventListener('click', (e) => {
    const el = e.target.closest?.('[data-suggest-id]');
    if (el) openCard(el);
    else closeCard();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !card.hidden) closeCard();
  });

  function openCard(el) {
    const id = el.dataset.suggestId;
    const s = suggestionsOf(quill.getContents()).find((x) => x.id === id);
    if (!s) return;
    const verb = { insert: 'Insert', delete: 'Delete', replace: 'Replace' }[s.kind];
    const quoted = s.text.trim() || s.text;
    const dot = h('span', { class: 'qe-suggest-dot', 'aria-hidden': 'true' });
    dot.style.background = colorOf(s.by);
    card.replaceChildren(
      h('p', { class: 'qe-suggest-who' }, dot, h('strong', { text: nameOf(s.by) }), ' suggested'),
      h('p', { class: 'qe-suggest-what', text: `${verb}: “${quoted.length > 60 ? `${quoted.slice(0, 60)}…` : quoted}”` }),
      canResolve() && !sync.readOnly
        ? h('div', { class: 'qe-suggest-actions' },
          h('button', { type: 'button', class: 'qe-suggest-accept', 'data-action': 'accept', text: 'Accept', onclick: () => resolve(true, id) }),
          h('button', { type: 'button', class: 'qe-suggest-reject', 'data-action': 'reject', text: 'Reject', onclick: () => resolve(false, id) }))
        : null,
    );
    card.dataset.suggestion = id;
    card.hidden = false;
    const viewport = { width: window.innerWidth, height: window.innerHeight };
    const { left, top } = placePopover(el.getBoundingClientRect(), card.getBoundingClientRect(), viewport);
    card.style.left = `${left}px`;
    card.style.top = `${top}px`;
  }
  function closeCard() {
    card.hidden = true;
  }

  // Document menu items (ui/doc-menu.js `extras`).
  const menuItems = [
    { text: 'Accept all suggestions', action: 'accept-all', visible: () => canResolve() && !sync.readOnly, run: () => resolve(true) },
    { text: 'Reject all suggestions', action: 'reject-all', visible: () => canResolve() && !sync.readOnly, run: () => resolve(false) },
  ];

  roleChanged();
  loadNames();
  return { rewrite, roleChanged, set, paint, menuItems, get on() { return on; } };
}
