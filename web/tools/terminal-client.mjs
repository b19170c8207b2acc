#!/usr/bin/env node
// A terminal client for one Quire document, built on the browser's own sync code (DocSync, the OT client and
// the connection with resume): it prints the document whenever anyone changes it, and every line you type is
// appended to the end of the document. Two of these against one server show each other's edits.
//
//   node tools/terminal-client.mjs http://127.0.0.1:8080 TOKEN DOC_ID [NAME]
//
// TOKEN is a personal API token (POST /api/tokens); DOC_ID is from the document's URL (/d/DOC_ID).

import readline from 'node:readline';
import WebSocket from 'ws';
import Delta from 'quill-delta';
import { DocSync } from '../src/sync.js';

const [base, token, docId, name = 'terminal'] = process.argv.slice(2);
if (!base || !token || !docId) {
  console.error('usage: node tools/terminal-client.mjs URL TOKEN DOC_ID [NAME]');
  process.exit(2);
}

let doc = new Delta();
const show = () => {
  console.log(`\n----- ${docId} -----\n${doc.map((op) => (typeof op.insert === 'string' ? op.insert : '')).join('')}-----`);
};
const sync = new DocSync({
  url: `${base.replace(/^http/, 'ws').replace(/\/$/, '')}/api/docs/${encodeURIComponent(docId)}/ws`,
  user: { name, color: '#0f766e' },
  role: 'editor',
  WebSocketImpl: WebSocket,
  wsOptions: { headers: { Authorization: `Bearer ${token}` } },
  hooks: {
    apply: (change) => { doc = doc.compose(change); show(); },
    load: (loaded) => { doc = loaded; show(); },
    unsent: (unsent, why) => console.error(`edits not sent (${why}): ${JSON.stringify(unsent.typed)}`),
    status: (status) => { if (status.kind === 'error' || status.kind === 'offline') console.error(`[${status.text}]`); },
  },
});
sync.start();

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  // Insert before the final newline: the document always ends in "\n".
  const change = new Delta().retain(doc.length() - 1).insert(`${line}\n`);
  doc = doc.compose(change);
  sync.localChange(change);
  show();
});
input.on('close', () => { setTimeout(() => { sync.stop(); process.exit(0); }, 500); });
