// Local safety net: the unconfirmed edits of a document (outstanding op,
// buffer, the revision and document they are based on, the client id and
// seq) kept in localStorage, so a tab closed or crashed while offline sends
// them on the next open. localStorage because it is synchronous: a write
// finishes before `pagehide` returns and before an op leaves (see seq keys).
//
// Records belong to a person: keyed by user id, document and client id, and
// only ever adopted by a page of the same user (on a shared browser, someone
// else must not send them under their name). They are cleared when that
// person logs out (ui/logout-guard.js).
//
// Several tabs may edit one document, each with its own client id, and a
// record is owned by exactly one tab. Where the browser has Web Locks, the
// owner holds the record's lock for the life of the page (the browser drops
// it when the page dies, crash included), so a record is free exactly when
// its lock can be taken, and two tabs restoring at once cannot both get it.
// Elsewhere, the owner writes a heartbeat, and a record is free once
// released on `pagehide` (beat 0) or silent for STALE_MS (crash). Either way
// a reopened tab prefers its own record (named in sessionStorage, which
// survives a reload).

export const STALE_MS = 20000;
// A record released by a page that is reloading may stay locked while the
// old document goes away: wait this long for it before giving up.
export const RELEASE_WAIT_MS = 1500;
const ROOT = 'quire:u:';
const TAB_PREFIX = 'quire:tab:';
// Before records had a user: never adopted (whose are they?), cleared on log-out.
const LEGACY = ['quire:pending:', 'quire:seq:'];

const userPrefix = (userId) => `${ROOT}${encodeURIComponent(userId)}:`;

export class PendingStore {
  // locks: navigator.locks or null (then heartbeats decide who owns what).
  constructor({
    docId, userId, storage = globalThis.localStorage, session = globalThis.sessionStorage, now = Date.now,
    locks = globalThis.navigator?.locks ?? null,
  }) {
    if (!userId) throw new Error('PendingStore needs the signed-in user\'s id');
    this.docId = docId;
    this.userId = userId;
    this.storage = storage;
    this.session = session;
    this.now = now;
    this.locks = locks?.request ? locks : null;
    this.held = new Map(); // client -> release(): the locks this page holds
    this.lastError = null;
  }

  _docPrefix(kind) {
    return `${userPrefix(this.userId)}${kind}:${encodeURIComponent(this.docId)}:`;
  }

  _key(client) {
    return this._docPrefix('pending') + client;
  }

  _seqKey(client) {
    return this._docPrefix('seq') + client;
  }

  _tabKey() {
    return `${TAB_PREFIX}${encodeURIComponent(this.userId)}:${encodeURIComponent(this.docId)}`;
  }

  _lockName(client) {
    return `quire:record:${encodeURIComponent(this.userId)}:${encodeURIComponent(this.docId)}:${client}`;
  }

  _read(key) {
    try {
      const rec = JSON.parse(this.storage.getItem(key));
      // The user inside the record too: a key is only a name.
      if (rec && rec.v === 2 && rec.state && rec.user === this.userId) return rec;
    } catch {
      // A corrupt record cannot be restored; leave it for inspection.
    }
    return null;
  }

  _records() {
    const prefix = this._docPrefix('pending');
    return storageKeys(this.storage).filter((k) => k.startsWith(prefix)).map((k) => this._read(k)).filter(Boolean);
  }

  // The pending state this page takes over, or null. Claims it at once so
  // a second tab opening at the same moment does not take it too. Async:
  // with Web Locks the claim is the lock, held until the page goes away.
  async adopt() {
    const mine = this.session?.getItem(this._tabKey());
    // Newest first, but this tab's own record (a reload) before any other.
    const candidates = this._records().sort((a, b) => b.savedAt - a.savedAt)
      .sort((a, b) => (b.state.client === mine) - (a.state.client === mine));
    for (const rec of candidates) {
      const client = rec.state.client;
      if (this.locks) {
        if (!(await this._lock(client, rec.beat === 0 ? RELEASE_WAIT_MS : 0))) continue;
      } else if (!this._freeByHeartbeat(rec)) {
        continue;
      }
      // Read again: it may have changed while we waited for the lock.
      const fresh = this._read(this._key(client));
      if (!fresh) {
        this.disown(client);
        continue;
      }
      return this._claim(fresh.state);
    }
    return null;
  }

  // Released by its page or silent for too long. "Mine" alone is not
  // enough, since a duplicated tab copies sessionStorage too.
  _freeByHeartbeat(rec) {
    return rec.beat === 0 || this.now() - rec.beat > STALE_MS;
  }

  _claim(recState) {
    const state = { ...recState };
    const seq = Number(this.storage.getItem(this._seqKey(state.client)) ?? 0);
    if (seq > state.nextSeq) state.nextSeq = seq;
    this.save(state);
    return state;
  }

  // This page uses `client` (a fresh id, or a new one after stale_seq): hold
  // its lock so that no other tab adopts its record while the page lives.
  own(client) {
    if (this.locks) this._lock(client, 0);
  }

  // Done with `client` (its edits moved to another id): let its lock go.
  disown(client) {
    const release = this.held.get(client);
    this.held.delete(client);
    release?.();
  }

  // Let every lock go (tests; the browser does it when the page dies).
  close() {
    for (const client of [...this.held.keys()]) this.disown(client);
  }

  // Resolves true once this page holds the record's lock, false when another
  // page has it (after up to waitMs).
  _lock(client, waitMs) {
    if (this.held.has(client)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer = null;
      let opts = { ifAvailable: true };
      if (waitMs > 0) {
        const ctrl = new AbortController();
        timer = setTimeout(() => ctrl.abort(), waitMs);
        opts = { signal: ctrl.signal };
      }
      this.locks.request(this._lockName(client), opts, (lock) => {
        if (timer) clearTimeout(timer);
        if (!lock) {
          resolve(false);
          return undefined;
        }
        // Held until disown(); the page's end releases it otherwise.
        return new Promise((release) => {
          this.held.set(client, release);
          resolve(true);
        });
      }).catch(() => resolve(false)); // aborted: still someone else's
    });
  }

  // Returns false when the browser refused (quota): the caller warns.
  // `released`: the page is leaving, so the record is free for the next one.
  save(state, { released = false } = {}) {
    if (!state.outstanding && !state.buffer) {
      this.clear(state.client);
      return true;
    }
    const rec = {
      v: 2, user: this.userId, doc: this.docId, beat: released ? 0 : this.now(), savedAt: this.now(), state,
    };
    try {
      this.storage.setItem(this._key(state.client), JSON.stringify(rec));
      this.session?.setItem(this._tabKey(), state.client);
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
    const rec = this._read(key);
    if (!rec) return;
    rec.beat = beat;
    this.storage.setItem(key, JSON.stringify(rec));
  }

  heartbeat(client) {
    this._touch(client, this.now());
  }

  // The page is going away: any tab may adopt the record right now.
  release(client) {
    this._touch(client, 0);
  }
}

function storageKeys(storage) {
  const keys = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key) keys.push(key);
  }
  return keys;
}

// The documents in which `userId` has unsent edits kept in this browser
// (records without a user, from before they had one, count too: log-out
// clears them).
export function unsentDocuments(storage, userId) {
  const prefix = `${userPrefix(userId)}pending:`;
  const docs = new Set();
  for (const key of storageKeys(storage)) {
    if (key.startsWith(prefix)) docs.add(decodeURIComponent(key.slice(prefix.length).split(':')[0]));
    else if (key.startsWith(LEGACY[0])) docs.add(key.slice(LEGACY[0].length).split(':')[0]);
  }
  return [...docs];
}

// Log-out: forget every record of `userId` (and the user-less legacy ones),
// so the next person on this browser never sees or sends them.
export function clearUserRecords(storage, userId) {
  const prefixes = [userPrefix(userId), ...LEGACY];
  for (const key of storageKeys(storage)) {
    if (prefixes.some((p) => key.startsWith(p))) storage.removeItem(key);
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
