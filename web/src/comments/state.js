// The comment threads one page shows, without DOM: the `comments` frame and
// `comment` events of docs/protocol-notes.md, each anchor moved into the local
// view (through our unacknowledged ops when it arrives, then with every change
// the editor applies), and the comment messages we send, matched to their
// answers by `ref`. A new comment leaves only when nothing of ours is in
// flight, so its range is relative to the revision it names.

import { moveAnchor, moveThrough } from './anchor.js';

const COMMENTERS = new Set(['owner', 'editor', 'commenter']);
const RESOLVERS = new Set(['owner', 'editor']);

export const canComment = (role) => COMMENTERS.has(role);
// Resolve and reopen: writers, and the thread's author while commenter.
export const canResolve = (role, thread, meId) =>
  RESOLVERS.has(role) || (role === 'commenter' && !!meId && thread.author?.id === meId);
export const canChangeMessage = (role, message, meId) =>
  COMMENTERS.has(role) && !!meId && message.author?.id === meId && !message.deleted;

const ERROR_TEXT = {
  forbidden: 'You may not do that on this document.',
  too_large: 'That comment is too long (10,000 characters at most).',
  not_found: 'That comment no longer exists.',
  rate_limited: 'Too many comments at once. Wait a moment and try again.',
  internal: 'The server could not save the comment. Try again.',
};

export function commentErrorText(code, msg) {
  if (ERROR_TEXT[code]) return ERROR_TEXT[code];
  if (code === 'bad_comment') return `The comment could not be saved${msg ? `: ${msg}` : '.'}`;
  return `The comment could not be saved (${msg || code}).`;
}

// The ids in a message's `mentions` ([{id, name}], missing on older servers).
export const mentionIds = (message) => (Array.isArray(message?.mentions) ? message.mentions : []).map((p) => p?.id);

export class CommentState {
  // opts: send(msg) -> bool; meId (who we are); pending() -> [outstanding op, buffer] (Deltas or
  //   null); rev() -> the client's revision; synced() -> nothing in flight and
  //   online; onChange() (threads or messages changed); onMove() (only
  //   anchors moved); onAnswer(ref, {ok, event?, code?, text?})
  constructor(opts) {
    this.send = opts.send;
    this.meId = opts.meId ?? null;
    this.pending = opts.pending ?? (() => []);
    this.rev = opts.rev ?? (() => null);
    this.synced = opts.synced ?? (() => true);
    this.onChange = opts.onChange ?? (() => {});
    this.onMove = opts.onMove ?? (() => {});
    this.onAnswer = opts.onAnswer ?? (() => {});
    this.threads = new Map(); // id -> thread with messages and a local anchor
    this.requests = new Map(); // ref -> the message sent
    this.drafts = []; // new comments: {ref, anchor, body, mentions, sent}
    this.loaded = false;
    this.nextRef = 1;
  }

  // ---- from the server ----------------------------------------------------

  receive(m) {
    if (m.t === 'comments') this._frame(m);
    else if (m.t === 'comment') this._event(m);
    else if (m.t === 'error') this._refused(m);
  }

  _local(thread) {
    const anchor = moveThrough(this.pending(), { start: thread.start, end: thread.end, orphaned: !!thread.orphaned });
    return { ...thread, ...anchor };
  }

  _frame(m) {
    const known = new Set(this.threads.keys());
    this.threads = new Map((m.threads ?? []).map((t) => [t.id, this._local({ ...t, messages: t.messages ?? [] })]));
    this.loaded = true;
    // A new session: whatever the old one did not answer is known from this
    // frame now; drafts not yet sent go out when we are in step again.
    for (const ref of [...this.requests.keys()]) {
      const sent = this.requests.get(ref);
      if (sent.t === 'comment_new') {
        const draft = this.drafts.find((d) => d.ref === ref);
        const stored = draft?.sent && this._storedDraft(draft, known);
        if (stored) {
          // The old session's answer was lost, not the comment: do not send it twice.
          this.requests.delete(ref);
          this.drafts = this.drafts.filter((d) => d !== draft);
          this.onAnswer(ref, { ok: true, event: { event: 'created', thread: stored } });
        } else if (draft) {
          draft.sent = false;
        }
        continue;
      }
      this.requests.delete(ref);
      this.onAnswer(ref, { ok: false, code: 'disconnected' });
    }
    this.onChange();
  }

  // A thread of ours, new since the last frame, opened with this draft's
  // words: what a sent draft became.
  _storedDraft(draft, known) {
    for (const t of this.threads.values()) {
      if (known.has(t.id) || !this.meId || t.author?.id !== this.meId) continue;
      if (t.messages[0]?.body === draft.body) return t;
    }
    return null;
  }

  _event(m) {
    const old = this.threads.get(m.thread.id);
    let messages = old?.messages ?? [];
    const msg = m.message;
    if (m.event === 'thread_deleted') {
      this.threads.delete(m.thread.id);
    } else {
      if (m.event === 'created') messages = msg ? [msg] : [];
      else if (m.event === 'replied' && msg && !messages.some((x) => x.id === msg.id)) messages = [...messages, msg];
      else if ((m.event === 'edited' || m.event === 'message_deleted') && msg) messages = messages.map((x) => (x.id === msg.id ? msg : x));
      this.threads.set(m.thread.id, this._local({ ...m.thread, messages }));
    }
    if (m.ref != null && this.requests.has(m.ref)) {
      this.requests.delete(m.ref);
      this.drafts = this.drafts.filter((d) => d.ref !== m.ref);
      this.onAnswer(m.ref, { ok: true, event: m });
    }
    this.onChange();
  }

  _refused(m) {
    const sent = this.requests.get(m.ref);
    if (!sent) return;
    if (sent.t === 'comment_new' && (m.code === 'rev_too_old' || m.code === 'rev_in_future')) {
      // Out of step: send it again once we are.
      const draft = this.drafts.find((d) => d.ref === m.ref);
      if (draft) {
        draft.sent = false;
        this.flush();
        return;
      }
    }
    this.requests.delete(m.ref);
    this.drafts = this.drafts.filter((d) => d.ref !== m.ref);
    this.onAnswer(m.ref, { ok: false, code: m.code, text: commentErrorText(m.code, m.msg) });
  }

  // ---- from the editor ----------------------------------------------------

  // A change applied to the local view (ours or someone else's).
  edited(delta) {
    let orphaned = false;
    for (const [id, t] of this.threads) {
      const moved = moveAnchor(delta, t);
      orphaned ||= moved.orphaned && !t.orphaned;
      this.threads.set(id, { ...t, ...moved });
    }
    for (const d of this.drafts) d.anchor = moveAnchor(delta, d.anchor);
    // A thread whose text was just deleted is shown differently, not only elsewhere.
    if (orphaned) this.onChange();
    else if (this.threads.size) this.onMove();
  }

  // Nothing of ours in flight: a waiting new comment can name our revision.
  settled() {
    this.flush();
  }

  flush() {
    if (!this.synced()) return;
    for (const d of this.drafts) {
      if (d.sent) continue;
      if (d.anchor.orphaned) {
        // Its text was deleted while it waited: nothing left to comment on.
        this.drafts = this.drafts.filter((x) => x !== d);
        this.requests.delete(d.ref);
        this.onAnswer(d.ref, { ok: false, code: 'bad_comment', text: 'The text you commented on was deleted.' });
        continue;
      }
      const msg = { t: 'comment_new', ref: d.ref, rev: this.rev(), start: d.anchor.start, end: d.anchor.end, body: d.body };
      if (d.mentions.length) msg.mentions = d.mentions;
      if (this.send(msg)) {
        d.sent = true;
        this.requests.set(d.ref, msg);
      }
    }
  }

  // ---- actions ------------------------------------------------------------

  // A new thread on [start, end) of the local view. Returns its ref.
  create({ start, end, body, mentions = [] }) {
    const ref = this._ref();
    this.drafts.push({ ref, anchor: { start, end, orphaned: end <= start }, body, mentions, sent: false });
    this.requests.set(ref, { t: 'comment_new' });
    this.flush();
    return ref;
  }

  reply(thread, body, mentions = []) {
    return this._request({ t: 'comment_reply', thread, body, ...(mentions.length ? { mentions } : {}) });
  }

  edit(message, body, mentions = []) {
    return this._request({ t: 'comment_edit', message, body, ...(mentions.length ? { mentions } : {}) });
  }

  remove(message) {
    return this._request({ t: 'comment_delete', message });
  }

  resolve(thread) {
    return this._request({ t: 'comment_resolve', thread });
  }

  reopen(thread) {
    return this._request({ t: 'comment_reopen', thread });
  }

  // Returns the ref, or null when there is no connection to send it on.
  _request(body) {
    const ref = this._ref();
    const msg = { ...body, ref };
    if (!this.send(msg)) return null;
    this.requests.set(ref, msg);
    return ref;
  }

  _ref() {
    return `c${this.nextRef++}`;
  }

  // ---- views --------------------------------------------------------------

  // Threads by position in the text (then age); resolved ones only when asked.
  list({ resolved = false } = {}) {
    return [...this.threads.values()]
      .filter((t) => resolved || !t.resolved)
      .sort((a, b) => a.start - b.start || a.end - b.end || a.created_at - b.created_at);
  }

  get openCount() {
    let n = 0;
    for (const t of this.threads.values()) if (!t.resolved) n += 1;
    return n;
  }

  // The open, not orphaned, thread whose range holds `index` (the shortest).
  threadAt(index) {
    let best = null;
    for (const t of this.threads.values()) {
      if (t.resolved || t.orphaned || index < t.start || index > t.end) continue;
      if (!best || t.end - t.start < best.end - best.start) best = t;
    }
    return best;
  }
}
