// Shared browser-test plumbing: Debian's Chromium through playwright-core
// (never `npx playwright install`: it downloads a browser), screenshots
// under target/e2e/, and polling helpers.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { stableJSON } from '../lib/same.js';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHOTS = process.env.QUIRE_E2E_DIR ?? path.resolve(here, '../../../target/e2e');

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Poll fn until it returns a truthy value or the time is up.
export async function until(fn, { timeout = 10000, every = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// Collect console errors and CSP violations: either fails the test.
// `allow`: patterns of errors the test provokes on purpose (a refused upload's status).
export function watchErrors(page, label, errors, { allow = [] } = {}) {
  page.on('console', (m) => {
    // Failed socket handshakes are expected: the tests cut the network.
    if (m.type() !== 'error' || /WebSocket connection to|ERR_INTERNET_DISCONNECTED/.test(m.text())) return;
    if (allow.some((pattern) => pattern.test(m.text()))) return;
    if (/favicon/.test(m.location()?.url ?? '') || /favicon/.test(m.text())) return;
    errors.push(`${label}: ${m.text()} ${m.location()?.url ?? ''}`);
  });
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
}

export const contents = (page) => page.evaluate(() => window.__quire.quill.getContents().ops);
export const text = (page) => page.evaluate(() => window.__quire.quill.getText());
export const statusText = (page) => page.locator('.qe-status').textContent();
// Action messages ("Title saved", "Downloaded as HTML") are toasts (ui/toast.js), not the status line.
// hasToast looks only at toasts shown since the last forgetToasts(page), so a repeated action needs its own.
export const toastTexts = (page) => page.evaluate(() => [...document.querySelectorAll('.qe-toast:not([data-seen])')].map((t) => t.textContent));
export const hasToast = async (page, message) => (await toastTexts(page)).includes(message);
export const forgetToasts = (page) => page.evaluate(() => document.querySelectorAll('.qe-toast').forEach((t) => { t.dataset.seen = ''; }));
export const synced = (page) => page.evaluate(() => window.__quire.client.isSynchronized);

// Quill's own document must equal the OT client's view (base + pending):
// Quill silently normalizes what it cannot represent (research P9).
export async function quillMatchesClient(page) {
  const [q, c] = await page.evaluate(() => [
    window.__quire.quill.getContents().ops,
    window.__quire.client.localDocument()?.ops ?? null,
  ]);
  return { ok: c !== null && stableJSON(q) === stableJSON(c), quill: q, client: c };
}

// The editor these tests drive is the tests' own build of src/ (build.mjs
// with testHooks: it exposes window.__quire, which the committed bundle in
// assets/ must not), served in place of whatever the server has, so the real
// binary needs no rebuild for a change in web/ either.
// QUIRE_E2E_BUNDLE puts it elsewhere (a second checkout's tests at once).
const TEST_BUNDLE = process.env.QUIRE_E2E_BUNDLE ?? path.resolve(here, '../../../target/e2e-bundle');
let built = null;
export function buildTestBundle() {
  built ??= import('../../build.mjs').then(({ bundle }) => bundle({ outdir: TEST_BUNDLE, testHooks: true }));
  return built;
}

export async function useTestBundle(ctx) {
  await buildTestBundle();
  await ctx.route(/\/assets\/editor\.(js|css)(\.map)?(\?.*)?$/, (route) => {
    const file = new URL(route.request().url()).pathname.split('/').pop();
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/json';
    route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(path.join(TEST_BUNDLE, file)) });
  });
}

// A browser context whose pages get the test build of the editor.
export async function newTestContext(browser, opts = {}) {
  const ctx = await browser.newContext(opts);
  await useTestBundle(ctx);
  return ctx;
}

// What the page's WebSockets really did, counted in the page itself (a
// wrapper installed before any page script): sockets opened, closed after
// being open, open now, the `welcome` and `error` frames received.
// Listeners added with addEventListener see a close even when the editor
// detached its own handlers (Connection._drop).
// Each close of an open socket is put down to whoever started it, in
// `closedBy`: `drop` (dropSockets, the test cutting the network), `page` (the
// editor's own close(): a reconnect when the browser says it is back online,
// a dead link) or `lost` (neither: the server or the network closed it).
// `live` counts the sockets that can still open or are open, refused ones
// aside; `welcomedOpen` the open ones that have had their `welcome`, and
// `unwelcomed` those closed before it came.
// refuseSockets(page, true) makes every new socket fail its handshake (it is
// pointed at a port browsers refuse) until refuseSockets(page, false): set
// before cutting a socket, so that no reconnect can slip in before
// context.setOffline(true) has taken effect (Chromium's offline mode also
// refuses handshakes, but a close started after it waits for a closing
// handshake that cannot arrive).
export async function countSockets(ctx) {
  await ctx.addInitScript(() => {
    const Native = window.WebSocket;
    const stats = {
      opened: 0, closed: 0, open: 0, live: 0, welcomedOpen: 0, unwelcomed: 0, closedBy: { drop: 0, page: 0, lost: 0 },
      welcomes: [], errors: [], blocked: false,
    };
    const live = new Set();
    class Counted extends Native {
      constructor(url, ...rest) {
        const refused = stats.blocked;
        super(refused ? 'ws://127.0.0.1:9/offline' : url, ...rest);
        let wasOpen = false;
        let welcomed = false;
        if (!refused) {
          live.add(this);
          stats.live++;
        }
        this.addEventListener('open', () => {
          wasOpen = true;
          stats.opened++;
          stats.open++;
        });
        this.addEventListener('close', () => {
          if (live.delete(this)) stats.live--;
          if (!wasOpen) return; // a refused handshake is not a disconnect
          stats.closed++;
          stats.open--;
          if (welcomed) stats.welcomedOpen--;
          else stats.unwelcomed++;
          stats.closedBy[closers.get(this) ?? 'lost']++;
        });
        this.addEventListener('message', (ev) => {
          if (typeof ev.data !== 'string' || !/"t":\s*"(welcome|error)"/.test(ev.data)) return;
          try {
            const m = JSON.parse(ev.data);
            if (m.t === 'error') stats.errors.push({ code: m.code, msg: m.msg });
            if (m.t === 'welcome') {
              if (!welcomed) stats.welcomedOpen++;
              welcomed = true;
              stats.welcomes.push({ reset: m.reset, snapshot: !!m.snapshot, head: m.head, maxCatchupOps: m.limits?.maxCatchupOps });
            }
          } catch {
            // not JSON: not ours
          }
        });
      }

      // The first close() of a socket still connecting or open starts its
      // close; once the server's close frame is in, it is CLOSING already.
      close(...args) {
        if (this.readyState <= Native.OPEN && !closers.has(this)) closers.set(this, 'page');
        return super.close(...args);
      }
    }
    const closers = new WeakMap();
    // Close every socket that can still open or is open, as a network drop
    // would; returns how many were open.
    const drop = () => {
      let open = 0;
      for (const ws of live) {
        if (ws.readyState > Native.OPEN) continue; // closing already, by whoever started it
        if (ws.readyState === Native.OPEN) open++;
        closers.set(ws, 'drop');
        Native.prototype.close.call(ws);
      }
      return open;
    };
    window.WebSocket = Counted;
    Object.defineProperty(window, '__sockets', { value: stats });
    Object.defineProperty(window, '__dropSockets', { value: drop });
  });
}
export const refuseSockets = (page, on) => page.evaluate((b) => { window.__sockets.blocked = b; }, on);
// Close the page's sockets for real (see countSockets); the number that were open.
export const dropSockets = (page) => page.evaluate(() => window.__dropSockets());
export const socketStats = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.__sockets)));

// A server of its own for a test that needs other settings (`--set k=v`):
// the binary at QUIRE_BIN, else target/debug/quire as scripts/test-web
// builds it, on a free port with a fresh data directory.
export async function startServer({ set = [] } = {}) {
  const bin = process.env.QUIRE_BIN ?? path.resolve(here, '../../../target/debug/quire');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build --bin quire, or set QUIRE_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-e2e-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data'), ...set.flatMap((kv) => ['--set', kv])];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => child.kill('SIGTERM');
  process.on('exit', kill);
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30000);
    const read = (chunk) => {
      log += chunk;
      const m = log.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}):\n${log}`));
    });
  });
  return {
    url,
    log: () => log,
    async close() {
      process.off('exit', kill);
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        kill();
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Test steps that build on each other: after the first failure the rest are reported as skipped. `report()`
// prints "N passed, M failed" and returns the exit status.
export function dependentSteps() {
  const results = [];
  let failed = false;
  async function step(name, fn) {
    const t0 = Date.now();
    if (failed) {
      results.push({ name, ok: false });
      console.log(`not ok - ${name} # skipped after a failure`);
      return;
    }
    try {
      await fn();
      results.push({ name, ok: true });
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed = true;
      results.push({ name, ok: false });
      console.log(`not ok - ${name}\n  ${String(e.stack ?? e).split('\n').join('\n  ')}`);
    }
  }
  function report() {
    const passed = results.filter((r) => r.ok).length;
    console.log(`${passed} passed, ${results.length - passed} failed`);
    return passed === results.length ? 0 : 1;
  }
  return { step, report, get failed() { return failed; } };
}
