// The pure parts of the Share dialog and the ⋯ menu: API errors, who may do
// what, the people list's order, messages, download file names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, ApiError, errorOf } from '../../src/api.js';
import {
  permissions, sortMembers, memberRow, shareErrorMessage, looksLikeEmail, shortDate, SHARE_ROLES,
} from '../../src/ui/share-model.js';
import { fileName, contentPath, FORMATS } from '../../src/download.js';

const res = (status, body, type = 'application/json') => new Response(
  body == null ? null : typeof body === 'string' ? body : JSON.stringify(body),
  { status, headers: { 'Content-Type': type } });

test('api: CSRF header on writes only, JSON body, same-origin cookies', async () => {
  const calls = [];
  const api = createApi({
    token: () => 'tok',
    fetchImpl: async (path, init) => {
      calls.push({ path, ...init });
      return init.method === 'DELETE' ? res(204, null) : res(200, { ok: true });
    },
  });
  assert.deepEqual(await api.get('/api/docs/a/members'), { ok: true });
  assert.deepEqual(await api.put('/api/docs/a/members/x%40y', { role: 'viewer' }), { ok: true });
  assert.equal(await api.del('/api/docs/a/members/u1'), null);
  assert.equal(calls[0].headers['X-CSRF-Token'], undefined);
  assert.equal(calls[0].body, undefined);
  assert.equal(calls[1].headers['X-CSRF-Token'], 'tok');
  assert.equal(calls[1].headers['Content-Type'], 'application/json');
  assert.equal(calls[1].body, '{"role":"viewer"}');
  assert.equal(calls[2].headers['X-CSRF-Token'], 'tok');
  assert.ok(calls.every((c) => c.credentials === 'same-origin'));
});

test('api: JSON errors keep code, message and the extra fields; others keep the status', async () => {
  const e1 = await errorOf(res(404, { error: { code: 'no_account', message: 'x has no account', invite_url: 'http://h/signup?invite=t' } }));
  assert.ok(e1 instanceof ApiError);
  assert.equal(e1.status, 404);
  assert.equal(e1.code, 'no_account');
  assert.equal(e1.message, 'x has no account');
  assert.deepEqual(e1.details, { invite_url: 'http://h/signup?invite=t' });
  const e2 = await errorOf(res(502, '<html>Bad gateway</html>', 'text/html'));
  assert.equal(e2.code, 'http');
  assert.match(e2.message, /502/);
  const api = createApi({ fetchImpl: async () => { throw new TypeError('Failed to fetch'); } });
  await assert.rejects(api.get('/x'), (e) => e.code === 'network' && e.status === 0);
  const api2 = createApi({ fetchImpl: async () => res(403, { error: { code: 'forbidden', message: 'no' } }) });
  await assert.rejects(api2.post('/x', {}), (e) => e.code === 'forbidden' && e.status === 403);
});

const owner = { id: 'o', email: 'ann@x.test', name: 'Ann', role: 'owner' };
const ed = { id: 'e', email: 'bob@x.test', name: 'Bob', role: 'editor', via_link: false };
const vw = { id: 'v', email: 'cy@x.test', name: 'cy', role: 'viewer', via_link: true };
const data = (canShare, members = [vw, ed, owner]) => ({ members, links: [], can_share: canShare, editors_can_share: false });

test('share permissions: owner, editor allowed to share, viewer', () => {
  assert.deepEqual(permissions(data(true), 'o'), { isOwner: true, canShare: true, canManageLinks: true, canToggleEditorsShare: true, canTransfer: true });
  const editor = permissions(data(true), 'e');
  assert.equal(editor.isOwner, false);
  assert.equal(editor.canShare, true);
  assert.equal(editor.canManageLinks, false);
  assert.equal(editor.canTransfer, false);
  const viewer = permissions(data(false), 'v');
  assert.equal(viewer.canShare, false);
  assert.equal(viewer.canToggleEditorsShare, false);
  assert.equal(permissions(null, 'o').canShare, false);
});

test('share rows: the owner row is never editable; a viewer sees everything read-only', () => {
  const ownerPerms = permissions(data(true), 'o');
  const rows = sortMembers(data(true).members, 'o').map((m) => memberRow(m, 'o', ownerPerms));
  assert.deepEqual(rows.map((r) => r.id), ['o', 'e', 'v'], 'owner first, then by name');
  assert.equal(rows[0].you, true);
  assert.equal(rows[0].canChangeRole, false);
  assert.equal(rows[0].canRemove, false);
  assert.equal(rows[0].canMakeOwner, false);
  assert.equal(rows[0].roleLabel, 'Owner');
  assert.equal(rows[1].canChangeRole, true);
  assert.equal(rows[1].canMakeOwner, true);
  assert.equal(rows[2].viaLink, true);
  const edRows = sortMembers(data(true).members, 'e').map((m) => memberRow(m, 'e', permissions(data(true), 'e')));
  assert.deepEqual(edRows.map((r) => r.id), ['o', 'e', 'v'], 'me right after the owner');
  assert.ok(edRows.every((r) => !r.canMakeOwner));
  assert.equal(edRows[2].canRemove, true);
  const vRows = sortMembers(data(false).members, 'v').map((m) => memberRow(m, 'v', permissions(data(false), 'v')));
  assert.deepEqual(vRows.map((r) => r.id), ['o', 'v', 'e']);
  assert.ok(vRows.every((r) => !r.canChangeRole && !r.canRemove && !r.canMakeOwner));
  assert.equal(memberRow({ id: 'z', email: 'z@x.test', role: 'viewer' }, 'o', ownerPerms).name, 'z@x.test');
  assert.deepEqual(SHARE_ROLES, ['editor', 'commenter', 'viewer']);
});

test('share messages: no_account with and without an invitation link, forbidden, network', () => {
  const withInvite = new ApiError(404, 'no_account', 'x has no account; send them this invitation link', { invite_url: 'u' });
  assert.match(shareErrorMessage(withInvite, 'x@y.test'), /x@y\.test has no account.*invitation link below/);
  const plain = new ApiError(404, 'no_account', 'x@y.test has no account on this server yet; ask them to sign up at http://h/signup');
  assert.equal(shareErrorMessage(plain, 'x@y.test'), plain.message);
  assert.match(shareErrorMessage(new ApiError(403, 'forbidden', 'only the owner can share')), /^Not allowed: only the owner can share\.$/);
  assert.match(shareErrorMessage(new ApiError(0, 'network', 'Could not reach the server.')), /Could not reach/);
  assert.equal(shareErrorMessage(null), '');
});

test('e-mail check and dates', () => {
  for (const ok of ['a@b.co', ' ann.lee+x@example.test ']) assert.ok(looksLikeEmail(ok), ok);
  for (const bad of ['', 'ann', 'ann@', '@x.org', 'a b@c.d', 'ann@example']) assert.ok(!looksLikeEmail(bad), bad);
  assert.match(shortDate('2026-11-26T07:39:24Z', 'en-GB'), /26 Nov 2026/);
  assert.match(shortDate(1795679239, 'en-GB'), /2026/);
  assert.equal(shortDate('nonsense'), '');
  assert.equal(shortDate(null), '');
});

test('download file names: from the title, safe on every OS, with the format\'s extension', () => {
  assert.equal(fileName('Trip plan', 'text'), 'Trip plan.txt');
  assert.equal(fileName('Trip plan', 'html'), 'Trip plan.html');
  assert.equal(fileName('Trip plan', 'markdown'), 'Trip plan.md');
  assert.equal(fileName('', 'text'), 'Untitled.txt');
  assert.equal(fileName('   ', 'text'), 'Untitled.txt');
  assert.equal(fileName(null, 'text'), 'Untitled.txt');
  assert.equal(fileName('a/b\\c:d*e?f"g<h>i|j', 'text'), 'a b c d e f g h i j.txt');
  assert.equal(fileName('../../etc/passwd', 'text'), 'etc passwd.txt');
  assert.equal(fileName('line\nbreak\ttab', 'text'), 'line break tab.txt');
  assert.equal(fileName('...hidden.', 'text'), 'hidden.txt');
  assert.equal(fileName('CON', 'text'), 'CON_.txt');
  assert.equal(fileName('Ünïcode — “quotes” 日本', 'markdown'), 'Ünïcode — “quotes” 日本.md');
  const long = fileName('😀'.repeat(150), 'text');
  assert.equal(Array.from(long.replace(/\.txt$/, '')).length, 100, 'cut by code points');
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(long), 'no lone surrogate');
  assert.throws(() => fileName('x', 'pdf'));
  assert.deepEqual(Object.keys(FORMATS), ['text', 'html', 'markdown']);
  assert.equal(contentPath('a b', 'markdown'), '/api/docs/a%20b/content?format=markdown');
});
