// Connection: keepalive pings, dead-link detection, backoff between
// attempts, and no frames while closed. A manual clock drives the timers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, PING_MS, DEAD_MS, MAX_REDIRECTS_IN_A_ROW } from '../../src/connection.js';

function clock() {
  const c = { t: 0, timers: [] };
  c.setTimeout = (fn, ms) => {
    const timer = { at: c.t + ms, fn };
    c.timers.push(timer);
    return timer;
  };
  c.clearTimeout = (timer) => {
    c.timers = c.timers.filter((x) => x !== timer);
  };
  c.advance = (ms) => {
    const end = c.t + ms;
    for (;;) {
      c.timers.sort((a, b) => a.at - b.at);
      const next = c.timers[0];
      if (!next || next.at > end) break;
      c.timers.shift();
      c.t = next.at;
      next.fn();
    }
    c.t = end;
  };
  return c;
}

function sockets() {
  const made = [];
  class WS {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      made.push(this);
    }
    open() {
      this.readyState = 1;
      this.onopen();
    }
    send(d) {
      this.sent.push(JSON.parse(d));
    }
    receive(m) {
      this.onmessage({ data: JSON.stringify(m) });
    }
    close() {
      this.readyState = 3;
      this.onclose?.({ code: 1006 });
    }
    terminate() {
      this.close();
    }
  }
  return { WS, made };
}

function make(c, WS, extra = {}) {
  const got = [];
  const closes = [];
  const conn = new Connection({
    url: 'ws://h/api/docs/d/ws',
    WebSocketImpl: WS,
    hello: () => ({ t: 'hello', proto: 1, client: 'c', rev: null }),
    onMessage: (m) => got.push(m),
    onClose: (i) => closes.push(i),
    setTimeout: c.setTimeout,
    clearTimeout: c.clearTimeout,
    now: () => c.t,
    backoff: { next: () => 1000, reset() {} },
    ...extra,
  });
  return { conn, got, closes };
}

test('hello first, app-level ping every PING_MS, pong swallowed', () => {
  const c = clock();
  const { WS, made } = sockets();
  const { conn, got } = make(c, WS);
  conn.start();
  made[0].open();
  assert.deepEqual(made[0].sent, [{ t: 'hello', proto: 1, client: 'c', rev: null }]);
  c.advance(PING_MS);
  assert.deepEqual(made[0].sent[1], { t: 'ping', id: 1 });
  made[0].receive({ t: 'pong', id: 1 });
  assert.equal(got.length, 0);
  c.advance(PING_MS);
  assert.equal(made[0].sent.length, 3);
  conn.stop();
});

test('a silent link is killed after DEAD_MS and retried after the backoff delay', () => {
  const c = clock();
  const { WS, made } = sockets();
  const { conn, closes } = make(c, WS);
  conn.start();
  made[0].open();
  c.advance(Math.ceil(DEAD_MS / PING_MS) * PING_MS); // the first ping tick past DEAD_MS
  assert.equal(made[0].readyState, 3, 'killed');
  assert.equal(closes.length, 1);
  assert.equal(conn.send({ t: 'op' }), false, 'nothing accepted while closed');
  assert.equal(made.length, 1, 'not before the backoff delay');
  c.advance(1000);
  assert.equal(made.length, 2);
  conn.stop();
});

test('stop() ends retries for good', () => {
  const c = clock();
  const { WS, made } = sockets();
  const { conn } = make(c, WS);
  conn.start();
  made[0].close();
  conn.stop();
  c.advance(60000);
  assert.equal(made.length, 1);
});

test('reconnectNow reports the close, then connects at once', () => {
  const c = clock();
  const { WS, made } = sockets();
  const { conn, closes } = make(c, WS);
  conn.start();
  made[0].open();
  conn.reconnectNow();
  assert.equal(closes.length, 1);
  assert.equal(made.length, 2);
  conn.stop();
});

test('the ws package form: options with headers go to the constructor', () => {
  const c = clock();
  const args = [];
  class WS {
    constructor(...a) {
      args.push(a);
    }
  }
  const { conn } = make(c, WS, { wsOptions: { headers: { Authorization: 'Bearer t' } } });
  conn.start();
  assert.deepEqual(args[0], ['ws://h/api/docs/d/ws', { headers: { Authorization: 'Bearer t' } }]);
  conn.stop();
});

test('redirects are followed at once, but a loop of them goes home and backs off', () => {
  const c = clock();
  const { WS, made } = sockets();
  const { conn } = make(c, WS);
  conn.start();
  // Two nodes that each believe the other owns the document.
  for (let i = 0; i <= MAX_REDIRECTS_IN_A_ROW; i += 1) {
    const ws = made[made.length - 1];
    ws.open();
    ws.receive({ t: 'redirect', url: `ws://node${i % 2}/api/docs/d/ws?ticket=t${i}` });
    ws.close();
  }
  assert.equal(made.length, MAX_REDIRECTS_IN_A_ROW + 1, 'no connection after the last redirect yet');
  assert.deepEqual(
    made.slice(1).map((ws) => ws.url),
    ['ws://node0/api/docs/d/ws?ticket=t0', 'ws://node1/api/docs/d/ws?ticket=t1', 'ws://node0/api/docs/d/ws?ticket=t2'],
  );
  c.advance(1000);
  assert.equal(made.length, MAX_REDIRECTS_IN_A_ROW + 2);
  assert.equal(made[made.length - 1].url, 'ws://h/api/docs/d/ws', 'after the backoff, home again for a fresh ticket');
  // A welcome ends the run: the next redirect is followed at once.
  const home = made[made.length - 1];
  home.open();
  home.receive({ t: 'welcome' });
  home.receive({ t: 'redirect', url: 'ws://node2/api/docs/d/ws?ticket=x' });
  home.close();
  assert.equal(made[made.length - 1].url, 'ws://node2/api/docs/d/ws?ticket=x');
  conn.stop();
});
