// Entry point of assets/editor.js: builds the editor inside the server's
// <main id="quire-editor" data-doc-id data-doc-title data-user-id
// data-user-name data-role> and connects it to /api/docs/{id}/ws. Also
// guards a log-out form on the page (ui/logout-guard.js).

import './styles/editor.css';
import { buildPage } from './ui/page.js';
import { createQuill } from './editor/setup.js';
import { bindQuill } from './editor/binding.js';
import { DocSync } from './sync.js';
import { PendingStore, MemoryStorage, unsentDocuments, clearUserRecords } from './storage.js';
import { colorFor, assignColors, UNKNOWN_COLOR } from './colors.js';
import { toWebSocketUrl } from './connection.js';
import { createStatusLine } from './ui/status-line.js';
import { createToaster } from './ui/toast.js';
import { createPresenceList } from './ui/presence-list.js';
import { createUnsentDialog } from './ui/unsent-dialog.js';
import { createAccessBanner } from './ui/access-banner.js';
import { createShare } from './ui/share.js';
import { createTitle } from './ui/title.js';
import { createShareDialog } from './ui/share-dialog.js';
import { createDocMenu } from './ui/doc-menu.js';
import { createApi } from './api.js';
import { installLogoutGuard } from './ui/logout-guard.js';
import { announceRestore } from './ui/restored-notice.js';
import { installImages } from './editor/images.js';
import { installWriterTools } from './ui/writer-tools.js';
import { installAuthors } from './authors/view.js';
import { installSuggestions } from './ui/suggestions.js';
import { installComments } from './comments/install.js';

const WRITERS = new Set(['owner', 'editor']);

function storages() {
  // Private modes may throw on access; the editor still works, without the
  // offline copy.
  try {
    const probe = '__quire_probe__';
    localStorage.setItem(probe, '1');
    localStorage.removeItem(probe);
    return { storage: localStorage, session: sessionStorage };
  } catch {
    return { storage: new MemoryStorage(), session: null };
  }
}

export async function boot(root) {
  const docId = root.dataset.docId;
  const role = root.dataset.role || 'viewer';
  const me = {
    id: root.dataset.userId || '',
    name: root.dataset.userName || 'Me',
    color: colorFor(root.dataset.userId || root.dataset.userName || 'me'),
  };
  // Unsent edits are kept per person: a page that does not say who is
  // signed in cannot tell whose they are, so it keeps none.
  const local = storages();
  const store = me.id ? new PendingStore({ docId, userId: me.id, ...local }) : null;
  // Before anything is editable: what this page restores decides its client id.
  const restored = store ? await store.adopt() : null;
  const page = buildPage(root);
  root.classList.toggle('qe-readonly', !WRITERS.has(role));
  const status = createStatusLine(page.status);
  const people = createPresenceList(page.presence, me);
  // Colours as this page shows them: distinct among the people here.
  let colors = assignColors([me.id || 'me']);
  const colorOf = (u) => colors.get(u?.id ?? (u?.you ? me.id || 'me' : undefined)) || u?.color || UNKNOWN_COLOR;
  people.render([], colorOf);
  const unsent = createUnsentDialog(root);
  const banner = createAccessBanner(page.access, { showUnsent: () => unsent.reopen() });
  // Action messages are toasts; the status line only says whether the text is saved.
  const toasts = createToaster(root);
  const flash = (text, kind) => toasts.show(text, kind);

  const quill = createQuill(page.editor);

  const sync = new DocSync({
    url: toWebSocketUrl(`/api/docs/${encodeURIComponent(docId)}/ws`, location.href),
    user: { name: me.name, color: me.color },
    role,
    store,
    restored,
    comments: true,
    // Only when the browser thinks it is online: offline, failures are expected.
    probe: async () => {
      if (navigator.onLine === false) throw new Error('offline');
      return (await fetch(`/api/docs/${encodeURIComponent(docId)}`, { credentials: 'same-origin' })).status;
    },
  });

  const title = createTitle({
    input: page.title, docId, initial: root.dataset.docTitle || '', readOnly: !WRITERS.has(role), flash,
    backToText: () => quill.focus(),
  });
  const share = createShare({ root, button: page.share, docId, role, flash });
  const api = createApi();
  // Suggestion mode (issue 14): the toggle, the rewrite of changes, the cards.
  const suggestions = installSuggestions({
    root, header: page.header, quill, sync, me, flash, api, docId,
    colorOf: (id) => colors.get(id) || colorFor(id),
  });
  const currentTitle = () => page.title.value.trim();
  const shareDialog = createShareDialog({ root, docId, me, api, title: currentTitle, flash });
  // The default Share handler; setHandler() or the quire:share event still
  // take it over.
  share.setHandler(() => shareDialog.open());
  const menu = createDocMenu({
    root, button: page.menu, docId, api, title: currentTitle, flash, canWrite: () => !sync.readOnly,
    extras: suggestions.menuItems,
  });

  installImages(quill, { docId, canEdit: () => !sync.readOnly, flash, progressParent: page.footer });
  // Find and replace, outline, word count, shortcuts help (issue 16).
  const tools = installWriterTools({ page, quill, canWrite: () => !sync.readOnly, flash, storage: local.storage });

  // "Show authors" (issue 14), in the colours of the cursors.
  const authors = installAuthors({ page, quill, sync, me, colorOfId: (id) => colors.get(id) || colorFor(id) });

  const editorHooks = bindQuill({
    quill,
    sync,
    colorOf,
    rewrite: suggestions.rewrite,
    onLoaded: ({ first, empty }) => {
      // A new empty document: start typing right away.
      if (first && empty && !sync.readOnly) quill.focus();
    },
  });
  Object.assign(sync.hooks, editorHooks, {
    apply: (delta, info) => authors.remote(info, () => editorHooks.apply(delta)),
    load: (doc, info) => {
      editorHooks.load(doc, info);
      authors.reloaded();
    },
    authors: authors.received,
    status: (s) => {
      status.set(s);
      root.dataset.status = s.kind;
    },
    presenceList: (list) => {
      colors = assignColors([me.id || 'me', ...list.map(({ user }) => user?.id).filter(Boolean)]);
      people.render(list, colorOf);
      // A newcomer can move someone to another colour: repaint the carets.
      editorHooks.cursors(sync.ot.remoteSelections());
      authors.repaint();
      suggestions.paint();
    },
    unsent: (text, why) => {
      unsent.show(text, why);
      banner.hadUnsent();
    },
    access: (notice) => {
      banner.show(notice);
      // Without access, sharing and the document's menu (history, downloads) would only answer errors.
      const shutOut = notice?.kind === 'removed' || notice?.kind === 'gone';
      root.classList.toggle('qe-no-access', shutOut);
      if (shutOut) shareDialog.close();
    },
    role: (readOnly) => {
      editorHooks.role(readOnly);
      title.setReadOnly(readOnly);
      root.classList.toggle('qe-readonly', readOnly);
      suggestions.roleChanged();
      // The role changed under us: what the dialog allows may have too.
      shareDialog.reload();
    },
  });

  // Comments (issue 14): after the hooks above, whose status hook it extends.
  const comments = installComments({ page, quill, sync, me, docId, api, flash, storage: local.storage });

  window.addEventListener('beforeunload', (e) => {
    if (!sync.hasUnsaved) return;
    e.preventDefault();
    e.returnValue = ''; // older browsers need it to show the prompt
  });
  // Write what is pending and let the next open of this page take it over.
  window.addEventListener('pagehide', () => sync.flush(true));
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) sync.resumed();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') sync.flush(false);
  });
  // Sockets can linger half-dead for minutes after the network drops; the
  // browser's own signal is faster in both directions.
  window.addEventListener('offline', () => sync.reconnectNow());
  window.addEventListener('online', () => sync.reconnectNow());

  if (store) {
    installLogoutGuard(document, {
      base: () => location.href,
      unsent: () => {
        const docs = new Set(unsentDocuments(local.storage, me.id));
        if (sync.hasUnsaved) docs.add(docId);
        return docs.size;
      },
      confirm: (text) => window.confirm(text),
      forget: () => {
        sync.discard();
        clearUserRecords(local.storage, me.id);
        store.close();
      },
    });
  }

  sync.start();
  announceRestore(flash);
  const parts = {
    quill, client: sync.ot, sync, share, shareDialog, menu, store, toasts, tools, suggestions, comments, version: 1,
  };
  // The browser tests' handle on the page (kill the socket, read the OT
  // state). Only in their build (build.mjs): a page must not hand any
  // script its session's internals.
  if (__QUIRE_TEST_HOOKS__) window.__quire = parts;
  return parts;
}

const root = document.getElementById('quire-editor');
if (root) boot(root);
