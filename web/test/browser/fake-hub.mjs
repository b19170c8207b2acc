// A stand-in for the Rust server, for the browser tests until it serves
// pages: the /d/{id} shell exactly as templates/document.html renders it
// (with the production CSP), /assets/*, GET and PATCH /api/docs/{id}, GET
// /api/docs/{id}/content?format=delta, POST /logout (a bare page), and the
// protocol over WebSocket
// backed by the in-process FakeServer of the unit tests.
// Role per browser context: open /d/{id}?role=viewer once (sets a cookie).
// Run alone: node test/browser/fake-hub.mjs  (prints the URL).

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { FakeServer } from '../lib/fake-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = path.resolve(here, '../../../assets');
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cookies(req) {
  return Object.fromEntries((req.headers.cookie ?? '').split(/;\s*/).filter(Boolean).map((c) => c.split('=')));
}

export async function startFakeHub({ port = 0 } = {}) {
  const docs = new Map(); // id -> {server, title}
  const doc = (id) => {
    if (!docs.has(id)) docs.set(id, { server: new FakeServer(), title: 'Untitled' });
    return docs.get(id);
  };
  const log = [];

  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': CSP, ...headers });
      res.end(body);
    };
    let m;
    if ((m = url.pathname.match(/^\/d\/([\w-]+)$/))) {
      const c = cookies(req);
      const role = url.searchParams.get('role') ?? c.role ?? 'editor';
      const name = url.searchParams.get('name') ?? c.name ?? 'Ann Example';
      const d = doc(m[1]);
      const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="test-csrf">
<title>${esc(d.title)} · Quire</title>
<link rel="stylesheet" href="/assets/editor.css">
<script src="/assets/editor.js" defer></script></head>
<body class="editor-page"><main id="quire-editor" data-doc-id="${esc(m[1])}" data-doc-title="${esc(d.title)}" data-user-id="u-${esc(name)}" data-user-name="${esc(name)}" data-role="${esc(role)}"><noscript>JS</noscript></main></body></html>`;
      return send(200, 'text/html; charset=utf-8', html, {
        'Set-Cookie': [`role=${role}; Path=/`, `name=${encodeURIComponent(name)}; Path=/`],
      });
    }
    if ((m = url.pathname.match(/^\/assets\/([\w.-]+)$/))) {
      const file = path.join(assets, m[1]);
      if (!fs.existsSync(file)) return send(404, 'text/plain', 'not found');
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/json';
      return send(200, type, fs.readFileSync(file));
    }
    if ((m = url.pathname.match(/^\/api\/docs\/([\w-]+)\/content$/))) {
      const s = doc(m[1]).server;
      return send(200, 'application/json', JSON.stringify({ rev: s.head, ops: s.doc.ops }));
    }
    if ((m = url.pathname.match(/^\/api\/docs\/([\w-]+)$/)) && req.method === 'GET') {
      // The editor's probe after failed handshakes: the document exists.
      return send(200, 'application/json', JSON.stringify({ id: m[1], title: doc(m[1]).title }));
    }
    if (url.pathname === '/logout' && req.method === 'POST') {
      return send(200, 'text/html; charset=utf-8', '<!doctype html><title>Logged out</title><p>Logged out.</p>');
    }
    if ((m = url.pathname.match(/^\/api\/docs\/([\w-]+)$/)) && req.method === 'PATCH') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        if (req.headers['x-csrf-token'] !== 'test-csrf') return send(403, 'application/json', JSON.stringify({ error: { code: 'csrf', message: 'bad csrf' } }));
        const d = doc(m[1]);
        d.title = JSON.parse(body).title;
        log.push({ patch: m[1], title: d.title });
        return send(200, 'application/json', JSON.stringify({ id: m[1], title: d.title }));
      });
      return undefined;
    }
    return send(404, 'text/plain', 'not found');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const hub = { blockWs: false };
  httpServer.on('upgrade', (req, socket, head) => {
    const m = new URL(req.url, 'http://x').pathname.match(/^\/api\/docs\/([\w-]+)\/ws$/);
    // blockWs: the page loads but its socket cannot connect ("offline" reload).
    if (!m || hub.blockWs) return socket.destroy();
    const c = cookies(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const server = doc(m[1]).server;
      const conn = server.connect((msg) => {
        if (ws.readyState === 1) ws.send(JSON.stringify(msg));
      }, { role: c.role ?? 'editor', userId: `u-${decodeURIComponent(c.name ?? 'Ann Example')}` });
      ws.on('message', (data) => {
        let msg;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          ws.send(JSON.stringify({ t: 'error', code: 'bad_message', msg: 'not JSON', fatal: true }));
          return ws.close();
        }
        log.push({ in: msg.t });
        server.receive(conn, msg);
      });
      ws.on('close', () => server.close(conn));
    });
  });

  await new Promise((r) => httpServer.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  return Object.assign(hub, {
    url,
    docs,
    log,
    // Commit an op as a ghost editor at head (tests: history moves on).
    injectOp(docId, ops) {
      const server = doc(docId).server;
      const conn = server.connect(() => {}, { role: 'editor' });
      server.receive(conn, { t: 'hello', proto: 1, client: 'ghost', rev: server.head });
      server.receive(conn, { t: 'op', rev: server.head, seq: server.head + 1, op: ops });
      server.close(conn);
    },
    // Drop every socket, as a server restart would.
    dropAll() {
      for (const ws of wss.clients) ws.terminate();
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => httpServer.close(r));
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const hub = await startFakeHub({ port: Number(process.env.PORT ?? 0) });
  console.log(`fake hub on ${hub.url}  (open ${hub.url}/d/demo)`);
}
