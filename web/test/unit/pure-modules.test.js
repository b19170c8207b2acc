// The small pure modules: status line, error table, backoff, links, ids,
// unsent text, the shared formats file (local persistence: storage.test.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Delta from 'quill-delta';
import { statusLine } from '../../src/status.js';
import { ERRORS, describeError } from '../../src/errors.js';
import { createBackoff } from '../../src/backoff.js';
import { normalizeLink } from '../../src/editor/links.js';
import { colorFor, initials, PALETTE } from '../../src/ids.js';
import { unsentText } from '../../src/unsent.js';
import { toWebSocketUrl } from '../../src/connection.js';

const base = { conn: 'open', synced: true, pending: false, readOnly: false, notice: '', fatalText: '', loaded: true };

test('status line: every state of the issue has its text', () => {
  assert.equal(statusLine(base).text, 'Saved');
  assert.equal(statusLine({ ...base, pending: true }).text, 'Saving…');
  assert.equal(statusLine({ ...base, conn: 'closed', synced: false, pending: true }).text, 'Offline, your changes will sync');
  assert.equal(statusLine({ ...base, conn: 'closed', synced: false }).text, 'Reconnecting…');
  assert.equal(statusLine({ ...base, conn: 'closed', synced: false, loaded: false }).text, 'Connecting…');
  assert.equal(statusLine({ ...base, readOnly: true }).text, 'Read-only');
  assert.equal(statusLine({ ...base, readOnly: true, conn: 'closed' }).kind, 'readonly');
  assert.deepEqual(statusLine({ ...base, notice: 'slow down' }), { text: 'slow down', kind: 'error' });
  assert.deepEqual(statusLine({ ...base, conn: 'fatal', fatalText: 'Reload' }), { text: 'Reload', kind: 'error' });
  // Open socket still catching up is not "Saved".
  assert.equal(statusLine({ ...base, synced: false }).text, 'Reconnecting…');
});

test('error table covers every code of PROTOCOL.md with an action and a message', () => {
  const codes = ['bad_message', 'unsupported_proto', 'unauthorized', 'forbidden', 'bad_op', 'too_large',
    'rev_in_future', 'rev_too_old', 'stale_seq', 'rate_limited', 'internal'];
  assert.deepEqual(Object.keys(ERRORS).sort(), [...codes].sort());
  const want = {
    bad_message: 'reload', unsupported_proto: 'reload', unauthorized: 'login', forbidden: 'readonly',
    bad_op: 'resync', too_large: 'resync', rev_in_future: 'resume', rev_too_old: 'resume',
    stale_seq: 'stale', rate_limited: 'retry', internal: 'retry',
  };
  for (const c of codes) {
    assert.equal(describeError(c).action, want[c], c);
    assert.ok(describeError(c).text.length > 10, c);
  }
  assert.match(describeError('too_large').text, /too large/);
  assert.equal(describeError('new_code', 'boom').action, 'resume');
  assert.match(describeError('new_code', 'boom').text, /boom/);
});

test('backoff grows exponentially with full jitter, capped, and resets', () => {
  const top = createBackoff({ base: 500, max: 8000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => top.next()), [500, 1000, 2000, 4000, 8000, 8000]);
  top.reset();
  assert.equal(top.next(), 500);
  const low = createBackoff({ base: 500, random: () => 0 });
  assert.equal(low.next(), 250, 'never 0: a floor against tight loops');
  const mid = createBackoff({ base: 1000, random: () => 0.5 });
  mid.next();
  assert.equal(mid.next(), 1000);
});

test('links: http, https and mailto only', () => {
  assert.equal(normalizeLink('https://example.com/a?b=1#c'), 'https://example.com/a?b=1#c');
  assert.equal(normalizeLink('  http://x.org '), 'http://x.org');
  assert.equal(normalizeLink('mailto:ann@example.com'), 'mailto:ann@example.com');
  assert.equal(normalizeLink('ann@example.com'), 'mailto:ann@example.com');
  assert.equal(normalizeLink('example.com/page'), 'https://example.com/page');
  assert.equal(normalizeLink('example.com:8080/x'), 'https://example.com:8080/x');
  for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,hi', 'vbscript:x',
    'ftp://x.org', 'file:///etc/passwd', 'tel:123', '', '   ', 'https://a b', 'notalink', '//evil.com', 'https://']) {
    assert.equal(normalizeLink(bad), null, bad);
  }
});

test('colours are stable per user and initials handle odd names', () => {
  assert.equal(colorFor('user-1'), colorFor('user-1'));
  assert.ok(PALETTE.includes(colorFor('x')));
  const used = new Set(Array.from({ length: 50 }, (_, i) => colorFor(`u${i}`)));
  assert.ok(used.size > 6, 'spread over the palette');
  assert.equal(initials('Ada Lovelace'), 'AL');
  assert.equal(initials('  grace  brewster murray hopper '), 'GH');
  assert.equal(initials('émile'), 'É');
  assert.equal(initials('😀 Smile'), '😀S');
  assert.equal(initials(''), '?');
});

test('unsent text: the person\'s whole version and what they typed', () => {
  const u = unsentText({
    base: new Delta().insert('Hello\n'),
    outstanding: { seq: 3, op: new Delta().retain(5).insert(' world') },
    buffer: new Delta().retain(11).insert('!'),
  });
  assert.equal(u.document, 'Hello world!\n');
  assert.deepEqual(u.typed, [' world', '!']);
  assert.equal(unsentText(null), null);
  assert.deepEqual(unsentText({ base: null, outstanding: null, buffer: new Delta().insert('x') }), { document: null, typed: ['x'] });
});

test('ws URL from page-relative and redirect URLs', () => {
  assert.equal(toWebSocketUrl('/api/docs/a/ws', 'https://q.example/d/a'), 'wss://q.example/api/docs/a/ws');
  assert.equal(toWebSocketUrl('/api/docs/a/ws', 'http://127.0.0.1:8080/d/a'), 'ws://127.0.0.1:8080/api/docs/a/ws');
  assert.equal(toWebSocketUrl('https://n2.example/api/docs/a/ws?ticket=t', 'wss://n1.example/x'), 'wss://n2.example/api/docs/a/ws?ticket=t');
  assert.equal(toWebSocketUrl('ws://n2/x', 'https://n1/'), 'ws://n2/x');
});

test('formats.json: the list Quill and the server share has the issue\'s formats, and images with width and alt', () => {
  const f = JSON.parse(fs.readFileSync(new URL('../../src/formats.json', import.meta.url)));
  assert.deepEqual([...f.inline].sort(), ['bold', 'code', 'italic', 'link', 'strike', 'underline']);
  assert.deepEqual([...f.line].sort(), ['blockquote', 'code-block', 'header', 'indent', 'list', 'table']);
  assert.deepEqual(f.embeds, ['image']);
  assert.deepEqual([...f.embed_attributes].sort(), ['alt', 'width']);
});

test('the committed bundle exposes no test hooks (window.__quire is only in the tests\' build)', () => {
  const js = fs.readFileSync(new URL('../../../assets/editor.js', import.meta.url), 'utf8');
  assert.doesNotMatch(js, /__quire(?!_probe__)/);
});
