// DocSync + Connection against the in-process FakeServer through a fake
// WebSocket: reconnect and resume, no frames queued while down, the error
// policy of PROTOCOL.md, redirects, local persistence across a "reload".

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { DocSync, SUGGESTION_RACED } from '../../src/sync.js';
import { PendingStore, MemoryStorage } from '../../src/storage.js';
import { FakeServer } from '../lib/fake-server.js';
import { FakeLocks } from '../lib/fake-locks.js';

// Stop every session even when an assertion failed, or its timers would keep
// the test process alive.
const live = [];
afterEach(() => {
  for (const ed of live.splice(0)) ed.sync.stop();
});

const tick = () => new Promise((r) => setImmediate(r));
async function settle(n = 20) {
  for (let i = 0; i < n; i++) await tick();
}

// A network of fake sockets talking to one FakeServer. `intercept(msg, ws)`
// may answer a client message itself (return true) to inject errors.
function fakeNet(server = new FakeServer()) {
  const net = { server, sockets: [], urls: [], down: false, intercept: null, sent: [] };
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      net.urls.push(url);
      net.sockets.push(this);
      setImmediate(() => {
        if (net.down) return this._close(1006);
        this.readyState = 1;
        this.conn = server.connect((m) => setImmediate(() => this.readyState === 1 && this.onmessage?.({ data: JSON.stringify(m) })),
          { role: net.role ?? 'editor' });
        this.onopen?.();
      });
    }
    send(data) {
      if (this.readyState !== 1) throw new Error('not open');
      const msg = JSON.parse(data);
      net.sent.push(msg);
      if (net.intercept?.(msg, this)) return;
      server.receive(this.conn, msg);
    }
    reply(msg) {
      setImmediate(() => this.onmessage?.({ data: JSON.stringify(msg) }));
    }
    close() {
      this._close(1000);
    }
    _close(code) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      if (this.conn) server.close(this.conn);
      setImmediate(() => this.onclose?.({ code }));
    }
  }
  net.WS = FakeWS;
  net.killAll = () => net.sockets.forEach((s) => s._close(1006));
  return net;
}

// A DocSync with a plain Delta standing in for Quill.
function editor(net, { store = null, restored = null, role = 'editor', retryMs } = {}) {
  const ed = { doc: new Delta(), statuses: [], unsent: [], roles: [], resyncs: 0 };
  ed.sync = new DocSync({
    url: 'ws://test/api/docs/d1/ws',
    user: { name: 'T', color: '#000' },
    role,
    store,
    restored,
    WebSocketImpl: net.WS,
    hooks: {
      apply: (d) => { ed.doc = ed.doc.compose(d); },
      load: (doc) => { ed.doc = doc; },
      status: (s) => ed.statuses.push(s),
      unsent: (u, why) => ed.unsent.push({ u, why }),
      role: (ro) => ed.roles.push(ro),
      resyncing: () => { ed.resyncs++; },
    },
  });
  live.push(ed);
  ed.sync.conn.backoff = { next: () => 5, reset() {} };
  if (retryMs) ed.sync.retryBackoff = { next: () => retryMs, reset() {} };
  const initial = ed.sync.initialDocument();
  if (initial) ed.doc = initial;
  ed.type = (d) => {
    ed.doc = ed.doc.compose(d);
    ed.sync.localChange(d);
  };
  ed.status = () => ed.statuses.at(-1)?.text;
  return ed;
}

const ins = (at, s) => new Delta().retain(at).insert(s);

test('two sessions converge; status goes Saving… then Saved', async () => {
  const net = fakeNet();
  const a = editor(net);
  const b = editor(net);
  a.sync.start();
  b.sync.start();
  await settle();
  assert.equal(a.status(), 'Saved');
  a.type(ins(0, 'Hello'));
  assert.equal(a.status(), 'Saving…');
  b.type(ins(0, 'World'));
  await settle();
  assert.deepEqual(a.doc.ops, net.server.doc.ops);
  assert.deepEqual(b.doc.ops, net.server.doc.ops);
  assert.equal(a.status(), 'Saved');
  const hello = net.sent.find((m) => m.t === 'hello');
  assert.deepEqual(Object.keys(hello).sort(), ['client', 'proto', 'rev', 't', 'user']);
  assert.equal(hello.rev, null);
  a.sync.stop();
  b.sync.stop();
});

test('offline: nothing is sent or queued, status says offline, edits sync after reconnect', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  net.down = true;
  net.killAll();
  await settle();
  const before = net.sent.length;
  a.type(ins(0, 'offline '));
  a.type(ins(8, 'edit'));
  assert.equal(a.sync.conn.send({ t: 'ping' }), false, 'send refuses while down');
  await settle();
  assert.equal(net.sent.length, before, 'no frame while the socket is down');
  assert.equal(a.status(), 'Offline, your changes will sync');
  assert.equal(a.sync.hasUnsaved, true);
  net.down = false;
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.equal(a.status(), 'Saved');
  assert.deepEqual(net.server.doc.ops, [{ insert: 'offline edit\n' }]);
  const hellos = net.sent.filter((m) => m.t === 'hello');
  assert.equal(hellos.at(-1).rev, 0, 'resumed from its revision');
  assert.equal(net.server.log.length, 1, 'offline edits went out as one op');
  a.sync.stop();
});

test('a lost ack is recovered from the catch-up: no duplicate text', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  // The server commits the op but the connection dies before the ack.
  net.intercept = (msg, ws) => {
    if (msg.t !== 'op') return false;
    net.server.receive({ deliver() {}, client: msg.client ?? a.sync.ot.client, role: 'editor', joined: false }, msg);
    ws._close(1006);
    net.intercept = null;
    return true;
  };
  a.type(ins(0, 'once'));
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.deepEqual(net.server.doc.ops, [{ insert: 'once\n' }]);
  assert.equal(net.server.log.length, 1);
  assert.ok(a.sync.ot.isSynchronized);
  a.sync.stop();
});

test('forbidden: pending edits dropped and shown, resync from a snapshot, read-only', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  net.intercept = (msg, ws) => {
    if (msg.t !== 'op') return false;
    ws.reply({ t: 'error', code: 'forbidden', msg: 'viewer', seq: msg.seq, fatal: false });
    net.intercept = null;
    net.role = 'viewer'; // the owner demoted us meanwhile
    return true;
  };
  a.type(ins(0, 'mine'));
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.equal(a.unsent.length, 1);
  assert.deepEqual(a.unsent[0].u.typed, ['mine']);
  assert.deepEqual(a.roles, [true]);
  assert.equal(a.status(), 'Read-only');
  assert.equal(a.resyncs, 1);
  assert.deepEqual(a.doc.ops, [{ insert: '\n' }], 'document reloaded from the server');
  assert.equal(net.sent.filter((m) => m.t === 'hello').at(-1).rev, null, 'resync asks for a snapshot');
  a.type(ins(0, 'ignored'));
  assert.equal(a.sync.hasUnsaved, false, 'read-only: edits are not taken');
  a.sync.stop();
});

test('a commenter suggesting whose op is refused lost a race: reloaded with its text shown, still suggesting', async () => {
  const net = fakeNet();
  net.role = 'commenter';
  const a = editor(net, { role: 'commenter' });
  a.sync.start();
  await settle();
  a.sync.setSuggestOnly(true);
  const roles = [...a.roles];
  net.intercept = (msg, ws) => {
    if (msg.t !== 'op') return false;
    ws.reply({ t: 'error', code: 'forbidden', msg: 'not your suggestion', seq: msg.seq, fatal: false });
    net.intercept = null;
    return true;
  };
  a.type(ins(0, 'mine'));
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.equal(a.unsent.length, 1);
  assert.deepEqual(a.unsent[0].u.typed, ['mine']);
  assert.equal(a.unsent[0].why, SUGGESTION_RACED);
  assert.equal(a.resyncs, 1);
  assert.deepEqual(a.roles, roles, 'no role change was announced');
  assert.ok(a.sync.mayType, 'the commenter can go on suggesting');
  a.type(ins(0, 'again'));
  assert.equal(a.sync.hasUnsaved, true, 'the next suggestion is taken');
  a.sync.stop();
});

test('bad_op and too_large: resync with the unsent text kept visible', async () => {
  for (const code of ['bad_op', 'too_large']) {
    const net = fakeNet();
    const a = editor(net);
    a.sync.start();
    await settle();
    net.intercept = (msg, ws) => {
      if (msg.t !== 'op') return false;
      ws.reply({ t: 'error', code, msg: code, seq: msg.seq, fatal: false });
      net.intercept = null;
      return true;
    };
    a.type(ins(0, 'lost?'));
    await new Promise((r) => setTimeout(r, 30));
    await settle();
    assert.equal(a.unsent.length, 1, code);
    assert.equal(a.unsent[0].u.document, 'lost?\n');
    assert.equal(a.sync.readOnly, false);
    a.type(ins(0, 'again'));
    await settle();
    assert.deepEqual(net.server.doc.ops, [{ insert: 'again\n' }], `${code}: editing goes on`);
    a.sync.stop();
  }
});

test('rate_limited and internal: the same seq is resent after a pause', async () => {
  for (const code of ['rate_limited', 'internal']) {
    const net = fakeNet();
    const a = editor(net, { retryMs: 10 });
    a.sync.start();
    await settle();
    let refused = 0;
    net.intercept = (msg, ws) => {
      if (msg.t !== 'op' || refused >= 2) return false;
      refused++;
      ws.reply({ t: 'error', code, msg: code, seq: msg.seq, fatal: false });
      return true;
    };
    a.type(ins(0, 'x'));
    await settle();
    assert.match(a.status(), code === 'internal' ? /retrying/ : /saving shortly/);
    await new Promise((r) => setTimeout(r, 60));
    await settle();
    const ops = net.sent.filter((m) => m.t === 'op');
    assert.equal(ops.length, 3);
    assert.ok(ops.every((m) => m.seq === 1), 'same seq every time');
    assert.equal(a.status(), 'Saved');
    a.sync.stop();
  }
});

test('fatal codes stop reconnecting and explain why', async () => {
  for (const [code, re] of [['unauthorized', /signed out/], ['unsupported_proto', /Reload/], ['bad_message', /Reload/]]) {
    const net = fakeNet();
    const a = editor(net);
    net.intercept = (msg, ws) => {
      ws.reply({ t: 'error', code, msg: code, fatal: true });
      setTimeout(() => ws._close(1008), 5);
      return true;
    };
    a.sync.start();
    await new Promise((r) => setTimeout(r, 50));
    await settle();
    assert.match(a.status(), re, code);
    assert.equal(net.urls.length, 1, `${code}: no reconnect loop`);
    a.sync.stop();
  }
});

test('redirect: connect to the given node at once, then back to the home URL later', async () => {
  const net = fakeNet();
  const a = editor(net);
  let redirected = false;
  net.intercept = (msg, ws) => {
    if (msg.t === 'hello' && !redirected) {
      redirected = true;
      ws.reply({ t: 'redirect', url: 'http://node2.test/api/docs/d1/ws?ticket=abc' });
      setTimeout(() => ws._close(1000), 5);
      return true;
    }
    return false;
  };
  a.sync.start();
  await new Promise((r) => setTimeout(r, 40));
  await settle();
  assert.deepEqual(net.urls.slice(0, 2), ['ws://test/api/docs/d1/ws', 'ws://node2.test/api/docs/d1/ws?ticket=abc']);
  assert.equal(a.status(), 'Saved');
  net.killAll();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(net.urls[2], 'ws://test/api/docs/d1/ws', 'tickets are single-use: reconnect at home');
  a.sync.stop();
});

test('persistence: edits made offline survive a reload and are sent once, with the same client id', async () => {
  const net = fakeNet();
  const storage = new MemoryStorage();
  const session = new MemoryStorage();
  const store = () => new PendingStore({ docId: 'd1', userId: 'u1', storage, session, locks: null });
  const a = editor(net, { store: store() });
  a.sync.start();
  await settle();
  a.type(ins(0, 'before '));
  await settle();
  net.down = true;
  net.killAll();
  await settle();
  a.type(ins(7, 'offline'));
  const client = a.sync.ot.client;
  a.sync.flush(true); // pagehide
  a.sync.stop();
  assert.ok(storage.length > 0);

  // The page reopens (same tab) and the network is back.
  net.down = false;
  const bStore = store();
  const b = editor(net, { store: bStore, restored: await bStore.adopt() });
  assert.equal(b.sync.ot.client, client, 'same client id: the server can dedup');
  assert.deepEqual(b.doc.ops, [{ insert: 'before offline\n' }], 'shown before the server answers');
  assert.equal(b.status(), undefined);
  b.sync.start();
  assert.equal(b.status(), 'Offline, your changes will sync');
  await settle();
  assert.deepEqual(net.server.doc.ops, [{ insert: 'before offline\n' }]);
  assert.equal(b.status(), 'Saved');
  await new Promise((r) => setTimeout(r, 350)); // debounced save clears the record
  assert.equal(storage.getItem(`quire:u:u1:pending:d1:${client}`), null);
  assert.equal(storage.length, 0);
  b.sync.stop();
});

test('persistence: restored edits whose base left the log are shown, not dropped', async () => {
  const net = fakeNet();
  const storage = new MemoryStorage();
  const store = () => new PendingStore({ docId: 'd1', userId: 'u1', storage, session: new MemoryStorage(), locks: null });
  const a = editor(net, { store: store() });
  a.sync.start();
  await settle();
  net.down = true;
  net.killAll();
  await settle();
  a.type(ins(0, 'precious'));
  a.sync.flush(true);
  a.sync.stop();
  // Meanwhile others edited and the log was compacted.
  net.server.receive(Object.assign(net.server.connect(() => {}), { client: 'z', role: 'editor' }), { t: 'op', rev: 0, seq: 1, op: [{ insert: 'theirs' }] });
  net.server.compact();
  net.down = false;
  const bStore = store();
  const b = editor(net, { store: bStore, restored: await bStore.adopt() });
  b.sync.start();
  await settle();
  assert.equal(b.unsent.length, 1);
  assert.deepEqual(b.unsent[0].u.typed, ['precious']);
  assert.match(b.unsent[0].why, /too old/);
  assert.deepEqual(b.doc.ops, [{ insert: 'theirs\n' }]);
  b.sync.stop();
});

test('presence: sent only when nothing is in flight, and the latest one after the ack', async () => {
  const net = fakeNet();
  const a = editor(net);
  const b = editor(net);
  const seen = [];
  b.sync.hooks.cursors = (list) => seen.push(list);
  a.sync.start();
  b.sync.start();
  await settle();
  a.type(ins(0, 'abcdef'));
  a.sync.setSelection({ index: 3, length: 2 });
  await new Promise((r) => setTimeout(r, 120));
  await settle();
  const pres = net.sent.filter((m) => m.t === 'presence');
  assert.ok(pres.length >= 1);
  for (const p of pres) assert.equal(typeof p.rev, 'number');
  assert.deepEqual(pres.at(-1), { t: 'presence', rev: 1, sel: { index: 3, length: 2 } });
  assert.deepEqual(seen.at(-1).map((c) => c.sel), [{ index: 3, length: 2 }]);
  a.sync.stop();
  b.sync.stop();
});

test('remote messages wait while the editor holds them (IME) and then go in order', async () => {
  const net = fakeNet();
  const a = editor(net);
  const b = editor(net);
  let composing = false;
  let flushed = 0;
  a.sync.hooks.holdRemote = () => composing;
  a.sync.hooks.beforeRemote = () => { flushed++; };
  a.sync.start();
  b.sync.start();
  await settle();
  composing = true;
  b.type(ins(0, 'one '));
  await settle();
  b.type(ins(4, 'two '));
  await settle();
  assert.deepEqual(a.doc.ops, [{ insert: '\n' }], 'nothing applied mid-composition');
  a.type(ins(0, '[ime]')); // the composed text, reported at composition end
  composing = false;
  a.sync.releaseHeld();
  await settle();
  assert.deepEqual(a.doc.ops, net.server.doc.ops);
  assert.deepEqual(b.doc.ops, net.server.doc.ops);
  assert.match(JSON.stringify(net.server.doc.ops), /\[ime\]/);
  assert.equal(a.unsent.length, 0);
  assert.ok(flushed > 0, 'editor asked to flush its input before each remote message');
});

test('a live role change turns the editor read-only and back', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  const ws = net.sockets.at(-1);
  ws.reply({ t: 'role', role: 'viewer' });
  await settle();
  assert.deepEqual(a.roles, [true]);
  assert.equal(a.status(), 'Read-only');
  ws.reply({ t: 'role', role: 'editor' });
  await settle();
  assert.deepEqual(a.roles, [true, false]);
  assert.equal(a.status(), 'Saved');
});

test('after failed handshakes, a 404 from the API ends the retries with a clear message', async () => {
  const net = fakeNet();
  net.down = true;
  const a = editor(net);
  let probes = 0;
  a.sync.probe = async () => { probes++; return 404; };
  a.sync.start();
  await new Promise((r) => setTimeout(r, 60));
  await settle();
  assert.equal(probes, 1);
  assert.match(a.status(), /deleted or is no longer shared/);
  const tries = net.urls.length;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(net.urls.length, tries, 'no more attempts');
});

test('failed handshakes while the API answers 200 keep retrying', async () => {
  const net = fakeNet();
  net.down = true;
  const a = editor(net);
  a.sync.probe = async () => 200;
  a.sync.start();
  await new Promise((r) => setTimeout(r, 60));
  net.down = false;
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.equal(a.status(), 'Saved');
});

// ---- stale_seq --------------------------------------------------------------

test('stale_seq: the client resumes; its op committed meanwhile comes back in the catch-up as the ack', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  // The op is committed (through another connection of the same id, as a
  // racing reconnect would, whose broadcast this connection misses) but
  // this connection is told stale_seq.
  net.intercept = (msg, ws) => {
    if (msg.t !== 'op') return false;
    net.intercept = null;
    const side = Object.assign(net.server.connect(() => {}), { client: a.sync.ot.client, role: 'editor' });
    ws.conn.joined = false;
    net.server.receive(side, msg);
    ws.conn.joined = true;
    ws.reply({ t: 'error', code: 'stale_seq', msg: 'stale', seq: msg.seq, fatal: false });
    return true;
  };
  a.type(ins(0, 'once'));
  await new Promise((r) => setTimeout(r, 30));
  await settle();
  assert.deepEqual(net.server.doc.ops, [{ insert: 'once\n' }]);
  assert.equal(net.server.log.length, 1, 'not committed twice');
  assert.ok(a.sync.ot.isSynchronized, 'acked by the catch-up');
  assert.deepEqual(a.doc.ops, net.server.doc.ops);
  assert.equal(net.sent.filter((m) => m.t === 'hello').at(-1).rev, 0, 'resumed from its revision');
  assert.equal(a.status(), 'Saved');
});

test('stale_seq twice: the seq counter is behind, so the edits go out under a fresh client id from seq 1', async () => {
  const net = fakeNet();
  const storage = new MemoryStorage();
  const locks = new FakeLocks();
  const store = new PendingStore({ docId: 'd1', userId: 'u1', storage, session: new MemoryStorage(), locks });
  const a = editor(net, { store });
  a.sync.start();
  await settle();
  const old = a.sync.ot.client;
  // Another tab used this id up to seq 10 (the server's dedup says so).
  net.server.last.set(old, { seq: 10, rev: 0 });
  let refusals = 0;
  net.intercept = (msg, ws) => {
    if (msg.t === 'op' && ws.conn.client === old) refusals++;
    if (refusals === 1 && msg.t === 'hello') a.type(ins(0, '>')); // typed while recovering
    return false;
  };
  a.type(ins(0, 'mine'));
  await new Promise((r) => setTimeout(r, 60));
  await settle();
  assert.equal(refusals, 2, 'resent once with its seq before giving up the id');
  assert.notEqual(a.sync.ot.client, old, 'a fresh client id');
  assert.deepEqual(net.server.doc.ops, [{ insert: '>mine\n' }], 'nothing dropped, nothing doubled');
  assert.deepEqual(a.doc.ops, net.server.doc.ops);
  assert.ok(a.sync.ot.isSynchronized);
  assert.deepEqual(net.server.last.get(a.sync.ot.client), { seq: 1, rev: 0 }, 'seq 1 under the new id');
  assert.equal(net.sent.filter((m) => m.t === 'hello').at(-1).client, a.sync.ot.client);
  assert.equal(a.status(), 'Saved');
  assert.equal([...storage.map.keys()].filter((k) => k.includes(old)).length, 0, 'the old id\'s records are gone');
  assert.equal(locks.isHeld(store._lockName(old)), false, 'and its lock');
  assert.ok(locks.isHeld(store._lockName(a.sync.ot.client)), 'the new id is this page\'s');
});

test('stale_seq about an op we no longer hold is ignored', async () => {
  const net = fakeNet();
  const a = editor(net);
  a.sync.start();
  await settle();
  a.type(ins(0, 'x'));
  await settle();
  const hellos = net.sent.filter((m) => m.t === 'hello').length;
  net.sockets.at(-1).reply({ t: 'error', code: 'stale_seq', msg: 'stale', seq: 1, fatal: false });
  await settle();
  assert.equal(net.sent.filter((m) => m.t === 'hello').length, hellos, 'no reconnect');
  assert.equal(a.status(), 'Saved');
});

// ---- ownership of local records ---------------------------------------------

test('persistence: the page holds its record\'s lock from the start, so no other tab adopts it while it lives', async () => {
  const net = fakeNet();
  const storage = new MemoryStorage();
  const locks = new FakeLocks();
  const store = () => new PendingStore({ docId: 'd1', userId: 'u1', storage, session: new MemoryStorage(), locks });
  const a = editor(net, { store: store() });
  a.sync.start();
  await settle();
  net.down = true;
  net.killAll();
  await settle();
  a.type(ins(0, 'offline'));
  a.sync.flush(true); // pagehide into the back/forward cache: the page lives on
  const other = store();
  assert.equal(await other.adopt(), null, 'locked by its page');
  locks.killAll(); // now the page is really gone
  await settle();
  const restored = await store().adopt();
  assert.equal(restored?.client, a.sync.ot.client);
});

test('discard (log-out): the session stops and never writes its edits back', async () => {
  const net = fakeNet();
  const storage = new MemoryStorage();
  const store = new PendingStore({ docId: 'd1', userId: 'u1', storage, session: new MemoryStorage(), locks: null });
  const a = editor(net, { store });
  a.sync.start();
  await settle();
  net.down = true;
  net.killAll();
  await settle();
  a.type(ins(0, 'left behind'));
  assert.equal(a.sync.hasUnsaved, true);
  a.sync.discard();
  storage.map.clear();
  a.sync.flush(true); // the pagehide of the log-out navigation
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(storage.length, 0);
  assert.equal(a.sync.hasUnsaved, false, 'no "leave page?" prompt on top of the log-out warning');
});

// ---- access changes while the page is open (issue 19) ----------------------

function withAccess(ed) {
  ed.access = [];
  ed.activity = [];
  ed.sync.hooks.access = (n) => ed.access.push(n);
  ed.sync.hooks.activity = (c) => ed.activity.push(c);
  return ed;
}

test('a demotion says so once, and a promotion takes the notice away', async () => {
  const net = fakeNet();
  const a = withAccess(editor(net));
  a.sync.start();
  await settle();
  assert.deepEqual(a.access, [], 'no notice for the role the page opened with');
  const ws = net.sockets.at(-1);
  ws.reply({ t: 'role', role: 'commenter' });
  await settle();
  assert.equal(a.access.length, 1);
  assert.equal(a.access[0].kind, 'readonly');
  assert.equal(a.access[0].title, 'You can now only view this document.');
  assert.match(a.access[0].detail, /a commenter/);
  ws.reply({ t: 'role', role: 'viewer' });
  await settle();
  assert.equal(a.access.length, 1, 'still read-only: nothing new to say');
  ws.reply({ t: 'role', role: 'editor' });
  await settle();
  assert.deepEqual(a.access.at(-1), null);
});

test('removed while editing: locked at once, the unsent text shown, no reconnect', async () => {
  const net = fakeNet();
  const a = withAccess(editor(net));
  a.sync.start();
  await settle();
  a.type(ins(0, 'saved '));
  await settle();
  // The next op is in flight when the owner removes us: never acked.
  net.intercept = (msg) => msg.t === 'op';
  a.type(ins(6, 'lost words'));
  await settle();
  const tries = net.urls.length;
  net.sockets.at(-1).reply({ t: 'role', role: null });
  await settle();
  assert.equal(a.access.length, 1);
  assert.equal(a.access[0].kind, 'removed');
  assert.equal(a.access[0].title, 'You no longer have access to this document.');
  assert.equal(a.access[0].unsent, true);
  assert.equal(a.unsent.length, 1);
  assert.deepEqual(a.unsent[0].u.typed, ['lost words']);
  assert.match(a.unsent[0].u.document, /saved lost words/);
  assert.match(a.unsent[0].why, /no longer have access/);
  assert.equal(a.sync.readOnly, true);
  assert.match(a.status(), /no longer have access/);
  a.sync.localChange(ins(0, 'x'));
  assert.equal(a.sync.hasUnsaved, false, 'typing after the removal holds nothing');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(net.urls.length, tries, 'no reconnect into a 404');
});

test('remote typing and moving are reported as activity, my own ops are not', async () => {
  const net = fakeNet();
  const a = withAccess(editor(net));
  const b = editor(net);
  a.sync.start();
  b.sync.start();
  await settle();
  b.type(ins(0, 'hi'));
  await settle();
  a.type(ins(0, 'me '));
  await settle();
  assert.ok(a.activity.includes(b.sync.ot.client), 'b typed');
  assert.ok(!a.activity.includes(a.sync.ot.client), 'my own op is not someone else typing');
});
