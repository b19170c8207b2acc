// Quill <-> DocSync. Only `user` changes are sent (remote ones are applied
// with source "api" and must not echo back); remote cursors come from the OT
// client already moved through my pending ops, so quill-cursors' own
// transform stays off.

import { alignedToCodePoints, deletion, loneHalves } from './surrogates.js';
import { createNameFlags } from './name-flags.js';
import { UNKNOWN_COLOR } from '../colors.js';

// The user's change (from the document `old`), plus the deletion of any half
// emoji it left (removed from the editor too, silently): what is sent is what
// the page shows. Then no edit in it may start or end inside a pair, which
// Quill's diff of typed text can do with both documents whole.
function wholeCharacters(quill, delta, old) {
  const slice = (index, length) => quill.getContents(index, length);
  const lone = loneHalves(delta, slice, quill.getLength());
  let change = delta;
  if (lone.length > 0) {
    const repair = deletion(lone);
    quill.updateContents(repair, 'silent');
    change = delta.compose(repair);
  }
  return alignedToCodePoints(change, (index, length) => old.slice(index, index + length), old.length(), slice);
}

// colorOf(user): the colour this page gives that person (colors.js).
// rewrite(change, old): what to send for the person's change, after it made
// the page match (suggestion mode, ui/suggestions.js).
export function bindQuill({ quill, sync, onLoaded, colorOf = (u) => u?.color || UNKNOWN_COLOR, rewrite = (c) => c }) {
  const cursors = quill.getModule('cursors');
  let loaded = false;
  let lastSel = null;
  const cursorEl = (id) => quill.container.querySelector(`#ql-cursor-${CSS.escape(id)}`);
  const flags = createNameFlags({
    show: (id) => cursorEl(id)?.classList.add('qe-flag-on'),
    hide: (id) => cursorEl(id)?.classList.remove('qe-flag-on'),
  });

  quill.on('text-change', (delta, old, source) => {
    if (source !== 'user') return;
    sync.localChange(rewrite(wholeCharacters(quill, delta, old), old));
    // Typing moves my caret without a user selection-change event.
    const sel = quill.getSelection(false);
    if (sel) {
      lastSel = sel;
      sync.setSelection(sel);
    }
  });

  quill.on('selection-change', (range) => {
    // Blur gives null; keep the last place so others still see where I was
    // and I stay in their presence list (null means "gone" on the wire).
    if (!range) return;
    lastSel = range;
    sync.setSelection(range);
  });

  // Remote changes wait while an IME composition is open, and go in right
  // after Quill has reported the composed text (composition-end runs after
  // Quill's own batch end, a microtask later on WebKit).
  quill.on('composition-end', () => queueMicrotask(() => sync.releaseHeld()));

  const hooks = {
    holdRemote() {
      return !!quill.composition?.isComposing;
    },
    beforeRemote() {
      // Pending DOM mutations become a user text-change now, before the
      // server op is transformed against our pending edits.
      quill.update('user');
    },
    apply(delta) {
      quill.updateContents(delta, 'api');
    },
    load(doc) {
      quill.setContents(doc, 'api');
      // Undo must not step back into a document that was replaced.
      quill.history.clear();
      const first = !loaded;
      loaded = true;
      setEditable(sync.mayType);
      if (!lastSel) sync.setSelection({ index: 0, length: 0 });
      onLoaded?.({ first, empty: quill.getLength() <= 1 });
    },
    cursors(list) {
      if (!cursors) return;
      const seen = new Set();
      for (const { client, user, sel } of list) {
        seen.add(client);
        const name = user?.name || 'Someone';
        const color = colorOf(user);
        const cursor = cursors.createCursor(client, name, color);
        // A cursor is created once; a new name or colour needs a new flag.
        if (cursor.name !== name || cursor.color !== color) {
          const showing = cursorEl(client)?.classList.contains('qe-flag-on');
          cursors.removeCursor(client);
          cursors.createCursor(client, name, color);
          if (showing) cursorEl(client)?.classList.add('qe-flag-on');
        }
        cursors.moveCursor(client, sel);
      }
      for (const c of cursors.cursors()) {
        if (seen.has(c.id)) continue;
        flags.forget(c.id);
        cursors.removeCursor(c.id);
      }
    },
    // After the cursors hook has placed it: name on for a few seconds.
    activity(client) {
      if (cursors) flags.active(client);
    },
    role() {
      setEditable(loaded && sync.mayType);
    },
    resyncing() {
      // Until the snapshot arrives, typing would land in a discarded view.
      setEditable(false);
    },
  };

  function setEditable(on) {
    quill.enable(on);
  }

  // A restored offline copy is editable at once; otherwise wait for the server.
  const initial = sync.initialDocument();
  if (initial) {
    quill.setContents(initial, 'api');
    quill.history.clear();
    loaded = true;
    setEditable(sync.mayType);
  } else {
    setEditable(false);
  }
  return hooks;
}
