// The find bar (issue 16): Ctrl+F finds, Ctrl+H also replaces. It counts
// the matches ("3 of 12"), moves between them (Enter, Shift+Enter, the
// arrows), shows them with find-highlights.js, and follows every change to
// the text, other people's too. Replace changes the current match and
// Replace all every match in one change (one op on the wire, one Ctrl+Z).
// People who cannot edit get find only. Escape closes it and puts the caret
// back in the text, on the current match.

import { h } from './dom.js';
import { createMatchPainter } from './find-highlights.js';
import { documentText, findMatches, replaceDelta, nearestMatch } from '../editor/find-matches.js';

let seq = 0;

export function createFindBar({ root, quill, canWrite, flash, keyText }) {
  const uid = `qe-find-${++seq}`;
  const painter = createMatchPainter(quill);
  let matches = [];
  let current = -1;

  const query = h('input', { id: `${uid}-q`, class: 'qe-find-input', type: 'search', placeholder: 'Find in document', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Find' });
  const count = h('span', { class: 'qe-find-count', role: 'status', 'aria-live': 'polite' });
  const iconButton = (text, label, onclick) => h('button', { type: 'button', class: 'qe-find-icon', 'aria-label': label, title: label, text, onclick });
  const prev = iconButton('↑', 'Previous match (Shift+Enter)', () => step(-1));
  const next = iconButton('↓', 'Next match (Enter)', () => step(1));
  const closeButton = iconButton('×', 'Close (Esc)', () => close());
  const matchCase = h('input', { id: `${uid}-case`, type: 'checkbox', class: 'qe-find-case' });
  const replacement = h('input', { id: `${uid}-r`, class: 'qe-find-input qe-replace-input', type: 'text', placeholder: 'Replace with', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Replace with' });
  const replaceOne = h('button', { type: 'button', class: 'qe-find-btn', text: 'Replace', onclick: () => replaceCurrent() });
  const replaceAll = h('button', { type: 'button', class: 'qe-find-btn', text: 'Replace all', onclick: () => replaceEvery() });
  const hint = h('span', { class: 'qe-find-hint', text: `${keyText('replace')} to replace` });
  const replaceRow = h('div', { class: 'qe-find-row qe-replace-row' }, replacement, replaceOne, replaceAll);
  const bar = h('div', { class: 'qe-find', role: 'search', 'aria-label': 'Find in document', hidden: true },
    h('div', { class: 'qe-find-row' }, query, count, prev, next, closeButton),
    h('div', { class: 'qe-find-row qe-find-options' },
      h('label', { for: `${uid}-case`, class: 'qe-find-option' }, matchCase, 'Match case'),
      hint),
    replaceRow);
  root.append(bar);

  query.addEventListener('input', () => refresh(startOfSelection()));
  matchCase.addEventListener('change', () => refresh(matches[current]?.index ?? startOfSelection()));
  query.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    step(e.shiftKey ? -1 : 1);
  });
  replacement.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    replaceCurrent();
  });
  bar.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    close();
  });
  // Every change, local or remote: the matches move with the text, and the
  // current one stays the one it was (its place moved through the change).
  quill.on('text-change', (delta) => {
    if (bar.hidden) return;
    const was = matches[current]?.index ?? 0;
    refresh(delta.transformPosition(was), { scroll: false });
  });
  window.addEventListener('scroll', () => !bar.hidden && place(), { passive: true });
  window.addEventListener('resize', () => !bar.hidden && place());

  function startOfSelection() {
    return quill.getSelection()?.index ?? 0;
  }

  // Recount from the document as it is; the current match is the nearest at
  // or after `from`.
  function refresh(from, { scroll = true } = {}) {
    matches = findMatches(documentText(quill.getContents().ops), query.value, { matchCase: matchCase.checked });
    current = nearestMatch(matches, from);
    show({ scroll });
  }

  function show({ scroll }) {
    count.textContent = !query.value ? '' : matches.length ? `${current + 1} of ${matches.length}` : 'No results';
    bar.dataset.matches = String(matches.length);
    const hadFocus = bar.contains(document.activeElement);
    prev.disabled = next.disabled = matches.length === 0;
    const writable = canWrite();
    replaceOne.disabled = replaceAll.disabled = !writable || matches.length === 0;
    // A focused button that is disabled drops focus to the page (Replace all
    // leaves no match): keep it in the bar, so Escape still closes it.
    if (hadFocus && (document.activeElement.disabled || !bar.contains(document.activeElement))) {
      (replaceRow.hidden ? query : replacement).focus();
    }
    painter.paint(matches, current);
    if (scroll && current >= 0) scrollToMatch(matches[current]);
  }

  function step(by) {
    if (!matches.length) return;
    current = (current + by + matches.length) % matches.length;
    show({ scroll: true });
  }

  function replaceCurrent() {
    const match = matches[current];
    if (!match || !canWrite()) return;
    apply(replaceDelta(quill.getContents().ops, [match], replacement.value));
    // The text-change put the current match at or after the replaced one;
    // move past what was just written.
    refresh(match.index + replacement.value.length);
  }

  function replaceEvery() {
    if (!matches.length || !canWrite()) return;
    const n = matches.length;
    apply(replaceDelta(quill.getContents().ops, matches, replacement.value));
    flash?.(`Replaced ${n} ${n === 1 ? 'match' : 'matches'}`);
  }

  // One change, cut off from typing before and after, so that Ctrl+Z takes
  // back exactly this.
  function apply(delta) {
    quill.history.cutoff();
    quill.updateContents(delta, 'user');
    quill.history.cutoff();
  }

  // Into view below the sticky header and toolbar, about a third down.
  function scrollToMatch(match) {
    const box = quill.container.getBoundingClientRect();
    const b = quill.getBounds(match.index, match.length);
    if (!b) return;
    const top = box.top + b.top;
    const covered = bar.getBoundingClientRect().bottom;
    if (top < covered + 8 || top + b.height > window.innerHeight - 48) window.scrollBy({ top: top - window.innerHeight / 3 });
  }

  // Just below whatever stays on top of the page (the header, and the
  // toolbar where it is sticky).
  function place() {
    const fixed = [root.querySelector('.qe-header'), root.querySelector('.ql-toolbar')]
      .filter((el) => el && el.getClientRects().length)
      .map((el) => el.getBoundingClientRect().bottom);
    bar.style.top = `${Math.max(8, ...fixed) + 8}px`;
  }

  function open({ replace = false } = {}) {
    const writable = canWrite();
    bar.hidden = false;
    replaceRow.hidden = !(replace && writable);
    hint.hidden = !writable || !replaceRow.hidden;
    bar.dataset.mode = replaceRow.hidden ? 'find' : 'replace';
    place();
    // The selected words, as in a word processor, when they are on one line.
    const sel = quill.getSelection();
    const picked = sel?.length ? quill.getText(sel.index, sel.length) : '';
    if (picked && !picked.includes('\n') && picked.length <= 200) query.value = picked;
    refresh(sel?.index ?? 0);
    query.focus();
    query.select();
    if (replace && writable && query.value) replacement.focus();
  }

  function close() {
    if (bar.hidden) return;
    bar.hidden = true;
    painter.clear();
    const match = matches[current];
    if (match) quill.setSelection(match.index, match.length, 'user');
    else quill.focus();
  }

  return {
    open,
    close,
    bar,
    get isOpen() { return !bar.hidden; },
    get state() { return { count: matches.length, current }; },
  };
}
