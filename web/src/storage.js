// Local safety net: the unconfirmed edits of a document (outstanding op,
// buffer, the revision and document they are based on, the client id and
// seq) kept in localStorage, so a tab closed or crashed while offline sends
// them on the next open. localStorage because it is synchronous: a write
// finishes before `pagehide` returns and before an op leaves (see seq keys).
//
// Several tabs may edit one document, each with its own client id, so each
// record is keyed by document and client. A record belongs to the tab that
// writes its heartbeat; a tab that reopens takes back its own record (named
// in sessionStorage, which survives a reload) or adopts an orphan: released
// on `pagehide` (beat 0) or with a heartbeat older than STALE_MS (crash).

export const STALE_MS = 20000;
const PREFIX = 'quire:pending:';
const SEQ_PREFIX = 'quire:seq:';
const TAB_PREFIX = 'quire:tab:';

export class PendingStore {
  constructor({ docId, storage = globalThis.localStorage, session = globalThis.sessionStorage, now = Date.now }) {
    this.docId = docId;
    this.storage = storage;
    this.session = session;
    this.now = now;
    this.lastError = null;
  }

  _key(client) {
    return `${PREFIX}${this.docId}:${client}`;
  }

  _seqKey(client) {
    return `${SEQ_PREFIX}${this.docId}:${client}`;
  }

  _records() {
    const out = [];
    const prefix = `${PREFIX}${this.docId}:`;
    for (let i = 0; i < this.storage.length; i++) {
      const key = this.storage.key(i);
      if (!key || !key.startsWith(prefix)) continue;
      try {
        const rec = JSON.parse(this.storage.getItem(key));
        if (rec && rec.v === 1 && rec.state) out.push(rec);
      } catch {
        // A corrupt record cannot be restored; leave it for inspection.
      }
    }
    return out;
  }

  // The pending state this tab may take over, or null. Claims it at once so
  // a second tab opening at the same moment does not take it too.
  adopt() {
    const records = this._records();
    const mine = this.session?.getItem(TAB_PREFIX + this.docId);
    const now = this.now();
    // Free: released by its page or silent for too long. "Mine" alone is not
    // enough, since a duplicated tab copies sessionStorage too.
    const free = records.filter((r) => r.beat === 0 || now - r.beat > STALE_MS);
    const rec = free.find((r) => r.state.client === mine)
      ?? free.sort((a, b) => b.savedAt - a.savedAt)[0];
    if (!rec) return null;
    const state = { ...rec.state };
    const seq = Number(this.storage.getItem(this._seqKey(state.client)) ?? 0);
    if (seq > state.nextSeq) state.nextSeq = seq;
    this.save(state);
    return state;
  }

  // Returns false when the browser refused (quota): the caller warns.
  // `released`: the page is leaving, so the record is free for the next one.
  save(state, { released = false } = {}) {
    if (!state.outstanding && !state.buffer) {
      this.clear(state.client);
      return true;
    }
    const rec = { v: 1, doc: this.docId, beat: released ? 0 : this.now(), savedAt: this.now(), state };
    try {
      this.storage.setItem(this._key(state.client), JSON.stringify(rec));
      this.session?.setItem(TAB_PREFIX + this.docId, state.client);
      this.lastError = null;
      return true;
    } catch (e) {
      this.lastError = e;
      return false;
    }
  }

  // Written synchronously before an op with a new seq leaves, so that a
  // restored older record never sends a different op under a used seq.
  saveSeq(client, nextSeq) {
    try {
      this.storage.setItem(this._seqKey(client), String(nextSeq));
    } catch {
      // Without room the record's own nextSeq still bounds the damage.
    }
  }

  clear(client) {
    this.storage.removeItem(this._key(client));
    this.storage.removeItem(this._seqKey(client));
  }

  _touch(client, beat) {
    const key = this._key(client);
    const raw = this.storage.getItem(key);
    if (!raw) return;
    try {
      const rec = JSON.parse(raw);
      rec.beat = beat;
      this.storage.setItem(key, JSON.stringify(rec));
    } catch {
      // Leave it; it is not ours to fix.
    }
  }

  heartbeat(client) {
    this._touch(client, this.now());
  }

  // The page is going away: any tab may adopt the record right now.
  release(client) {
    this._touch(client, 0);
  }
}

// An in-memory Storage for tests and for browsers that deny localStorage.
export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}
