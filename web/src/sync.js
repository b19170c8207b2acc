// One document's live session, without DOM: the OT client, the socket, the
// error policy of PROTOCOL.md, local persistence and the status line. The
// Quill binding feeds it edits and selections and renders what it reports;
// node tests and tools can drive it with the `ws` package instead.

import { OTClient } from './ot-client.js';
import { Connection } from './connection.js';
import { createBackoff } from './backoff.js';
import { describeError } from './errors.js';
import { statusLine } from './status.js';
import { unsentText } from './unsent.js';
import { accessNotice } from './access.js';

const WRITER_ROLES = new Set(['owner', 'editor']);
const SAVE_DELAY_MS = 300;
const HEARTBEAT_MS = 5000;
const PRESENCE_MS = 80; // under the server's ~20/s budget, smooth enough

const noop = () => {};

export const SUGGESTION_RACED =
  'Someone accepted or rejected that suggestion first, so your change was not saved. The document was reloaded.';

export class DocSync {
  // opts: url, user {name, color}, role, store (PendingStore or null),
  //   restored (what `await store.adopt()` gave, or null),
  //   WebSocketImpl, wsOptions, probe, and hooks:
  //   apply(delta, {user})      remote change for the editor (source "api")
  //   authors(frame|null)       the `authors` answer; null: the server keeps none
  //   load(doc, {reset})        replace the editor's content
  //   status({text, kind})      the status line changed
  //   cursors(list)             remote selections in local coordinates
  //   unsent({document, typed}, why)  edits that could not be saved
  //   role(readOnly)            the effective role changed
  //   presenceList(list)        people here: [{client, user}]
  //   activity(client)          that remote client just typed or moved
  //   access(notice|null)       access changed while open (access.js); null:
  //                             writable again
  //   resyncing()               pending edits were dropped; a snapshot follows
  //   beforeRemote()            flush pending editor input as a local change
  //   holdRemote() -> bool      true while remote changes must wait (IME);
  //                             call releaseHeld() when it turns false
  constructor(opts) {
    this.hooks = {
      apply: noop, load: noop, status: noop, cursors: noop, unsent: noop, role: noop, presenceList: noop,
      activity: noop, access: noop, resyncing: noop, beforeRemote: noop, holdRemote: () => false, authors: noop,
      edited: noop, comments: noop, settled: noop,
      ...opts.hooks,
    };
    this.user = opts.user ?? null;
    // async () => HTTP status of the document's metadata (optional).
    this.probe = opts.probe ?? null;
    this.failures = 0;
    this.welcomedHere = false;
    this.role = opts.role ?? 'editor';
    this.readOnly = !WRITER_ROLES.has(this.role);
    // A commenter in suggestion mode types suggestions (ui/suggestions.js);
    // the server checks that each op is one.
    this.suggestOnly = false;
    this.store = opts.store ?? null;
    this.setTimeout = opts.setTimeout ?? globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = opts.clearTimeout ?? globalThis.clearTimeout.bind(globalThis);
    this.retryBackoff = createBackoff({ base: 1000, max: 15000 });
    this.notice = '';
    this.fatalText = '';
    this.fatal = null; // {action, text} once the session cannot go on
    this.loaded = false;
    this.people = new Map(); // client -> user, from presence
    this.wantSel = undefined; // latest local selection not yet sent
    this.sentSel = undefined;
    this.presenceTimer = null;
    this.saveTimer = null;
    this.retryTimer = null;
    this.released = false;
    this.discarded = false; // log-out: the unsent edits are left behind
    this.held = null; // server messages waiting for the editor

    const restored = opts.restored ?? null;
    const callbacks = {
      send: (m) => this.conn.send(m),
      apply: (d, info) => {
        this.hooks.apply(d, info);
        this.hooks.edited(d);
      },
      load: (doc, info) => this._load(doc, info),
      desync: (kind, why) => this._desync(kind, why),
      change: () => this._changed(),
      seqAssigned: (next) => this.store?.saveSeq(this.ot.client, next),
    };
    this.ot = restored ? OTClient.fromJSON(restored, callbacks) : new OTClient(callbacks);
    this.restored = !!restored && this.ot.hasPending;
    this.store?.own(this.ot.client);

    this.conn = new Connection({
      url: opts.url,
      WebSocketImpl: opts.WebSocketImpl,
      wsOptions: opts.wsOptions,
      hello: () => ({ ...this.ot.hello(this.user), ...(opts.comments ? { comments: true } : {}) }),
      onMessage: (m) => this._message(m),
      onOpen: () => this._emitStatus(),
      onClose: () => {
        if (!this.welcomedHere) this._failedAttempt();
        this.welcomedHere = false;
        this.held = null; // that session's messages: the catch-up repeats them
        this.ot.disconnected();
        this.people.clear();
        this._emitPeople();
      },
    });
    if (this.store) {
      this.heartbeat = setInterval(() => {
        if (!this.released) this.store.heartbeat(this.ot.client);
      }, HEARTBEAT_MS);
    }
  }

  // The document to show before the server answers: our own unsent version
  // restored from local storage, or null.
  initialDocument() {
    return this.restored ? this.ot.localDocument() : null;
  }

  start() {
    this.conn.start();
    this._emitStatus();
  }

  stop() {
    this.conn.stop();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const t of [this.saveTimer, this.retryTimer, this.presenceTimer]) if (t) this.clearTimeout(t);
  }

  get hasUnsaved() {
    return !this.discarded && this.ot.hasPending;
  }

  // The person chose to leave the unsent edits behind (log-out): stop, and
  // never write them to local storage again (pagehide would otherwise).
  discard() {
    this.discarded = true;
    this.stop();
    this.store = null;
  }

  // ---- from the editor ----------------------------------------------------

  // Whether the person may type: a writer, or a commenter suggesting.
  get mayType() {
    return !this.readOnly || (this.suggestOnly && this.role === 'commenter');
  }

  setSuggestOnly(on) {
    this.suggestOnly = on;
    this._emitStatus();
  }

  localChange(delta) {
    if (!this.mayType || this.fatal) return;
    this.ot.localChange(delta);
    this.hooks.edited(delta);
  }

  // Selections go out only when nothing is in flight (the OT client refuses
  // otherwise); the latest one is kept and sent after the ack.
  setSelection(sel) {
    this.wantSel = sel ? { index: sel.index, length: sel.length } : null;
    this._schedulePresence();
  }

  // Write pending edits now (pagehide), and let the next page adopt them.
  // Once released, later writes (visibilitychange, which may fire after
  // pagehide, or a late timer) keep the record free.
  flush(release = false) {
    if (!this.store) return;
    if (release) this.released = true;
    if (this.saveTimer) this.clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this._save();
  }

  // Back from the back/forward cache: this page owns its record again.
  resumed() {
    this.released = false;
    this._save();
  }

  reconnectNow() {
    if (!this.fatal) this.conn.reconnectNow();
  }

  // ---- from the server ----------------------------------------------------

  // While the editor cannot take a remote change (an IME composition is
  // open: Quill would fold the remote op into the composed text and report
  // both as a local edit), server messages wait here, in order.
  _message(m) {
    if (this.held || this.hooks.holdRemote()) {
      (this.held ??= []).push(m);
      return;
    }
    this._process(m);
  }

  // The editor can take remote changes again.
  releaseHeld() {
    while (this.held && this.held.length) {
      if (this.hooks.holdRemote()) return;
      this._process(this.held.shift());
    }
    this.held = null;
  }

  _process(m) {
    // Let the editor report DOM changes it has not yet turned into a local
    // edit, so the OT state matches the editor before we transform.
    this.hooks.beforeRemote();
    switch (m.t) {
      case 'welcome':
        this.welcomedHere = true;
        this.failures = 0;
        this.notice = '';
        this._roleChanged(m.role);
        this.ot.welcome(m);
        this.sentSel = undefined; // the new session knows nothing of us
        this._schedulePresence();
        break;
      case 'op':
        this.ot.serverOp(m);
        if (m.client && m.client !== this.ot.client) this.hooks.activity(m.client);
        break;
      case 'ack':
        if (this.notice && !this.fatal) this.notice = '';
        this.retryBackoff.reset();
        this.ot.ack(m);
        break;
      case 'presence':
        if (m.sel) this.people.set(m.client, m.user ?? {});
        else this.people.delete(m.client);
        this.ot.presence(m);
        this._emitPeople();
        if (m.sel) this.hooks.activity(m.client);
        break;
      case 'role':
        // The owner changed our role while we are connected (docs/protocol.md:
        // the hub sends it at once; `null` means removed, and the socket
        // closes right after). A demotion with pending edits ends in
        // `forbidden`, which shows them to copy.
        if (m.role == null) {
          this._shutOut('removed');
          return;
        }
        this._roleChanged(m.role);
        this._emitStatus();
        break;
      case 'authors':
        this.hooks.authors(m);
        break;
      case 'comments':
      case 'comment':
        this.hooks.comments(m);
        break;
      case 'error':
        // An answer to a comment message: nothing to do with the text.
        if (m.ref != null) this.hooks.comments(m);
        // The answer to `authors` on a server that keeps none: nothing else is wrong.
        else if (m.code === 'unavailable') this.hooks.authors(null);
        else this._error(m);
        break;
      default:
        break; // newer server messages are ignored by design
    }
  }

  _error(m) {
    const e = describeError(m.code, m.msg);
    switch (e.action) {
      case 'reload':
      case 'login':
        this.fatal = e;
        this.fatalText = e.text;
        this.conn.stop();
        this.flush(false);
        break;
      case 'readonly':
        // A commenter may only suggest, so a suggestion refused in good faith lost a race: someone accepted or
        // rejected the suggestion it changed first. The role is the same; reload and keep suggesting.
        if (e.code === 'forbidden' && this.role === 'commenter' && this.suggestOnly) {
          this._resync(SUGGESTION_RACED);
          return;
        }
        this._setReadOnly(true);
        this._resync(e.text);
        return;
      case 'resync':
        this._resync(e.text);
        return;
      case 'resume':
        this.conn.reconnectNow();
        break;
      case 'stale':
        if (!this._staleSeq(m.seq)) return;
        break;
      case 'retry':
        this.notice = e.text;
        if (this.retryTimer) this.clearTimeout(this.retryTimer);
        this.retryTimer = this.setTimeout(() => {
          this.retryTimer = null;
          this.ot.resend();
        }, this.retryBackoff.next());
        break;
      default:
        return;
    }
    this._emitStatus();
  }

  // `stale_seq` for the op in flight: left alone it would never be acked and
  // every later edit would wait behind it. The first time, resume: the
  // catch-up carries our own committed ops, which ack it if it was
  // committed, and the same seq is resent otherwise. Refused again, the
  // server's counter for this id is ahead of ours: move the pending edits to
  // a fresh id. Returns false when the error is not about what we hold.
  _staleSeq(seq) {
    const o = this.ot.outstanding;
    if (!o || (seq != null && seq !== o.seq)) return false; // an old duplicate
    const again = this.staleOnce?.client === this.ot.client && this.staleOnce.seq === o.seq;
    this.conn.reconnectNow();
    if (again) {
      this.staleOnce = null;
      this._rekey();
    } else {
      this.staleOnce = { client: this.ot.client, seq: o.seq };
    }
    return true;
  }

  // The pending edits now belong to a fresh client id: write them under it
  // before forgetting the old record, so a crash in between keeps one copy.
  _rekey() {
    const old = this.ot.rekey();
    if (!this.store) return;
    this.store.own(this.ot.client);
    this._save();
    this.store.clear(old);
    this.store.disown(old);
  }

  // Browsers hide why a WebSocket handshake failed. After a few failures in
  // a row, ask the HTTP API: a deleted document or a revoked share is not
  // worth retrying forever, a signed-out session needs the login page.
  _failedAttempt() {
    this.failures = (this.failures ?? 0) + 1;
    if (this.failures < 3 || !this.probe || this.probing || this.fatal) return;
    this.probing = true;
    this.probe().then((status) => {
      this.probing = false;
      let e = null;
      if (status === 401) e = describeError('unauthorized');
      else if (status === 404 || status === 403) {
        this._shutOut('gone');
        return;
      }
      if (!e || this.fatal) return;
      this.fatal = e;
      this.fatalText = e.text;
      this.conn.stop();
      this.flush(false);
      this._emitStatus();
    }, () => {
      this.probing = false; // offline: keep retrying
    });
  }

  // No access any more (removed while here, or the document is gone): lock
  // the page for good, and hand what was not saved to the person to copy,
  // since no server will take it.
  _shutOut(kind) {
    if (this.fatal) return;
    const notice = accessNotice(kind, this.role);
    this.fatal = { code: kind, action: 'reload', text: notice.status };
    this.fatalText = notice.status;
    this.conn.stop();
    this._setReadOnly(true);
    const dropped = this.ot.hardReset();
    this.hooks.resyncing();
    this.hooks.access({ ...notice, unsent: !!dropped });
    if (dropped) this.hooks.unsent(unsentText(dropped), notice.unsent);
    this.store?.clear(this.ot.client);
    this.people.clear();
    this._emitPeople();
    this._emitStatus();
  }

  // The role from `welcome` or `role`. Losing the right to write while the
  // page is open says so in a banner; getting it back takes the banner away.
  _roleChanged(role) {
    const was = this.readOnly;
    this.role = role;
    this._setReadOnly(!WRITER_ROLES.has(role));
    if (!was && this.readOnly) this.hooks.access(accessNotice('readonly', role));
    else if (was && !this.readOnly) this.hooks.access(null);
  }

  // Drop pending edits, show them to the person, and reload the document.
  _resync(why) {
    const dropped = this.ot.hardReset();
    this.hooks.resyncing();
    if (dropped) this.hooks.unsent(unsentText(dropped), why);
    this.store?.clear(this.ot.client);
    this.conn.reconnectNow();
    this._emitStatus();
  }

  _desync(kind, why) {
    if (kind === 'snapshot') this._resync(`The document was out of step with the server (${why}) and was reloaded.`);
    else this.conn.reconnectNow();
  }

  _load(doc, info) {
    this.loaded = true;
    this.hooks.load(doc, info);
    if (info.dropped) {
      this.hooks.unsent(unsentText(info.dropped),
        'Your unsent changes were too old to merge with the current document. Copy what you need from here.');
    }
  }

  _setReadOnly(ro) {
    if (ro === this.readOnly) return;
    this.readOnly = ro;
    this.hooks.role(ro);
  }

  // ---- outputs ------------------------------------------------------------

  _changed() {
    this._scheduleSave();
    this.hooks.cursors(this.ot.remoteSelections());
    if (this.wantSel !== undefined) this._schedulePresence();
    this._emitStatus();
    if (this.ot.isSynchronized) this.hooks.settled();
  }

  _emitStatus() {
    this.hooks.status(statusLine({
      conn: this.fatal ? 'fatal' : this.conn.state === 'open' ? 'open' : 'closed',
      synced: this.ot.online,
      pending: this.ot.hasPending,
      readOnly: !this.mayType,
      notice: this.notice,
      fatalText: this.fatalText,
      loaded: this.loaded || this.restored,
    }));
  }

  _emitPeople() {
    this.hooks.presenceList([...this.people].map(([client, user]) => ({ client, user })));
  }

  _schedulePresence() {
    if (this.presenceTimer) return;
    this.presenceTimer = this.setTimeout(() => {
      this.presenceTimer = null;
      if (this.wantSel === undefined || sameSel(this.wantSel, this.sentSel)) return;
      const msg = this.ot.presenceMessage(this.wantSel);
      if (!msg) return; // in flight: retried from _changed after the ack
      if (this.conn.send(msg)) this.sentSel = this.wantSel;
    }, PRESENCE_MS);
  }

  _scheduleSave() {
    if (!this.store || this.saveTimer) return;
    this.saveTimer = this.setTimeout(() => {
      this.saveTimer = null;
      this._save();
    }, SAVE_DELAY_MS);
  }

  _save() {
    if (!this.store) return;
    const ok = this.store.save(this.ot.toJSON(), { released: this.released });
    if (!ok && !this.notice) {
      this.notice = 'This browser has no room to keep a local copy of unsent changes.';
      this._emitStatus();
    }
  }
}

function sameSel(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.index === b.index && a.length === b.length;
}
