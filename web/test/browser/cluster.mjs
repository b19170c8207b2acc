#!/usr/bin/env node
// End to end on a real cluster (issue 12): two people whose pages were
// served by two different nodes edit one document in Chromium and see each
// other's text and cursors.
//
// The test starts its own cluster with ../../../scripts/cluster-demo (three
// `quire` nodes on 127.0.0.1 over a throwaway PostgreSQL, coordinated by a
// throwaway ZooKeeper; both must be installed: ./scripts/test does it) and
// always stops it at the end. Ann opens the document on node1 and Bob on
// node2; at most one of them is the owner, so at least one page's socket is
// redirected (`{"t":"redirect","url":"ws://OWNER/...?ticket=..."}`) and the
// browser client follows it. The test checks where every socket went (both
// pages end on the same node, the one `quire cluster owner` names), then the
// usual: text both ways, same contents everywhere (the third node's
// /content too), each person's caret and selection with their name.
//
//   node test/browser/cluster.mjs        # npm run test:cluster
//
// QUIRE_BIN: the binary the nodes run (default target/debug/quire of this
// repository; it must exist). The editor is the tests' build of web/src
// (lib.mjs: newTestContext). Screenshots: target/e2e/30-cluster-*.png; the nodes'
// logs are copied to target/e2e/cluster/ before the cluster is stopped.
// Prints "N passed, M failed"; exit 1 on failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch, shot, until, watchErrors, contents, text, statusText, synced, quillMatchesClient, newTestContext, SHOTS, dependentSteps } from './lib.mjs';
import { stableJSON } from '../lib/same.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const NODES = 3;
const READY_TIMEOUT_MS = 90000;

const steps = dependentSteps();
const { step } = steps;

// ---- the cluster -------------------------------------------------------------

// scripts/cluster-demo in a process group of its own (a Ctrl-C on the test
// reaches only the test, which then stops the demo), with a ready file in a
// temp dir. One SIGTERM to the script stops ZooKeeper, PostgreSQL and the
// nodes and deletes its temp dir; only one: the script resets its traps when
// it starts cleaning up, so a second SIGTERM would kill it halfway, leaving
// PostgreSQL (pg_ctl puts it in a session of its own) and the temp dir.
function launchCluster() {
  const bin = process.env.QUIRE_BIN ? path.resolve(process.env.QUIRE_BIN) : path.join(root, 'target/debug/quire');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build --bin quire, or set QUIRE_BIN`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-e2e-cluster-'));
  const ready = path.join(dir, 'ready');
  const child = spawn(path.join(root, 'scripts/cluster-demo'), ['--nodes', String(NODES)], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QUIRE_BIN: bin, QUIRE_DEMO_READY_FILE: ready },
  });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  let running = true;
  const exited = new Promise((r) => {
    child.once('exit', (code, signal) => r({ code, signal }));
    child.once('error', (e) => r({ error: e.message })); // it could not start
  }).then((how) => {
    running = false;
    return how;
  });
  let signalled = false;
  const kill = () => {
    if (!running || signalled) return;
    signalled = true;
    try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ }
  };
  // If the test dies anyway (an exception, or playwright's own SIGINT handler
  // calling process.exit), the script still cleans up after itself.
  const onExit = () => {
    kill();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  let stopping = null;
  const cluster = {
    bin,
    output: () => out,
    urls: [],
    // Resolves once every node serves.
    async ready() {
      const t0 = Date.now();
      await until(() => !running || (fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim().split('\n').length === NODES), {
        timeout: READY_TIMEOUT_MS, every: 100, what: 'cluster-demo\'s ready file',
      }).catch((e) => { throw new Error(`${e.message}\n${out}`); });
      if (!running) throw new Error(`cluster-demo exited (${JSON.stringify(await exited)}):\n${out}`);
      cluster.urls = fs.readFileSync(ready, 'utf8').trim().split('\n');
      cluster.database = out.match(/over PostgreSQL (postgres:\/\/\S+)/)?.[1];
      cluster.zookeeper = out.match(/and ZooKeeper (127\.0\.0\.1:\d+)/)?.[1];
      cluster.logs = [...out.matchAll(/^\s+(node\d+)\s+\S+\s+\(log: (\S+)\)$/gm)].map((m) => ({ node: m[1], file: m[2] }));
      console.log(`# cluster of ${NODES} up in ${Date.now() - t0} ms: ${cluster.urls.join(' ')}`);
    },
    // SIGTERM (once), then wait for the script to be done.
    stop() {
      stopping ??= (async () => {
        kill();
        // Stopped while it starts, the demo may go on polling a node for up to 60 s before it exits.
        const timer = new Promise((r) => setTimeout(() => r('timeout'), 75000).unref());
        if ((await Promise.race([exited, timer])) === 'timeout') {
          console.log(`# cluster-demo did not stop within 75 s: SIGKILL to its process group (PostgreSQL and its temp dir may be left)\n${out}`);
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
          await exited;
        }
        process.off('exit', onExit);
        fs.rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return cluster;
}

// `quire cluster owner DOC` with the demo's database and ZooKeeper: the node
// that owns the document on the current ring. The command reads ZooKeeper and
// the database only; the node id and secret it needs are its own.
function ringOwner(cluster, docId) {
  if (!cluster.database || !cluster.zookeeper) throw new Error(`no database or ZooKeeper address in cluster-demo's output:\n${cluster.output()}`);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-e2e-owner-'));
  const env = {
    ...process.env,
    QUIRE_DATABASE__URL: cluster.database,
    QUIRE_CLUSTER__ENABLED: 'true',
    QUIRE_CLUSTER__ZOOKEEPER: cluster.zookeeper,
    QUIRE_CLUSTER__NODE_ID: 'e2e-cli',
    QUIRE_CLUSTER__SECRET: crypto.randomBytes(32).toString('hex'),
  };
  return new Promise((resolve, reject) => {
    execFile(cluster.bin, ['cluster', 'owner', docId], { cwd, env, timeout: 30000 }, (err, stdout, stderr) => {
      fs.rmSync(cwd, { recursive: true, force: true });
      if (err) return reject(new Error(`quire cluster owner: ${err.message}\n${stdout}\n${stderr}`));
      // "DOC<TAB>nodeN<TAB>http://HOST:PORT ..."
      const line = stdout.split('\n').find((l) => l.startsWith(`${docId}\t`));
      const url = line?.split('\t').find((f) => /^https?:\/\//.test(f));
      if (!url) return reject(new Error(`quire cluster owner: no owner in ${JSON.stringify(stdout)}`));
      resolve({ node: line.split('\t')[1], host: new URL(url).host, line });
    });
  });
}

// ---- people and pages ----------------------------------------------------------

const csrfOf = async (ctx, base) => {
  const html = await (await ctx.request.get(`${base}/`)).text();
  return html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
};

// A person signs up on `base` (a node) through the JSON API in a browser
// context of their own. Browsers share cookies between the ports of one host,
// so the session cookie goes to every node: they share one database.
async function person(browser, base, name) {
  const ctx = await newTestContext(browser, { viewport: { width: 1100, height: 760 } });
  const email = `${name.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
  const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name, password: 'correct horse battery staple' } });
  if (!res.ok()) throw new Error(`signup on ${base} ${res.status()}: ${await res.text()}`);
  return { ctx, base, name, email, csrf: await csrfOf(ctx, base), page: null, sockets: [] };
}

// Every WebSocket the page opens, from playwright's side: its URL, the types
// of the frames it received (and a redirect's target), whether it closed.
function recordSockets(p) {
  p.page.on('websocket', (ws) => {
    const rec = { url: ws.url(), got: [], redirect: null, closed: false };
    p.sockets.push(rec);
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') return;
      try {
        const m = JSON.parse(payload);
        if (!['op', 'ack', 'presence', 'pong'].includes(m.t)) rec.got.push(m.t);
        if (m.t === 'redirect') rec.redirect = m.url;
      } catch {
        // not JSON: not ours
      }
    });
    ws.on('close', () => { rec.closed = true; });
  });
}

const hostOf = (url) => new URL(url).host;
// The socket that got `welcome`: where the page edits.
const welcomed = (p) => p.sockets.filter((s) => s.got.includes('welcome'));

// ---- the test ------------------------------------------------------------------

const t0 = Date.now();
let cluster = null;
let browser = null;
const errors = [];
// A Ctrl-C or a kill of the test still stops the cluster.
for (const sig of ['SIGINT', 'SIGTERM']) {
  // (Playwright's own handler closes the browser and may exit first: the exit handler has signalled the demo.)
  process.once(sig, async () => {
    console.log(`# ${sig}: stopping the cluster`);
    await cluster?.stop().catch(() => {});
    process.exit(130);
  });
}

try {
  await step(`scripts/cluster-demo starts ${NODES} nodes`, async () => {
    cluster = launchCluster();
    await cluster.ready();
    if (cluster.urls.length !== NODES || new Set(cluster.urls.map(hostOf)).size !== NODES) throw new Error(`nodes: ${cluster.urls}`);
    for (const url of cluster.urls) {
      const r = await fetch(`${url}/readyz`);
      if (r.status !== 200) throw new Error(`${url}/readyz: ${r.status} ${await r.text()}`);
    }
  });

  let A;
  let B;
  let doc;
  await step('Ann signs up on node1, Bob on node2; Ann creates a document on node1 and shares it with Bob as editor', async () => {
    browser = await launch();
    A = await person(browser, cluster.urls[0], 'Ann Lee');
    B = await person(browser, cluster.urls[1], 'Bob Ray');
    const r = await A.ctx.request.post(`${A.base}/api/docs`, { data: { title: 'Cluster notes' }, headers: { 'X-CSRF-Token': A.csrf } });
    if (!r.ok()) throw new Error(`create ${r.status()}: ${await r.text()}`);
    doc = await r.json();
    const s = await A.ctx.request.put(`${A.base}/api/docs/${doc.id}/members/${encodeURIComponent(B.email)}`, {
      data: { role: 'editor' }, headers: { 'X-CSRF-Token': A.csrf },
    });
    if (!s.ok()) throw new Error(`share ${s.status()}: ${await s.text()}`);
    // Bob sees it from his node: the nodes share the database.
    const m = await B.ctx.request.get(`${B.base}/api/docs/${doc.id}/members`);
    if (!m.ok()) throw new Error(`members on node2 for Bob: ${m.status()}: ${await m.text()}`);
  });

  await step('Ann\'s page served by node1 and Bob\'s by node2 both load the editor and say Saved', async () => {
    for (const p of [A, B]) {
      p.page = await p.ctx.newPage();
      recordSockets(p);
      watchErrors(p.page, p.name, errors);
      const res = await p.page.goto(`${p.base}/d/${doc.id}`);
      if (!res.ok()) throw new Error(`${p.name}: page ${res.status()}`);
      if (hostOf(p.page.url()) !== hostOf(p.base)) throw new Error(`${p.name}: the page moved to ${p.page.url()}`);
      await until(() => p.page.evaluate(() => window.__quire?.client.rev != null), { what: `${p.name} loaded`, timeout: 20000 });
      await until(async () => (await statusText(p.page)) === 'Saved', { what: `${p.name}: Saved`, timeout: 20000 });
    }
  });

  let owner;
  await step('the sockets: at least one page was redirected (with a ticket), and both pages edit on the node that owns the document', async () => {
    owner = await ringOwner(cluster, doc.id);
    const report = () => JSON.stringify({ owner, [A.name]: { page: A.base, sockets: A.sockets }, [B.name]: { page: B.base, sockets: B.sockets } }, null, 1);
    let redirected = 0;
    for (const p of [A, B]) {
      const w = welcomed(p);
      if (w.length !== 1) throw new Error(`${p.name}: ${w.length} sockets got a welcome\n${report()}`);
      const final = w[0];
      if (hostOf(final.url) !== owner.host) throw new Error(`${p.name} edits on ${hostOf(final.url)}, the owner is ${owner.host}\n${report()}`);
      if (hostOf(final.url) === hostOf(p.base)) {
        // Served by the owner: one socket, straight there, no ticket.
        if (p.sockets.length !== 1 || final.url.includes('ticket=')) throw new Error(`${p.name}: on the owner, yet ${report()}`);
        continue;
      }
      // Served by another node: its socket said redirect, closed, and the client followed that exact URL.
      redirected++;
      if (p.sockets.length !== 2) throw new Error(`${p.name}: ${p.sockets.length} sockets, expected 2\n${report()}`);
      const [first, second] = p.sockets;
      if (hostOf(first.url) !== hostOf(p.base) || first.got.join() !== 'redirect' || !first.closed) throw new Error(`${p.name}: first socket ${report()}`);
      if (second !== final || !/[?&]ticket=[^&]+/.test(final.url)) throw new Error(`${p.name}: second socket ${report()}`);
      if (new URL(first.redirect, first.url).toString() !== new URL(final.url).toString()) throw new Error(`${p.name}: followed ${final.url}, told ${first.redirect}`);
      if (new URL(final.url).protocol !== 'ws:' || new URL(final.url).pathname !== `/api/docs/${doc.id}/ws`) throw new Error(`${p.name}: ${final.url}`);
    }
    if (redirected < 1) throw new Error(`no page was redirected\n${report()}`);
    console.log(`# owner ${owner.node} (${owner.host}); Ann's page on ${hostOf(A.base)}, Bob's on ${hostOf(B.base)}; ${redirected} redirected`);
  });

  const settle = async () => {
    await until(async () => {
      for (const p of [A, B]) if (!(await synced(p.page))) return false;
      const [a, b] = await Promise.all([contents(A.page), contents(B.page)]);
      return stableJSON(a) === stableJSON(b);
    }, { what: 'pages to agree', timeout: 15000 });
    for (const p of [A, B]) {
      const m = await quillMatchesClient(p.page);
      if (!m.ok) throw new Error(`${p.name}: Quill drifted from the OT client\n quill:  ${JSON.stringify(m.quill)}\n client: ${JSON.stringify(m.client)}`);
    }
  };

  const ANN = 'Ann writes on a page from node1.';
  const BOB = ' Bob answers from a page of node2.';
  await step('Ann types; Bob sees her text', async () => {
    await A.page.click('.ql-editor');
    await A.page.keyboard.type(ANN, { delay: 10 });
    await until(async () => (await text(B.page)) === `${ANN}\n`, { what: 'Ann\'s text on Bob\'s page' });
  });

  await step('Bob types after it; Ann sees his text', async () => {
    await B.page.click('.ql-editor');
    await B.page.keyboard.press('Control+End');
    await B.page.keyboard.type(BOB, { delay: 10 });
    await until(async () => (await text(A.page)) === `${ANN}${BOB}\n`, { what: 'Bob\'s text on Ann\'s page' });
  });

  await step('both editors hold the same contents, and every node serves it from /content (the third one too)', async () => {
    await settle();
    const mine = stableJSON(await contents(A.page));
    if ((await text(A.page)) !== `${ANN}${BOB}\n`) throw new Error(`text: ${JSON.stringify(await text(A.page))}`);
    for (const url of cluster.urls) {
      const r = await A.ctx.request.get(`${url}/api/docs/${doc.id}/content?format=delta`);
      if (!r.ok()) throw new Error(`${url}/content: ${r.status()}`);
      const server = await r.json();
      if (stableJSON(server.ops) !== mine) throw new Error(`${url}/content != pages\n server: ${JSON.stringify(server.ops)}\n pages:  ${mine}`);
    }
  });

  await step('each sees the other\'s caret and selection with the other\'s name, and both avatars', async () => {
    // Ann selects "Ann" with the keyboard; Bob's caret stays at the end.
    await A.page.keyboard.press('Control+Home');
    for (let i = 0; i < 3; i++) await A.page.keyboard.press('Shift+ArrowRight');
    const end = (await text(B.page)).length - 1;
    const remote = (p) => p.page.evaluate(() => window.__quire.quill.getModule('cursors').cursors().map((c) => ({
      name: c.name, range: c.range && { index: c.range.index, length: c.range.length },
      highlighted: CSS.highlights.get(c.highlightName)?.size ?? 0,
    })));
    await until(async () => (await remote(B)).some((c) => c.name === 'Ann Lee' && c.range?.index === 0 && c.range?.length === 3 && c.highlighted),
      { what: 'Ann\'s selection of "Ann" on Bob\'s page' });
    await until(async () => (await remote(A)).some((c) => c.name === 'Bob Ray' && c.range?.index === end && c.range?.length === 0),
      { what: 'Bob\'s caret at the end on Ann\'s page' });
    for (const [p, other] of [[A, B], [B, A]]) {
      const names = await p.page.locator('.ql-cursor-name').allTextContents();
      if (names.join() !== other.name) throw new Error(`${p.name} sees cursor names ${JSON.stringify(names)}`);
      if ((await remote(p)).length !== 1) throw new Error(`${p.name}: ${JSON.stringify(await remote(p))}`);
      await until(async () => (await p.page.locator('.qe-avatar').count()) === 2, { what: `${p.name}: two avatars` });
      const caret = p.page.locator('.ql-cursor:not(.hidden) .ql-cursor-caret');
      if (!(await caret.isVisible())) throw new Error(`${p.name}: the remote caret is not visible`);
    }
    // quill-cursors shows the name flag on hover only: show it for the pictures.
    for (const p of [A, B]) {
      await p.page.evaluate(() => {
        const m = window.__quire.quill.getModule('cursors');
        for (const c of m.cursors()) m.toggleFlag(c.id, true);
      });
    }
    await A.page.waitForTimeout(500); // the flag's fade-in
    await shot(A.page, '30-cluster-ann-node1');
    await shot(B.page, '30-cluster-bob-node2');
  });

  await step('no page reconnected meanwhile, and none is on another node now', async () => {
    for (const p of [A, B]) {
      const open = p.sockets.filter((s) => !s.closed);
      if (open.length !== 1 || hostOf(open[0].url) !== owner.host || p.sockets.length > 2) {
        throw new Error(`${p.name}: ${JSON.stringify(p.sockets)}`);
      }
    }
  });

  await step('no console errors or CSP violations', async () => {
    if (errors.length) throw new Error(errors.join('\n'));
  });
} finally {
  await browser?.close().catch(() => {});
  if (cluster) {
    // The demo deletes its temp dir, logs included: keep a copy, and report what the nodes complained about.
    const keep = path.join(SHOTS, 'cluster');
    fs.rmSync(keep, { recursive: true, force: true });
    fs.mkdirSync(keep, { recursive: true });
    const complaints = [];
    for (const { node, file } of cluster.logs ?? []) {
      try {
        const log = fs.readFileSync(file, 'utf8');
        fs.writeFileSync(path.join(keep, `${node}.log`), log);
        complaints.push(...nodeComplaints(log).map((line) => `${node}: ${line}`));
      } catch (e) {
        complaints.push(`${node}: log unreadable: ${e.message}`);
      }
    }
    fs.writeFileSync(path.join(keep, 'cluster-demo.out'), cluster.output());
    const stopping = Date.now();
    await cluster.stop();
    console.log(`# cluster stopped in ${Date.now() - stopping} ms; node logs in ${keep}`);
    if (steps.failed && complaints.length) console.log(`# the nodes' warnings and errors:\n# ${complaints.join('\n# ')}`);
    await step('no node logged a warning, an error or a panic', async () => {
      if (complaints.length) throw new Error(complaints.join('\n'));
    });
  }
}

// A node's warnings, errors and panics, less a ZooKeeper connection lost and got back later in the same
// session (a starved CI machine can miss a heartbeat; the session lives on and nothing moves).
function nodeComplaints(log) {
  const lines = log.split('\n');
  return lines.filter((line, at) => {
    if (!/\b(WARN|ERROR)\b|panicked/.test(line)) return false;
    const lostOnly = /ZooKeeper connection state state=Disconnected/.test(line);
    return !(lostOnly && lines.slice(at + 1).some((later) => /ZooKeeper connection state state=SyncConnected/.test(later)));
  });
}

console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(steps.report());
