// The client half of Quire's OT protocol (PROTOCOL.md section 2): the ot.js
// three-state machine (Synchronized / AwaitingConfirm / AwaitingWithBuffer)
// on quill-delta. Pure: no DOM, no socket. The caller feeds it events
// (local edits, server messages, connection changes) and receives its
// outputs through callbacks, so the same code runs in the browser, in the
// node tests and in the server's JS-client integration test.
//
// Callbacks (all optional):
//   send(msg) -> bool     hand a {t:"op"|"presence"} message to an open socket;
//                         return false if there is none (the op stays pending)
//   apply(delta, info)    apply a remote change to the local document
//                         (info: {client, user, rev}); never echo it back
//   load(doc, info)       replace the local document with a server snapshot
//                         (info: {rev, reset, dropped}); `dropped` holds the
//                         pending edits that could not be rebased, or null
//   desync(kind, why)     ask the transport to reconnect: kind "resume"
//                         (hello with our rev) after a gap in the op stream
//   change()              anything observable changed (status, persistence)
//   seqAssigned(next)     a seq was just taken: persist `next` before the op
//                         leaves, so a crash can never reuse a sent seq
//   skipped(seq)          an unacknowledged op was transformed to nothing
//                         while offline and is not resent (its seq is burnt)
//
// Invariants worth knowing:
//   - `outstanding` has a seq and is never changed except by transformation
//     against server ops; new edits go into `buffer` (sharedb#327, P5).
//   - Both are always based on doc@`rev` (the last server revision seen).
//   - A resend after reconnect waits until the catch-up reached welcome.head,
//     because our own op may be in it and then counts as the ack (P4).

import Delta from 'quill-delta';
import { randomClientId } from './ids.js';

export const STATES = Object.freeze({
  SYNCHRONIZED: 'synchronized',
  AWAITING_CONFIRM: 'awaitingConfirm',
  AWAITING_WITH_BUFFER: 'awaitingWithBuffer',
});

const noop = () => {};

// Accept a Delta, a {ops} object or a bare ops array. Copies the ops array
// so later chop()/push on our side never mutates the caller's object.
export function toDelta(d) {
  if (d == null) return null;
  if (Array.isArray(d)) return new Delta(d.slice());
  return new Delta((d.ops ?? []).slice());
}

// Canonical form as the server stores it: push rules (already applied by
// the Delta builder) plus chop of a trailing plain retain.
function canonical(d) {
  return toDelta(d).chop();
}

function isNoop(d) {
  return !d || d.ops.length === 0;
}

// ShareDB's presence convention: an insert exactly at a cursor moves it only
// when the op belongs to the cursor's owner, so priority = !isOwnOp.
export function transformSelection(sel, delta, isOwnOp) {
  if (!sel || !delta) return sel;
  const priority = !isOwnOp;
  const start = delta.transformPosition(sel.index, priority);
  const end = delta.transformPosition(sel.index + sel.length, priority);
  return { index: start, length: Math.max(0, end - start) };
}

export class OTClient {
  constructor(opts = {}) {
    this.client = opts.client ?? randomClientId();
    this.nextSeq = opts.nextSeq ?? 1;
    this.rev = opts.rev ?? null;
    // doc@rev: persistence and the unsent-text dialog need it. Set by every
    // snapshot; null only for a client restored without one.
    this.base = opts.base != null ? toDelta(opts.base) : null;
    this.outstanding = opts.outstanding
      ? { seq: opts.outstanding.seq, op: toDelta(opts.outstanding.op) }
      : null;
    this.buffer = opts.buffer ? toDelta(opts.buffer) : null;
    if (this.outstanding && this.outstanding.seq >= this.nextSeq) {
      this.nextSeq = this.outstanding.seq + 1;
    }
    this.online = false; // welcomed and caught up: may send
    this.catchUpTo = null; // welcome.head while replaying missed ops
    this.remotes = new Map(); // client -> {client, user, rev, sel}
    this.send = opts.send ?? (() => false);
    this.apply = opts.apply ?? noop;
    this.load = opts.load ?? noop;
    this.desync = opts.desync ?? noop;
    this.change = opts.change ?? noop;
    this.seqAssigned = opts.seqAssigned ?? noop;
    this.skipped = opts.skipped ?? noop;
  }

  // ---- observable state -------------------------------------------------

  get state() {
    if (!this.outstanding) return STATES.SYNCHRONIZED;
    return this.buffer ? STATES.AWAITING_WITH_BUFFER : STATES.AWAITING_CONFIRM;
  }

  // True while any local edit is not yet confirmed by the server. Offline,
  // edits may sit in `buffer` with no outstanding op, so check both.
  get hasPending() {
    return this.outstanding !== null || this.buffer !== null;
  }

  get isSynchronized() {
    return this.online && !this.hasPending;
  }

  // What persistence stores; OTClient.fromJSON(state, callbacks) restores it.
  toJSON() {
    return {
      client: this.client,
      nextSeq: this.nextSeq,
      rev: this.rev,
      base: this.base ? this.base.ops : null,
      outstanding: this.outstanding
        ? { seq: this.outstanding.seq, op: this.outstanding.op.ops }
        : null,
      buffer: this.buffer ? this.buffer.ops : null,
    };
  }

  static fromJSON(state, callbacks = {}) {
    return new OTClient({ ...state, ...callbacks });
  }

  // The local view: doc@rev with our pending edits applied (needs `base`).
  localDocument() {
    if (!this.base) return null;
    let doc = this.base;
    if (this.outstanding) doc = doc.compose(this.outstanding.op);
    if (this.buffer) doc = doc.compose(this.buffer);
    return doc;
  }

  // ---- local events -----------------------------------------------------

  localChange(delta) {
    const d = canonical(delta);
    if (isNoop(d)) return;
    if (!this.outstanding && this.online && !this.buffer) {
      this._sendNew(d);
    } else {
      // In flight: never compose into the sent op, it has a seq (P5).
      // Offline or catching up: keep it unsent, without a seq, so that every
      // offline edit ends up in one op and nothing with a seq changes.
      this._addToBuffer(d);
    }
    this.change();
  }

  // ---- connection lifecycle ---------------------------------------------

  // The socket went away. Pending ops stay; whether the outstanding one
  // reached the server is learnt from the catch-up after `hello`.
  disconnected() {
    this.online = false;
    this.catchUpTo = null;
    // Remote cursors are re-sent by the server after the next welcome.
    this.remotes.clear();
    this.change();
  }

  // The `hello` to send on (re)connect: resume from our rev, or ask for the
  // whole document when we have none.
  hello(user) {
    const msg = { t: 'hello', proto: 1, client: this.client, rev: this.rev };
    if (user) msg.user = user;
    return msg;
  }

  welcome(msg) {
    this.remotes.clear();
    if (msg.snapshot) {
      const dropped = this.hasPending || msg.reset ? this._takePending() : null;
      this.rev = msg.snapshot.rev;
      const doc = toDelta(msg.snapshot.ops);
      this.base = doc;
      this.load(doc, {
        rev: this.rev,
        reset: !!msg.reset,
        dropped: dropped && (dropped.outstanding || dropped.buffer) ? dropped : null,
      });
      this.catchUpTo = msg.head ?? this.rev;
    } else {
      this.catchUpTo = msg.head;
    }
    if (this.rev === null) {
      // A welcome without snapshot to a client that has no document: the
      // server broke the contract. Ask again from scratch.
      this.desync('snapshot', 'welcome without snapshot');
      return;
    }
    if (this.rev > this.catchUpTo) {
      // We claim a revision the server does not have: our state cannot be
      // rebased; take a fresh snapshot (keeping the pending text visible).
      this.desync('snapshot', 'local revision ahead of server head');
      return;
    }
    this._maybeOnline();
    this.change();
  }

  // ---- server messages --------------------------------------------------

  serverOp(msg) {
    if (!this._welcomed()) return; // not for this session: before the welcome
    if (msg.rev < this.rev) return; // stale duplicate (P17)
    if (msg.rev > this.rev) {
      this.desync('resume', `gap: got op at ${msg.rev}, expected ${this.rev}`);
      return;
    }
    if (msg.client === this.client && this.outstanding && msg.seq === this.outstanding.seq) {
      // Our own op replayed in a resume catch-up: it is the ack.
      this._acked(msg.rev);
      return;
    }
    if (msg.client === this.client && msg.seq >= this.nextSeq) {
      // Our own op that we no longer hold (state restored from an older
      // snapshot of local storage). It is foreign to this local view, so it
      // is applied below; never reuse its seq, or the server would take a new
      // op for a duplicate and drop it.
      this.nextSeq = msg.seq + 1;
      this.seqAssigned(this.nextSeq);
    }
    const s = toDelta(msg.op);
    const s2 = this._transformIncoming(s);
    this._moveRemotes(s, msg.rev, msg.client);
    if (this.base) this.base = this.base.compose(s);
    this.rev = msg.rev + 1;
    this.apply(s2, { client: msg.client, user: msg.user, rev: msg.rev });
    this._maybeOnline();
    this.change();
  }

  ack(msg) {
    if (!this._welcomed()) return;
    if (!this.outstanding || msg.seq !== this.outstanding.seq) return; // dup/stale
    if (msg.rev > this.rev) {
      // Ops before our own are missing; the resume catch-up will carry our op
      // again and count it as the ack.
      this.desync('resume', `ack at ${msg.rev}, expected ${this.rev}`);
      return;
    }
    if (msg.rev < this.rev) {
      // The server committed our op below ops we already applied without it:
      // nothing can rebase that. Take a snapshot; keep the text visible.
      this.desync('snapshot', `ack at ${msg.rev} below ${this.rev}`);
      return;
    }
    this._acked(msg.rev);
  }

  presence(msg) {
    if (msg.client === this.client || !this._welcomed()) return;
    if (!msg.sel) {
      this.remotes.delete(msg.client);
    } else if (this.rev === null || msg.rev < this.rev) {
      return; // older than what we have applied: cannot be placed
    } else {
      // rev > ours happens while catching up: kept as is and only moved by
      // ops from its own rev on (see _moveRemotes).
      this.remotes.set(msg.client, {
        client: msg.client,
        user: msg.user,
        rev: msg.rev,
        sel: { index: msg.sel.index, length: msg.sel.length },
      });
    }
    this.change();
  }

  // ---- outputs for the binding ------------------------------------------

  // Remote selections placed in the local view: the stored selection (at
  // doc@rev) moved through our outstanding op and then our buffer, which are
  // never the remote person's own ops (P7).
  remoteSelections() {
    const out = [];
    for (const r of this.remotes.values()) {
      if (r.rev !== this.rev || !r.sel) continue;
      let sel = r.sel;
      if (this.outstanding) sel = transformSelection(sel, this.outstanding.op, false);
      if (this.buffer) sel = transformSelection(sel, this.buffer, false);
      out.push({ client: r.client, user: r.user, sel });
    }
    return out;
  }

  // A presence message for our selection, or null when it may not be sent:
  // only with nothing in flight, so that `rev` describes the local view.
  presenceMessage(sel) {
    if (!this.isSynchronized) return null;
    return {
      t: 'presence',
      rev: this.rev,
      sel: sel ? { index: sel.index, length: sel.length } : null,
    };
  }

  // Send the outstanding op again, same seq, rebased to the current rev
  // (after `rate_limited` / `internal`). Server dedup makes it safe.
  resend() {
    if (this.online && this.outstanding && !isNoop(this.outstanding.op)) this._sendOutstanding();
  }

  // Continue under a fresh client id, keeping every pending edit: the server
  // refused our outstanding op as `stale_seq` even after a resume, so its
  // dedup counter for this id is ahead of ours (two tabs shared the id, or an
  // old local copy was restored). That op was not committed (the catch-up
  // would have carried it as the ack), so its seq is given up and its change
  // goes back in front of the buffer, to leave as seq 1 of the new id once
  // the next welcome has caught us up. Call it between sessions. Returns the
  // old id.
  rekey() {
    const old = this.client;
    if (this.outstanding) {
      const o = this.outstanding.op;
      this.outstanding = null;
      const b = this.buffer ? o.compose(this.buffer) : o;
      this.buffer = isNoop(b) ? null : b;
    }
    this.client = randomClientId();
    this.nextSeq = 1;
    this.change();
    return old;
  }

  // Give up on every pending edit (forbidden, bad_op, reset). Returns what was
  // dropped so the UI can show it; forgets the revision so the next hello
  // asks for a snapshot.
  hardReset() {
    const dropped = this._takePending();
    this.rev = null;
    this.online = false;
    this.catchUpTo = null;
    this.remotes.clear();
    this.change();
    return dropped.outstanding || dropped.buffer ? dropped : null;
  }

  // ---- internals --------------------------------------------------------

  // Between welcome and disconnect (catching up or online).
  _welcomed() {
    return this.rev !== null && (this.online || this.catchUpTo !== null);
  }

  // The rule of PROTOCOL.md section 2 for an incoming server op `s` at our
  // rev. The server's op wins ties against ours, as on the server, where the
  // committed op has priority. Returns the op to apply locally.
  _transformIncoming(s) {
    let s1 = s;
    if (this.outstanding) {
      const o = this.outstanding.op;
      this.outstanding.op = s.transform(o, true);
      s1 = o.transform(s, false);
    }
    let s2 = s1;
    if (this.buffer) {
      const b = this.buffer;
      this.buffer = s1.transform(b, true);
      s2 = b.transform(s1, false);
      // Everything it did was undone by others (e.g. a format on deleted
      // text): an empty buffer is no pending edit.
      if (isNoop(this.buffer)) this.buffer = null;
    }
    return s2;
  }

  _addToBuffer(d) {
    const b = this.buffer ? this.buffer.compose(d) : d;
    // Typing then deleting the same text composes to nothing.
    this.buffer = isNoop(b) ? null : b;
  }

  _promoteBuffer() {
    const b = this.buffer;
    this.buffer = null;
    if (!isNoop(b)) this._sendNew(b);
  }

  // Move stored remote selections through a committed op based on `rev`.
  _moveRemotes(op, rev, author) {
    for (const [id, r] of this.remotes) {
      if (r.rev < rev) {
        this.remotes.delete(id);
      } else if (r.rev === rev) {
        r.sel = transformSelection(r.sel, op, author === r.client);
        r.rev = rev + 1;
      }
    }
  }

  _acked(rev) {
    const op = this.outstanding.op;
    this._moveRemotes(op, rev, this.client);
    if (this.base) this.base = this.base.compose(op);
    this.rev = rev + 1;
    this.outstanding = null;
    if (this.buffer && this.online) this._promoteBuffer();
    this._maybeOnline();
    this.change();
  }

  _sendNew(op) {
    const seq = this.nextSeq++;
    this.seqAssigned(this.nextSeq);
    this.outstanding = { seq, op };
    this._sendOutstanding();
  }

  _sendOutstanding() {
    const { seq, op } = this.outstanding;
    this.send({ t: 'op', rev: this.rev, seq, op: op.ops });
  }

  _maybeOnline() {
    if (this.online || this.catchUpTo === null || this.rev < this.catchUpTo) return;
    this.online = true;
    this.catchUpTo = null;
    // Caught up: an outstanding op that was not in the catch-up was never
    // committed (or races the dedup), so resend it with its seq; otherwise
    // edits made offline become the next op.
    if (this.outstanding && isNoop(this.outstanding.op)) {
      // Transformed to nothing while we were away. The server rejects an
      // empty submission (bad_op), and committing it or not leaves the same
      // document, so drop it and burn its seq (gaps are allowed). If the
      // server did commit it, it comes back as our own op with that seq and
      // is applied as the empty op it is.
      this.skipped(this.outstanding.seq);
      this.outstanding = null;
    }
    if (this.outstanding) this._sendOutstanding();
    else if (this.buffer) this._promoteBuffer();
  }

  _takePending() {
    const dropped = {
      rev: this.rev,
      base: this.base,
      outstanding: this.outstanding,
      buffer: this.buffer,
    };
    this.outstanding = null;
    this.buffer = null;
    return dropped;
  }
}

export default OTClient;
