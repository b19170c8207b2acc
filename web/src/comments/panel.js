// The comments side panel: an <aside> at the right of the text (below it at
// phone width) with the threads in text order (thread-card.js), each card
// placed beside its text where there is room (never over another card), the
// box of a new comment, and "Show resolved". What the person asks for goes
// through CommentState, and the form or button waits for the answer with
// that `ref`.

import { h } from '../ui/dom.js';
import { canComment } from './state.js';
import { attachMentions } from './mention-box.js';
import { createThreadCard, submitOnCtrlEnter } from './thread-card.js';

const PHONE = '(max-width: 700px)';
const GAP = 8;

let seq = 0;

// opts: parent (the page's body grid), state (CommentState), me {id},
//   role() -> the current role, people() -> promise of the document's people,
//   flash(text, kind), onActive(id) (the highlighted thread changed),
//   yOf(index) -> the page y of a text position, scrollToText(thread),
//   onResize() (a card changed size: place them again)
export function createCommentsPanel(opts) {
  const { parent, state, me, role, people, flash } = opts;
  const uid = `qe-comments-${++seq}`;
  const showResolved = h('input', { type: 'checkbox', id: `${uid}-resolved`, class: 'qe-comments-filter' });
  const close = h('button', { type: 'button', class: 'qe-comments-close', 'aria-label': 'Hide comments', title: 'Hide comments', text: '×' });
  const empty = h('p', { class: 'qe-comments-empty' });
  const list = h('div', { class: 'qe-comments-list' });
  const panel = h('aside', { class: 'qe-comments', id: uid, 'aria-labelledby': `${uid}-h`, hidden: true },
    h('div', { class: 'qe-comments-head' },
      h('h2', { id: `${uid}-h`, text: 'Comments' }),
      h('label', { class: 'qe-comments-show', for: showResolved.id }, showResolved, ' Show resolved'),
      close),
    empty, list);
  parent.append(panel);

  const cards = new Map(); // thread id -> card
  const waiting = new Map(); // ref -> done(result), for the form or button waiting on it
  let composer = null; // {anchor, quote, el, textarea}
  let active = null;

  const phone = () => window.matchMedia?.(PHONE).matches ?? false;
  // A card that grows (a long reply, the mention list) pushes the ones below it.
  const resized = typeof ResizeObserver === 'function' ? new ResizeObserver(() => opts.onResize?.()) : null;

  showResolved.addEventListener('change', () => render());

  // ---- rendering ------------------------------------------------------------

  function visible() {
    return state.list({ resolved: showResolved.checked });
  }

  function render() {
    const threads = visible();
    const els = threads.map((t) => cardFor(t).el);
    if (composer) {
      // In text order with the threads (the new one after those at the same place).
      const at = composer.anchor.start;
      const i = threads.findIndex((t) => t.start > at);
      els.splice(i < 0 ? els.length : i, 0, composer.el);
    }
    for (const [id, c] of cards) if (!state.threads.has(id)) cards.delete(id);
    // Moving a node takes the focus out of it: give it back (a reply being typed).
    const focused = document.activeElement;
    const caret = focused?.selectionStart;
    const same = els.length === list.children.length && els.every((el, i) => list.children[i] === el);
    if (!same) list.replaceChildren(...els);
    if (focused && focused !== document.activeElement && list.contains(focused)) {
      focused.focus();
      if (caret != null) focused.setSelectionRange?.(caret, caret);
    }
    const viewer = !canComment(role());
    empty.textContent = viewer ? 'No comments.' : 'No comments yet. Select text and choose Comment.';
    empty.hidden = els.length > 0;
    if (active && !state.threads.has(active)) setActive(null);
    layout();
  }

  // Each card beside its text, never over another: the new comment's box, or
  // else the active card, exactly beside its text, the cards after it pushed
  // down and those before it up (Google Docs' way). On phones a plain stack (CSS).
  function layout() {
    if (panel.hidden) return;
    if (phone()) {
      list.style.minHeight = '';
      return;
    }
    const els = [...list.children];
    if (!els.length) {
      list.style.minHeight = '';
      return;
    }
    const top0 = list.getBoundingClientRect().top;
    const want = els.map((el) => Math.max(0, opts.yOf(Number(el.dataset.at ?? 0)) - top0));
    const heights = els.map((el) => el.offsetHeight);
    let pivot = els.findIndex((el) => el === composer?.el);
    if (pivot < 0) pivot = els.findIndex((el) => el.dataset.thread === active);
    if (pivot < 0) pivot = 0;
    const tops = [];
    tops[pivot] = want[pivot];
    for (let i = pivot + 1; i < els.length; i++) tops[i] = Math.max(want[i], tops[i - 1] + heights[i - 1] + GAP);
    for (let i = pivot - 1; i >= 0; i--) tops[i] = Math.min(want[i], tops[i + 1] - GAP - heights[i]);
    // Pushed up past the top of the list: all down by as much.
    const shift = Math.max(0, -tops[0]);
    els.forEach((el, i) => {
      el.style.top = `${tops[i] + shift}px`;
    });
    list.style.minHeight = `${tops[els.length - 1] + shift + heights[els.length - 1]}px`;
  }

  // What every card needs from the panel.
  const cardContext = {
    state, me, role, people, ask,
    rerender: () => render(),
    activate(id) {
      setActive(id);
      if (phone()) opts.scrollToText?.(state.threads.get(id));
    },
  };

  function cardFor(thread) {
    let c = cards.get(thread.id);
    if (!c) {
      c = createThreadCard(thread.id, cardContext);
      resized?.observe(c.el);
      cards.set(thread.id, c);
    }
    c.fill(thread, { active: thread.id === active });
    return c;
  }

  // ---- the new comment ----------------------------------------------------

  function compose({ start, end, quote }) {
    cancelCompose();
    const textarea = h('textarea', { class: 'qe-reply-input', rows: 3, placeholder: 'Add a comment… (@ to mention)', 'aria-label': 'Comment' });
    const form = h('form', { class: 'qe-reply' }, textarea,
      h('div', { class: 'qe-c-row' },
        h('button', { type: 'button', class: 'qe-c-btn', text: 'Cancel', onclick: () => cancelCompose() }),
        h('button', { type: 'submit', class: 'qe-c-btn qe-c-primary', text: 'Comment' })));
    const el = h('article', { class: 'qe-thread qe-composer', 'aria-label': 'New comment', 'data-at': String(start) },
      h('blockquote', { class: 'qe-thread-quote', text: quote }), form);
    const mentions = attachMentions(textarea, { people, meId: me.id });
    composer = { anchor: { start, end, orphaned: false }, el, textarea };
    resized?.observe(el);
    opts.onActive?.(active);
    submitOnCtrlEnter(textarea, form);
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !('mentionsOpen' in textarea.dataset)) cancelCompose();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = textarea.value.trim();
      if (!body || !composer) return;
      const { start: s, end: en } = composer.anchor;
      ask(form, state.create({ start: s, end: en, body, mentions: mentions.ids() }), (result) => {
        composer = null;
        render();
        const id = result?.event?.thread?.id;
        if (id) setActive(id, { focusCard: true });
      });
    });
    render();
    textarea.focus();
  }

  function cancelCompose() {
    if (!composer) return;
    composer = null;
    render();
    opts.onActive?.(active);
  }

  // The composer's range moves with the text like an anchor.
  function moveComposer(move) {
    if (!composer) return;
    composer.anchor = move(composer.anchor);
    composer.el.dataset.at = String(composer.anchor.start);
  }

  // ---- requests and answers -----------------------------------------------

  // Marks `el` busy until the answer to `ref`; ok() runs on success.
  function ask(el, ref, ok) {
    if (ref == null) {
      flash('Not connected: try again when the document is back online.', 'error');
      return;
    }
    const controls = el.matches('button') ? [el] : [...el.querySelectorAll('button, textarea')];
    for (const x of controls) x.disabled = true;
    el.setAttribute('aria-busy', 'true');
    waiting.set(ref, (result) => {
      for (const x of controls) x.disabled = false;
      el.removeAttribute('aria-busy');
      if (result.ok) ok?.(result);
    });
  }

  function answer(ref, result) {
    const done = waiting.get(ref);
    waiting.delete(ref);
    done?.(result);
  }

  // ---- focus and visibility -----------------------------------------------

  function setActive(id, { focusCard = false } = {}) {
    active = id;
    for (const c of cards.values()) c.el.classList.toggle('qe-thread-active', c.id === id);
    opts.onActive?.(id);
    const c = id && cards.get(id);
    if (!c) return;
    c.el.scrollIntoView?.({ block: 'nearest' });
    if (focusCard) c.el.focus({ preventScroll: true });
  }

  // A thread by id, resolved ones too (a link to it): true when shown.
  function reveal(id) {
    const t = state.threads.get(id);
    if (!t) return false;
    if (t.resolved && !showResolved.checked) {
      showResolved.checked = true;
      render();
    }
    setActive(id, { focusCard: true });
    return true;
  }

  return {
    panel, close, render, layout, compose, cancelCompose, moveComposer, answer, setActive, reveal,
    get active() { return active; },
    get composing() { return !!composer; },
    // The range a new comment is being written on, painted while its box has the focus.
    get draftRange() { return composer && !composer.anchor.orphaned ? { id: '', ...composer.anchor } : null; },
  };
}
