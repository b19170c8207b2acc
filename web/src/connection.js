// The WebSocket transport: connect, say `hello`, reconnect with exponential
// backoff and jitter, keep the socket alive with app-level pings (browsers
// cannot send ping frames), follow `redirect`. It never queues a frame while
// the socket is down: send() just returns false, and the OT layer decides
// what to resend after the next welcome (research/ot.md 1.4).
//
// Works with the browser's WebSocket and with the `ws` package (pass it as
// WebSocketImpl, and `wsOptions` for headers such as Authorization).

import { createBackoff } from './backoff.js';

export const PING_MS = 20000;
// No frame at all for this long (pongs included) means a dead link: TCP can
// take minutes to notice a vanished peer on its own.
export const DEAD_MS = 45000;
// Redirects followed at once without a welcome in between. Past this, the
// nodes of a cluster disagree about who owns the document (a membership
// change in progress): go back home and wait out the backoff instead of
// bouncing between them.
export const MAX_REDIRECTS_IN_A_ROW = 3;

const OPEN = 1;

// "/api/docs/x/ws" or "http(s)://…" or "ws(s)://…" -> absolute ws(s) URL.
export function toWebSocketUrl(url, base) {
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString();
}

export class Connection {
  // opts: url (absolute ws URL), hello() -> message, onMessage(msg),
  //   onOpen(), onClose(info), WebSocketImpl, wsOptions, backoff, timers
  constructor(opts) {
    this.url = opts.url;
    this.hello = opts.hello;
    this.onMessage = opts.onMessage ?? (() => {});
    this.onOpen = opts.onOpen ?? (() => {});
    this.onClose = opts.onClose ?? (() => {});
    this.WebSocketImpl = opts.WebSocketImpl ?? globalThis.WebSocket;
    this.wsOptions = opts.wsOptions;
    this.backoff = opts.backoff ?? createBackoff();
    this.setTimeout = opts.setTimeout ?? globalThis.setTimeout.bind(globalThis);
    this.clearTimeout = opts.clearTimeout ?? globalThis.clearTimeout.bind(globalThis);
    this.now = opts.now ?? Date.now;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | closed | stopped
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.pingId = 0;
    this.nextUrl = null; // a redirect target, used for one attempt
    this.redirectsInARow = 0;
  }

  start() {
    if (this.state === 'stopped') return;
    this._connect();
  }

  // For good: fatal errors, or the page is leaving.
  stop() {
    this.state = 'stopped';
    this._clearTimers();
    this._drop();
  }

  // Close now and connect again at once (resume after a gap, a resync, or
  // the browser saying it is back online).
  reconnectNow() {
    if (this.state === 'stopped') return;
    const hadSocket = !!this.ws;
    this._drop();
    // _drop detaches the handlers, so report the close here: the OT layer
    // must know the session ended before the next hello.
    if (hadSocket) this.onClose({ local: true });
    if (this.state === 'stopped') return;
    this.backoff.reset();
    this._clearTimers();
    this._connect();
  }

  // Returns false when there is no open socket: nothing is queued.
  send(msg) {
    if (!this.ws || this.ws.readyState !== OPEN || this.state !== 'open') return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  get isOpen() {
    return this.state === 'open';
  }

  // Kill the socket without a clean close, as a network failure would
  // (tests use it to drop connections mid-stream).
  kill() {
    const ws = this.ws;
    if (!ws) return;
    if (typeof ws.terminate === 'function') ws.terminate();
    else ws.close();
  }

  _connect() {
    this.state = 'connecting';
    const url = this.nextUrl ?? this.url;
    this.nextUrl = null;
    let ws;
    try {
      ws = this.wsOptions ? new this.WebSocketImpl(url, this.wsOptions) : new this.WebSocketImpl(url);
    } catch (e) {
      this._scheduleRetry({ reason: String(e) });
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.state = 'open';
      this.lastFrameAt = this.now();
      this._schedulePing();
      ws.send(JSON.stringify(this.hello()));
      this.onOpen();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = this.now();
      let msg;
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : ev.data.toString());
      } catch {
        return; // not ours to understand; the server never sends non-JSON
      }
      if (msg.t === 'welcome') {
        this.backoff.reset();
        this.redirectsInARow = 0;
      }
      if (msg.t === 'pong') return;
      if (msg.t === 'redirect') {
        // The socket closes after it; the close handler connects there at once.
        this.nextUrl = toWebSocketUrl(msg.url, this.url);
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._clearTimers();
      if (this.state === 'stopped') return;
      this.state = 'closed';
      const info = { code: ev?.code, reason: ev?.reason, redirect: !!this.nextUrl };
      this.onClose(info);
      if (this.state === 'stopped') return; // onClose may stop us (fatal error)
      if (this.nextUrl && this.redirectsInARow < MAX_REDIRECTS_IN_A_ROW) {
        this.redirectsInARow += 1;
        this._connect();
      } else {
        this.nextUrl = null;
        this.redirectsInARow = 0;
        this._scheduleRetry(info);
      }
    };
    ws.onerror = () => {
      // Always followed by close; the retry is scheduled there.
    };
  }

  _scheduleRetry(info) {
    if (this.state === 'stopped') return;
    this.state = 'closed';
    const delay = this.backoff.next();
    this.retryIn = delay;
    this.retryTimer = this.setTimeout(() => {
      this.retryTimer = null;
      this._connect();
    }, delay);
    return info;
  }

  _schedulePing() {
    this.pingTimer = this.setTimeout(() => {
      this.pingTimer = null;
      if (this.state !== 'open') return;
      if (this.now() - this.lastFrameAt > DEAD_MS) {
        this.kill(); // close handler reconnects
        return;
      }
      this.send({ t: 'ping', id: ++this.pingId });
      this._schedulePing();
    }, PING_MS);
  }

  _drop() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
        ws.close();
      } catch {
        // already closed
      }
    }
    if (this.state !== 'stopped') this.state = 'closed';
  }

  _clearTimers() {
    if (this.retryTimer) this.clearTimeout(this.retryTimer);
    if (this.pingTimer) this.clearTimeout(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}
