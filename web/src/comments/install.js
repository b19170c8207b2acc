// Comments on the editor page (issue 14): the thread state fed by the
// session's hooks, the highlights over the text, the side panel, the
// toolbar's Comment button (comment-button.js), the status bar's toggle with
// the count of open threads, clicks between highlights and threads, and a
// #comment-THREAD link opening the panel at that thread (which marks the
// document's notifications read).

import { h } from '../ui/dom.js';
import { CommentState, canComment } from './state.js';
import { moveAnchor } from './anchor.js';
import { createCommentsPanel } from './panel.js';
import { createCommentPainter, indexAtPoint } from './highlights.js';
import { installCommentButton, currentSelection } from './comment-button.js';

const KEY = 'quire.comments';

export function installComments({ page, quill, sync, me, docId, api, flash, storage }) {
  const root = page.root;
  const role = () => sync.role;
  let people = null;
  const loadPeople = () => (people ??= api.get(`/api/docs/${encodeURIComponent(docId)}/people`)
    .then((r) => (Array.isArray(r?.people) ? r.people : []), (e) => {
      // Offline: asked again at the next `@`. A refusal (or a server without
      // the route) stands for this page: no list, the text is sent as typed.
      if (!e?.status) people = null;
      return [];
    }));

  const state = new CommentState({
    send: (m) => sync.conn.send(m),
    meId: me.id,
    pending: () => [sync.ot.outstanding?.op ?? null, sync.ot.buffer],
    rev: () => sync.ot.rev,
    synced: () => sync.ot.isSynchronized && sync.conn.isOpen,
    onChange: () => changed(),
    onMove: () => schedule(),
    onAnswer: (ref, result) => {
      panel.answer(ref, result);
      if (!result.ok && result.text) flash(result.text, 'error');
    },
  });

  const painter = createCommentPainter(quill);
  const panel = createCommentsPanel({
    parent: page.body, state, me, role, people: loadPeople, flash,
    onActive: () => schedule(),
    onResize: () => schedule(),
    yOf: (index) => {
      const at = Math.max(0, Math.min(index, quill.getLength() - 1));
      const b = quill.getBounds(at, 0);
      return quill.container.getBoundingClientRect().top + (b?.top ?? 0);
    },
    scrollToText: (t) => {
      const [leaf] = quill.getLeaf(Math.min(t.start + 1, quill.getLength() - 1));
      leaf?.domNode?.parentElement?.scrollIntoView?.({ block: 'center' });
    },
  });

  // ---- the status bar's toggle ----------------------------------------------

  const count = h('span', { class: 'qe-comments-count' });
  const toggle = h('button', {
    type: 'button', class: 'qe-bar-btn qe-comments-toggle', 'aria-controls': panel.panel.id, 'aria-expanded': 'false',
    title: 'Show or hide the comments',
  }, 'Comments', count, h('span', { class: 'qe-visually-hidden', text: ' open' }));
  page.footer.insertBefore(toggle, page.footer.querySelector('.qe-keys-btn'));
  let stored = null;
  try {
    stored = storage?.getItem(KEY);
  } catch {
    stored = null;
  }
  toggle.addEventListener('click', () => setShown(panel.panel.hidden, { remember: true }));
  panel.close.addEventListener('click', () => {
    setShown(false, { remember: true });
    toggle.focus();
  });

  function setShown(on, { remember = false } = {}) {
    panel.panel.hidden = !on;
    root.classList.toggle('qe-comments-open', on);
    toggle.setAttribute('aria-expanded', String(on));
    if (remember) {
      stored = on ? 'shown' : 'hidden';
      try {
        storage?.setItem(KEY, stored);
      } catch {
        // the choice lasts for this page only
      }
    }
    if (on) panel.render();
    schedule();
  }

  // ---- the Comment button -----------------------------------------------------

  const commentButton = installCommentButton(quill, {
    allowed: () => canComment(role()),
    comment(sel) {
      if (!sel) {
        flash('Select the text to comment on first.');
        return;
      }
      setShown(true);
      panel.compose({ start: sel.index, end: sel.index + sel.length, quote: quill.getText(sel.index, sel.length) });
    },
  });

  // ---- highlights and clicks between them and the threads -----------------

  let frame = 0;
  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const ranges = state.list().filter((t) => !t.orphaned);
      const draft = panel.draftRange;
      // While a new comment is written, its text is the one shown as active.
      painter.paint(draft ? [...ranges, draft] : ranges, draft ? '' : panel.active);
      panel.layout();
    });
  }

  quill.on('text-change', schedule);
  window.addEventListener('resize', schedule);
  // The text's lines move when its column changes width (the outline opening).
  if (typeof ResizeObserver === 'function') new ResizeObserver(schedule).observe(quill.root);

  quill.root.addEventListener('click', (e) => {
    if (panel.panel.hidden) return;
    const sel = currentSelection(quill);
    if (sel && sel.length > 0) return;
    const index = indexAtPoint(quill, e.clientX, e.clientY) ?? sel?.index;
    if (index == null) return;
    const t = state.threadAt(index);
    if (t) panel.setActive(t.id);
  });

  // ---- the session ------------------------------------------------------------

  let lastRole = null;
  function roleChanged() {
    if (role() === lastRole) return;
    lastRole = role();
    root.classList.toggle('qe-can-comment', canComment(lastRole));
    if (!canComment(lastRole)) panel.cancelCompose();
    commentButton.update();
    panel.render();
  }

  let first = true;
  function changed() {
    count.textContent = state.openCount ? String(state.openCount) : '';
    if (first) {
      first = false;
      // Open by default when there is something to read, unless hidden by choice.
      setShown(stored === 'shown' || (stored !== 'hidden' && state.threads.size > 0));
      openLinkedThread();
    }
    if (!panel.panel.hidden) panel.render();
    schedule();
  }

  function openLinkedThread() {
    const m = /^#comment-(.+)$/.exec(location.hash);
    if (!m) return;
    setShown(true);
    let id = m[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      // a malformed escape: looked up as written
    }
    if (!panel.reveal(id)) flash('That comment is no longer here.');
    // Read once the panel shows them; the route may not exist on an older server.
    api.post('/api/notifications/read', { doc: docId }).catch(() => {});
  }

  const previous = { status: sync.hooks.status };
  Object.assign(sync.hooks, {
    edited: (delta) => {
      state.edited(delta);
      panel.moveComposer((a) => moveAnchor(delta, a));
    },
    comments: (m) => state.receive(m),
    settled: () => state.settled(),
    status: (s) => {
      previous.status(s);
      roleChanged();
    },
  });
  roleChanged();

  return { state, panel, setShown, startComment: commentButton.start };
}
