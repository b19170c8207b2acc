// Local persistence (storage.js) and the log-out guard: records belong to
// one user and one tab; Web Locks make a tab's ownership exclusive where the
// browser has them (a fake navigator.locks here), heartbeats otherwise; a
// log-out warns about unsent edits and clears that user's records.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PendingStore, MemoryStorage, STALE_MS, RELEASE_WAIT_MS, unsentDocuments, clearUserRecords,
} from '../../src/storage.js';
import { createLogoutGuard, isLogoutForm, logoutWarning } from '../../src/ui/logout-guard.js';
import { FakeLocks } from '../lib/fake-locks.js';

// One browser: a localStorage, a clock and (optionally) a lock manager
// shared by its tabs; mk() is one tab's store (its own sessionStorage).
function browser({ locks = null, now = { t: 1_000_000 } } = {}) {
  const storage = new MemoryStorage();
  const mk = ({ user = 'u1', doc = 'd1', session = new MemoryStorage() } = {}) => new PendingStore({
    docId: doc, userId: user, storage, session, now: () => now.t, locks,
  });
  return { storage, mk, now, locks };
}

const pendingState = (client, extra = {}) => ({
  client, nextSeq: 4, rev: 7, base: [{ insert: 'abc\n' }],
  outstanding: { seq: 3, op: [{ insert: 'X' }] }, buffer: [{ retain: 1 }, { insert: 'Y' }], ...extra,
});

const tick = () => new Promise((r) => setImmediate(r));

// ---- without Web Locks: heartbeats --------------------------------------------

test('storage: a released record (tab closed or reloaded) is adopted at once, with its client id', async () => {
  const { mk } = browser();
  const tab1 = mk();
  assert.equal(tab1.save(pendingState('c1')), true);
  assert.equal(await mk().adopt(), null, 'live tab: not adoptable');
  tab1.release('c1');
  const state = await mk().adopt();
  assert.equal(state.client, 'c1');
  assert.deepEqual(state.outstanding, { seq: 3, op: [{ insert: 'X' }] });
  assert.equal(await mk().adopt(), null, 'claimed by the adopter');
});

test('storage: a crashed tab\'s record is adopted after STALE_MS; the seq key wins over an older record', async () => {
  const { mk, now } = browser();
  const tab1 = mk();
  tab1.save(pendingState('c1'));
  tab1.saveSeq('c1', 9); // op 8 left after the last full save
  now.t += STALE_MS - 1;
  assert.equal(await mk().adopt(), null);
  now.t += 2;
  assert.equal((await mk().adopt()).nextSeq, 9);
});

test('storage: a heartbeat keeps the record owned; nothing pending removes it', async () => {
  const { mk, now, storage } = browser();
  const tab1 = mk();
  tab1.save(pendingState('c1'));
  now.t += STALE_MS - 1000;
  tab1.heartbeat('c1');
  now.t += 2000;
  assert.equal(await mk().adopt(), null);
  tab1.save(pendingState('c1', { outstanding: null, buffer: null }));
  assert.equal(storage.length, 0);
});

test('storage: records are per document, and a full storage reports failure', async () => {
  const { mk } = browser();
  mk().save(pendingState('c1'));
  mk().release('c1');
  assert.equal(await mk({ doc: 'd2' }).adopt(), null);
  const full = new PendingStore({
    docId: 'd3', userId: 'u1', session: null, locks: null,
    storage: { setItem() { throw new Error('QuotaExceededError'); }, getItem: () => null, removeItem() {}, length: 0, key: () => null },
  });
  assert.equal(full.save(pendingState('c9')), false);
});

test('storage: a reopened tab takes back its own record before a newer orphan', async () => {
  const { mk, now } = browser();
  const session = new MemoryStorage();
  const tab1 = mk({ session });
  tab1.save(pendingState('mine'));
  tab1.release('mine');
  now.t += 10;
  const other = mk();
  other.save(pendingState('theirs'));
  other.release('theirs');
  assert.equal((await mk({ session }).adopt()).client, 'mine');
});

// ---- records belong to one user ----------------------------------------------

test('storage: another user\'s unsent edits are never adopted, even released on a shared browser', async () => {
  const { mk } = browser();
  const ann = mk({ user: 'ann' });
  ann.save(pendingState('c-ann'));
  ann.release('c-ann');
  assert.equal(await mk({ user: 'bob' }).adopt(), null, 'Bob never sends Ann\'s edits');
  assert.equal((await mk({ user: 'ann' }).adopt()).client, 'c-ann', 'Ann gets them back');
});

test('storage: a record is only adopted if the user inside it matches too, and old user-less records never are', async () => {
  const { mk, storage } = browser();
  const bob = mk({ user: 'bob' });
  bob.save(pendingState('c1'));
  bob.release('c1');
  // Someone copied Bob's record under Ann's key.
  const bobKey = [...storage.map.keys()].find((k) => k.includes('pending'));
  storage.setItem(bobKey.replace('bob', 'ann'), storage.getItem(bobKey));
  storage.removeItem(bobKey);
  // A record from before records had a user.
  storage.setItem('quire:pending:d1:c-old', JSON.stringify({ v: 1, doc: 'd1', beat: 0, savedAt: 1, state: pendingState('c-old') }));
  assert.equal(await mk({ user: 'ann' }).adopt(), null);
});

test('storage: user and document ids with colons cannot reach each other\'s records', async () => {
  const { mk } = browser();
  const a = mk({ user: 'a:b', doc: 'c' });
  a.save(pendingState('x'));
  a.release('x');
  assert.equal(await mk({ user: 'a', doc: 'b:c' }).adopt(), null);
  assert.equal(await mk({ user: 'a', doc: 'b' }).adopt(), null);
});

test('storage: log-out lists and clears only that user\'s records (and the old user-less ones)', () => {
  const { mk, storage } = browser();
  mk({ user: 'ann', doc: 'd1' }).save(pendingState('c1'));
  mk({ user: 'ann', doc: 'd:2' }).save(pendingState('c2'));
  mk({ user: 'ann', doc: 'd1' }).saveSeq('c1', 5);
  mk({ user: 'bob', doc: 'd1' }).save(pendingState('c3'));
  storage.setItem('quire:pending:d9:c-old', '{}');
  storage.setItem('quire:seq:d9:c-old', '3');
  storage.setItem('unrelated', 'kept');
  assert.deepEqual(unsentDocuments(storage, 'ann').sort(), ['d1', 'd9', 'd:2']);
  assert.deepEqual(unsentDocuments(storage, 'bob').sort(), ['d1', 'd9']);
  assert.deepEqual(unsentDocuments(storage, 'carol'), ['d9']);
  clearUserRecords(storage, 'ann');
  const left = [...storage.map.keys()].sort();
  assert.equal(left.length, 2);
  assert.ok(left.includes('unrelated'));
  assert.ok(left.some((k) => k.includes('bob') && k.includes('c3')), 'Bob\'s record stays');
  assert.deepEqual(unsentDocuments(storage, 'ann'), []);
});

test('storage: a store needs a user id', () => {
  assert.throws(() => new PendingStore({ docId: 'd1', userId: '', storage: new MemoryStorage(), session: null }), /user/);
});

// ---- with Web Locks: exclusive ownership ---------------------------------------

test('locks: a live tab keeps its record even when its heartbeat went stale (throttled background tab)', async () => {
  const { mk, now, locks } = browser({ locks: new FakeLocks() });
  const tab1 = mk();
  tab1.own('c1');
  await tick();
  tab1.save(pendingState('c1'));
  now.t += 10 * STALE_MS; // timers of a hidden tab run once a minute at best
  assert.equal(await mk().adopt(), null, 'still owned: its page holds the lock');
  tab1.release('c1'); // pagehide, but the page stays (back/forward cache)
  const start = Date.now();
  assert.equal(await mk().adopt(), null);
  assert.ok(Date.now() - start >= RELEASE_WAIT_MS - 50, 'waited for a released record');
  assert.ok(locks.isHeld(tab1._lockName('c1')));
});

test('locks: a crashed tab\'s record is adopted at once, its lock gone with the page', async () => {
  const { mk, locks } = browser({ locks: new FakeLocks() });
  const tab1 = mk();
  tab1.own('c1');
  await tick();
  tab1.save(pendingState('c1')); // fresh heartbeat
  locks.kill(tab1._lockName('c1'));
  await tick();
  const state = await mk().adopt();
  assert.equal(state?.client, 'c1');
});

test('locks: two tabs restoring at once never share the record', async () => {
  const { mk, locks } = browser({ locks: new FakeLocks() });
  const tab1 = mk();
  tab1.own('c1');
  await tick();
  tab1.save(pendingState('c1'));
  tab1.release('c1');
  locks.kill(tab1._lockName('c1'));
  await tick();
  const [x, y] = await Promise.all([mk().adopt(), mk().adopt()]);
  assert.deepEqual([x?.client, y?.client].filter(Boolean), ['c1'], 'exactly one adopter');
});

test('locks: a reload adopts its record once the old page lets the lock go', async () => {
  const { mk, locks } = browser({ locks: new FakeLocks() });
  const session = new MemoryStorage();
  const old = mk({ session });
  old.own('c1');
  await tick();
  old.save(pendingState('c1'));
  old.release('c1'); // pagehide; the old document is not gone yet
  const adopting = mk({ session }).adopt();
  setTimeout(() => locks.kill(old._lockName('c1')), 50);
  assert.equal((await adopting)?.client, 'c1');
});

test('locks: the adopter holds the lock; disown lets it go', async () => {
  const { mk, locks } = browser({ locks: new FakeLocks() });
  mk().save(pendingState('c1')); // its page is gone: nobody holds the lock
  const tab2 = mk();
  assert.equal((await tab2.adopt()).client, 'c1');
  const name = tab2._lockName('c1');
  assert.ok(locks.isHeld(name));
  assert.ok(locks.requests.some((r) => r.name === name && r.opts.ifAvailable));
  tab2.disown('c1');
  await tick();
  assert.equal(locks.isHeld(name), false);
});

// ---- the log-out guard ----------------------------------------------------------

const form = (action, method = 'post') => ({
  tagName: 'FORM',
  getAttribute: (k) => ({ action, method }[k] ?? null),
});
const submit = (target) => ({ target, prevented: false, preventDefault() { this.prevented = true; } });

test('log-out guard: recognizes the server\'s log-out form only', () => {
  const base = 'https://q.example/d/x';
  assert.equal(isLogoutForm(form('/logout'), base), true);
  assert.equal(isLogoutForm(form('https://q.example/logout'), base), true);
  assert.equal(isLogoutForm(form('/logout', 'get'), base), false);
  assert.equal(isLogoutForm(form('/docs/new'), base), false);
  assert.equal(isLogoutForm({ tagName: 'DIV', getAttribute: () => '/logout' }, base), false);
  assert.match(logoutWarning(1), /one document/);
  assert.match(logoutWarning(3), /3 documents/);
});

test('log-out guard: warns about unsent edits; cancel keeps them, confirm clears them', () => {
  const { mk, storage } = browser();
  mk({ user: 'ann' }).save(pendingState('c1'));
  mk({ user: 'bob' }).save(pendingState('c2'));
  const asked = [];
  let answer = false;
  let forgotten = 0;
  const guard = createLogoutGuard({
    base: () => 'https://q.example/d/d1',
    unsent: () => unsentDocuments(storage, 'ann').length,
    confirm: (text) => { asked.push(text); return answer; },
    forget: () => { forgotten++; clearUserRecords(storage, 'ann'); },
  });
  const cancelled = submit(form('/logout'));
  guard(cancelled);
  assert.equal(cancelled.prevented, true, 'stays signed in');
  assert.equal(forgotten, 0);
  assert.deepEqual(unsentDocuments(storage, 'ann'), ['d1']);
  answer = true;
  const confirmed = submit(form('/logout'));
  guard(confirmed);
  assert.equal(confirmed.prevented, false, 'the log-out goes ahead');
  assert.deepEqual(unsentDocuments(storage, 'ann'), []);
  assert.deepEqual(unsentDocuments(storage, 'bob'), ['d1'], 'another user\'s records are not ours to drop');
  assert.equal(asked.length, 2);
  // Nothing unsent: no question; other forms: untouched.
  const quiet = submit(form('/logout'));
  guard(quiet);
  assert.equal(asked.length, 2);
  assert.equal(forgotten, 2);
  guard(submit(form('/docs/new')));
  assert.equal(forgotten, 2);
});
