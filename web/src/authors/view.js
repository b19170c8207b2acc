// "Show authors" (issue 14): a toggle in the status bar that asks the
// server who wrote what ({"t": "authors"}), keeps that map current with
// every change the editor applies (mine are mine; a remote op's author comes
// with it), tints the text by author through an overlay and lists the
// authors with their colours (the cursors' colours) in a legend. Turning it
// off removes every trace; the document is never touched.

import { h } from '../ui/dom.js';
import { SpanMap } from './span-map.js';
import { createAuthorsOverlay } from './overlay.js';
import './authors.css';

// colorOfId(id) -> '#rrggbb', as the page colours that person's cursor.
export function installAuthors({ page, quill, sync, me, colorOfId }) {
  const button = h('button', {
    type: 'button', class: 'qe-bar-btn qe-authors-toggle', 'aria-pressed': 'false',
    title: 'Colour the text by who wrote it', text: 'Show authors',
  });
  const legend = h('ul', { class: 'qe-authors-legend', 'aria-label': 'Authors', hidden: true });
  page.footer.append(button, legend);
  const overlay = createAuthorsOverlay(quill);

  let on = false;
  let map = null; // SpanMap of the editor's text, once the server answered
  let people = {}; // id -> name
  let remoteAuthor = null; // the author of the remote change being applied
  let asked = 0; // when the last request went out
  let retry = null;
  let frame = 0;

  function ask() {
    if (!on) return;
    clearTimeout(retry);
    map = null;
    asked = Date.now();
    // Not connected: try again shortly (the catch-up after a reconnect keeps a map current, a reload resets it).
    if (!sync.conn.send({ t: 'authors' })) retry = setTimeout(ask, 1000);
  }

  function received(m) {
    if (!on) return;
    if (!m) {
      map = null;
      legend.replaceChildren(h('li', { text: 'Authorship is not kept on this server.' }));
      legend.hidden = false;
      return;
    }
    map = new SpanMap(m.spans);
    people = { ...m.people };
    // The answer is at the server's head; the editor also shows my edits not yet acknowledged.
    const { outstanding, buffer } = sync.ot;
    if (outstanding) map.apply(outstanding.op.ops, me.id);
    if (buffer) map.apply(buffer.ops, me.id);
    schedule();
  }

  quill.on('text-change', (delta, _old, source) => {
    if (!map) return;
    const author = source === 'user' ? me.id : remoteAuthor;
    map.apply(delta.ops, author || null);
    if (author === me.id && !(me.id in people)) people[me.id] = me.name;
    schedule();
  });
  quill.root.addEventListener('scroll', () => schedule());
  window.addEventListener('resize', () => schedule());

  function schedule() {
    if (!on || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      paint();
    });
  }

  function paint() {
    if (!on || !map) return;
    // Out of step (an edit the map did not see): ask again, at most every few seconds.
    if (map.length !== quill.getLength()) {
      if (Date.now() - asked > 3000) ask();
      return;
    }
    const spans = map.spans();
    overlay.paint(spans, colorOfId);
    const shown = [...new Set(spans.map(([, author]) => author).filter(Boolean))];
    shown.sort((a, b) => (people[a] ?? '').localeCompare(people[b] ?? ''));
    legend.replaceChildren(...shown.map((id) => h('li', { 'data-author': id },
      h('span', { class: 'qe-author-swatch', style: `background: ${colorOfId(id)}` }),
      h('span', { text: (people[id] ?? 'Someone') + (id === me.id ? ' (you)' : '') }))));
    legend.hidden = false;
  }

  function setOn(value) {
    on = value;
    button.setAttribute('aria-pressed', String(on));
    if (on) return ask();
    clearTimeout(retry);
    map = null;
    overlay.clear();
    legend.replaceChildren();
    legend.hidden = true;
  }
  button.addEventListener('click', () => setOn(!on));

  return {
    button,
    // DocSync's `authors` hook: the server's answer, or null when it keeps none.
    received,
    // Wraps applying a remote change, so the map knows whose it is.
    remote(info, applyIt) {
      remoteAuthor = info?.user?.id ?? null;
      if (remoteAuthor && info.user.name && !(remoteAuthor in people)) people[remoteAuthor] = info.user.name;
      try {
        applyIt();
      } finally {
        remoteAuthor = null;
      }
    },
    // The editor's content was replaced (a snapshot): the map must be asked for again.
    reloaded() {
      if (on) ask();
    },
    // A person's colour may have changed (someone joined).
    repaint: schedule,
  };
}
