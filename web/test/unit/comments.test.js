// Comments in the browser without DOM: the anchor rule (also against the
// Rust rule's shared vectors), and CommentState fed real protocol frames:
// anchors moved through our unacknowledged ops and every applied change, a
// new comment held until nothing of ours is in flight, answers by `ref`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Delta from 'quill-delta';
import { moveAnchor, moveThrough } from '../../src/comments/anchor.js';
import { CommentState, canResolve, canChangeMessage, canComment, mentionIds } from '../../src/comments/state.js';

const vectors = JSON.parse(fs.readFileSync(new URL('../../../tests/data/comments/anchor-vectors.json', import.meta.url)));

test('the anchor rule gives the same moves as the server on the shared vectors', () => {
  assert.ok(vectors.cases.length >= 40);
  for (const c of vectors.cases) {
    const m = moveAnchor(new Delta(c.op), { start: c.anchor[0], end: c.anchor[1], orphaned: c.anchor[2] });
    assert.deepEqual([m.start, m.end, m.orphaned], c.expect, c.why);
  }
});

// Independent of the formula: characters as ids, an insert joins the range
// exactly when both neighbours of its gap are in it.
function model(len, [start, end], ops) {
  let covered = Array.from({ length: len }, (_, i) => i >= start && i < end);
  const out = [];
  let cursor = 0;
  for (const op of ops) {
    if (op.retain != null) {
      out.push(...covered.slice(cursor, cursor + op.retain));
      cursor += op.retain;
    } else if (op.delete != null) cursor += op.delete;
    else {
      const inside = cursor > 0 && cursor < len && covered[cursor - 1] && covered[cursor];
      out.push(...Array(op.insert.length).fill(inside));
    }
  }
  covered = [...out, ...covered.slice(cursor)];
  const first = covered.indexOf(true);
  return first < 0 ? null : [first, covered.lastIndexOf(true) + 1];
}

test('the anchor rule matches the character model on random ops', () => {
  let seed = 7;
  const rnd = (n) => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    const len = 1 + rnd(12);
    const a = rnd(len);
    const b = rnd(len);
    const range = [Math.min(a, b), Math.max(a, b) + 1];
    const d = new Delta();
    let cursor = 0;
    for (let k = rnd(6); k >= 0; k--) {
      const n = 1 + rnd(3);
      const kind = rnd(3);
      if (kind === 1) d.insert('x'.repeat(n));
      else if (cursor < len) {
        const m = Math.min(n, len - cursor);
        if (kind === 0) d.retain(m);
        else d.delete(m);
        cursor += m;
      }
    }
    const moved = moveAnchor(d, { start: range[0], end: range[1], orphaned: false });
    const want = model(len, range, d.ops);
    if (want) assert.deepEqual([moved.start, moved.end, moved.orphaned], [...want, false], JSON.stringify({ range, ops: d.ops }));
    else assert.equal(moved.orphaned, true, JSON.stringify({ range, ops: d.ops }));
  }
});

test('moveThrough applies the outstanding op, then the buffer', () => {
  const outstanding = new Delta().insert('ab'); // before everything
  const buffer = new Delta().retain(6).insert('Z'); // inside the moved range (5..8)
  assert.deepEqual(moveThrough([outstanding, buffer], { start: 3, end: 6, orphaned: false }), { start: 5, end: 9, orphaned: false });
  assert.deepEqual(moveThrough([null, null], { start: 3, end: 6, orphaned: false }), { start: 3, end: 6, orphaned: false });
});

// ---- CommentState ------------------------------------------------------------

const ann = { id: 'u-ann', name: 'Ann' };
const bob = { id: 'u-bob', name: 'Bob' };
const message = (id, author, body, extra = {}) => ({ id, author, body, created_at: 1, edited_at: null, deleted: false, ...extra });
const thread = (id, start, end, extra = {}) => ({
  id, author: ann, start, end, quote: 'word', orphaned: false, resolved: false, resolved_by: null, resolved_at: null, created_at: 1, ...extra,
});

function harness({ pending = [], rev = 10, synced = true } = {}) {
  const h = { sent: [], answers: [], changes: 0, pending, rev, synced, online: true };
  h.state = new CommentState({
    send: (m) => h.online && h.sent.push(m) > 0,
    pending: () => h.pending,
    rev: () => h.rev,
    synced: () => h.synced,
    onChange: () => { h.changes += 1; },
    onAnswer: (ref, a) => h.answers.push([ref, a]),
  });
  return h;
}

test('a comments frame is shown moved through our unacknowledged ops', () => {
  const h = harness({ pending: [new Delta().insert('12'), new Delta().retain(4).insert('in')] });
  h.state.receive({ t: 'comments', rev: 10, threads: [{ ...thread('t1', 0, 5), messages: [message('m1', ann, 'Hi')] }] });
  const [t] = h.state.list();
  // "12" went before the range, "in" inside it (between its characters).
  assert.deepEqual([t.start, t.end, t.orphaned], [2, 9, false]);
  assert.equal(t.messages[0].body, 'Hi');
  assert.equal(h.state.openCount, 1);
});

test('every applied change moves the shown anchors with the server rule, and a deleted range is orphaned', () => {
  const h = harness();
  h.state.receive({ t: 'comments', rev: 10, threads: [{ ...thread('t1', 4, 8), messages: [] }] });
  h.state.edited(new Delta().retain(4).insert('xx')); // typed right before: outside
  assert.deepEqual(pick(h.state.threads.get('t1')), [6, 10, false]);
  h.state.edited(new Delta().retain(10).insert('yy')); // right after: outside
  assert.deepEqual(pick(h.state.threads.get('t1')), [6, 10, false]);
  const before = h.changes;
  h.state.edited(new Delta().retain(2).delete(10)); // all of it gone
  assert.deepEqual(pick(h.state.threads.get('t1')), [2, 2, true]);
  assert.equal(h.changes, before + 1, 'an orphaned thread is drawn again, not only moved');
  assert.equal(h.state.threadAt(2), null, 'an orphan is not found in the text');
});

const pick = (t) => [t.start, t.end, t.orphaned];

test('each event replaces the thread: created, replied, edited, deleted, resolved, reopened', () => {
  const h = harness();
  h.state.receive({ t: 'comments', rev: 10, threads: [] });
  h.state.receive({ t: 'comment', event: 'created', rev: 10, thread: thread('t1', 1, 3), message: message('m1', ann, 'First') });
  h.state.receive({ t: 'comment', event: 'replied', rev: 10, thread: thread('t1', 1, 3), message: message('m2', bob, 'Reply') });
  h.state.receive({ t: 'comment', event: 'edited', rev: 10, thread: thread('t1', 1, 3), message: message('m2', bob, 'Reply!', { edited_at: 5 }) });
  assert.deepEqual(h.state.threads.get('t1').messages.map((m) => m.body), ['First', 'Reply!']);
  h.state.receive({ t: 'comment', event: 'message_deleted', rev: 10, thread: thread('t1', 1, 3), message: message('m2', bob, '', { deleted: true }) });
  assert.equal(h.state.threads.get('t1').messages[1].deleted, true);
  h.state.receive({ t: 'comment', event: 'resolved', rev: 10, thread: thread('t1', 1, 3, { resolved: true, resolved_by: ann }), message: null });
  assert.equal(h.state.list().length, 0, 'resolved leaves the open list');
  assert.equal(h.state.list({ resolved: true }).length, 1, 'and shows with "Show resolved"');
  assert.equal(h.state.openCount, 0);
  h.state.receive({ t: 'comment', event: 'reopened', rev: 10, thread: thread('t1', 1, 3), message: null });
  assert.equal(h.state.list().length, 1);
  assert.equal(h.state.threads.get('t1').messages.length, 2, 'messages kept across events without them');
  h.state.receive({ t: 'comment', event: 'thread_deleted', rev: 10, thread: thread('t1', 1, 3), message: message('m1', ann, '', { deleted: true }) });
  assert.equal(h.state.threads.size, 0);
});

test('an event anchor goes through our pending ops too', () => {
  const h = harness({ pending: [new Delta().insert('abc'), null] });
  h.state.receive({ t: 'comments', rev: 10, threads: [] });
  h.state.receive({ t: 'comment', event: 'created', rev: 10, thread: thread('t1', 0, 4), message: message('m1', bob, 'x') });
  assert.deepEqual(pick(h.state.threads.get('t1')), [3, 7, false]);
});

test('a new comment waits until nothing of ours is in flight, then names our revision and its moved range', () => {
  const h = harness({ synced: false });
  const ref = h.state.create({ start: 5, end: 9, body: 'Why?' });
  assert.equal(h.sent.length, 0, 'held while an op is in flight');
  h.state.edited(new Delta().insert('ab')); // more typing before it meanwhile
  h.synced = true;
  h.rev = 12;
  h.state.settled();
  assert.deepEqual(h.sent, [{ t: 'comment_new', ref, rev: 12, start: 7, end: 11, body: 'Why?' }]);
  h.state.settled();
  assert.equal(h.sent.length, 1, 'sent once');
  h.state.receive({ t: 'comment', event: 'created', rev: 12, ref, thread: thread('t9', 7, 11), message: message('m1', ann, 'Why?') });
  assert.deepEqual(h.answers.map(([r, a]) => [r, a.ok]), [[ref, true]]);
});

test('mentions go out only when there are some, as ids', () => {
  const h = harness();
  h.state.create({ start: 0, end: 2, body: 'hi @Bob', mentions: ['u-bob'] });
  h.state.reply('t1', 'plain');
  h.state.reply('t1', '@Bob look', ['u-bob']);
  assert.deepEqual(h.sent.map((m) => m.mentions), [['u-bob'], undefined, ['u-bob']]);
  assert.deepEqual(mentionIds({}), []);
  assert.deepEqual(mentionIds({ mentions: [bob] }), ['u-bob']);
});

test('a refusal with our ref is answered with a readable text; a rev refusal resends the new comment', () => {
  const h = harness();
  const ref = h.state.reply('t1', 'x');
  h.state.receive({ t: 'error', code: 'forbidden', msg: 'no', fatal: false, ref });
  assert.equal(h.answers[0][1].ok, false);
  assert.match(h.answers[0][1].text, /may not/);
  const created = h.state.create({ start: 0, end: 2, body: 'c' });
  h.state.receive({ t: 'error', code: 'rev_too_old', msg: 'old', fatal: false, ref: created });
  assert.equal(h.sent.filter((m) => m.ref === created).length, 2, 'sent again');
  h.state.receive({ t: 'error', code: 'forbidden', msg: 'x', fatal: false, ref: 'not-ours' });
  assert.equal(h.answers.length, 1, 'errors about others are ignored');
});

test('after a reconnect, a new comment whose answer was lost is not sent twice; one never stored is sent again', () => {
  const h = harness();
  h.state.meId = 'u-ann';
  const stored = h.state.create({ start: 0, end: 2, body: 'Stored' });
  const lost = h.state.create({ start: 3, end: 5, body: 'Lost' });
  assert.equal(h.sent.length, 2);
  h.state.receive({ t: 'comments', rev: 11, threads: [{ ...thread('t1', 0, 2), messages: [message('m1', ann, 'Stored')] }] });
  assert.deepEqual(h.answers.map(([r, a]) => [r, a.ok]), [[stored, true]]);
  h.rev = 11;
  h.state.settled();
  assert.deepEqual(h.sent.slice(2).map((m) => [m.ref, m.body, m.rev]), [[lost, 'Lost', 11]]);
});

test('offline, an action is not sent and says so; a reconnect frame settles what was in flight', () => {
  const h = harness();
  const ref = h.state.resolve('t1');
  h.online = false;
  assert.equal(h.state.reopen('t1'), null);
  h.state.receive({ t: 'comments', rev: 11, threads: [] });
  assert.deepEqual(h.answers.map(([r, a]) => [r, a.code]), [[ref, 'disconnected']]);
});

test('who may resolve and change messages follows the role table', () => {
  const t = thread('t1', 0, 1);
  assert.equal(canResolve('editor', t, 'u-bob'), true);
  assert.equal(canResolve('commenter', t, 'u-ann'), true, 'author of the thread');
  assert.equal(canResolve('commenter', t, 'u-bob'), false);
  assert.equal(canResolve('viewer', t, 'u-ann'), false);
  assert.equal(canComment('viewer'), false);
  assert.equal(canComment('commenter'), true);
  const m = message('m1', ann, 'x');
  assert.equal(canChangeMessage('commenter', m, 'u-ann'), true);
  assert.equal(canChangeMessage('owner', m, 'u-bob'), false, 'only one\'s own');
  assert.equal(canChangeMessage('viewer', m, 'u-ann'), false);
});

// ---- mentions ------------------------------------------------------------------

import { mentionQuery, matchPeople, insertMention, mentionedIds } from '../../src/comments/mentions.js';

test('the @prefix at the caret, the people it matches, the text after choosing, the ids sent', () => {
  assert.deepEqual(mentionQuery('Ask @Bo', 7), { start: 4, query: 'Bo' });
  assert.deepEqual(mentionQuery('@', 1), { start: 0, query: '' });
  assert.equal(mentionQuery('mail me@host', 12), null, 'not inside a word');
  assert.equal(mentionQuery('Ask @Bo now', 11), null, 'the caret is past it');
  const people = [{ id: 'a', name: 'Ann Lee' }, { id: 'b', name: 'Bob Stone' }, { id: 'c', name: 'Lena Bo' }];
  assert.deepEqual(matchPeople(people, 'bo').map((p) => p.id), ['b', 'c']);
  assert.deepEqual(matchPeople(people, 'LEE').map((p) => p.id), ['a']);
  assert.deepEqual(matchPeople(people, '', { exclude: 'a' }).map((p) => p.id), ['b', 'c']);
  const done = insertMention('Ask @Bo now', { start: 4, query: 'Bo' }, people[1]);
  assert.deepEqual(done, { text: 'Ask @Bob Stone now', caret: 15 });
  assert.deepEqual(mentionedIds(done.text, [people[1], people[1], people[0]]), ['b'], 'Ann was chosen then erased');
});

// ---- the session's hooks -------------------------------------------------------

import { DocSync } from '../../src/sync.js';

class NoSocket {
  constructor() {
    this.readyState = 0;
  }

  send() {}

  close() {}
}

test('the session asks for comments, reports every applied change, and keeps comment refusals away from the text', () => {
  const frames = [];
  const edits = [];
  let settled = 0;
  const sync = new DocSync({
    url: 'ws://127.0.0.1:9/ws', WebSocketImpl: NoSocket, role: 'editor', comments: true,
    hooks: { comments: (m) => frames.push(m.t), edited: (d) => edits.push(d.ops), settled: () => { settled += 1; } },
  });
  assert.equal(sync.conn.hello().comments, true);
  assert.equal(new DocSync({ url: 'ws://127.0.0.1:9/ws', WebSocketImpl: NoSocket }).conn.hello().comments, undefined, 'only when asked');
  sync._process({ t: 'welcome', role: 'editor', snapshot: { rev: 1, ops: [{ insert: 'abc\n' }] }, head: 1 });
  assert.ok(settled > 0, 'welcomed with nothing in flight');
  sync._process({ t: 'comments', rev: 1, threads: [] });
  sync.localChange(new Delta().insert('X'));
  sync._process({ t: 'op', rev: 1, op: [{ retain: 2 }, { insert: 'Y' }], client: 'someone', seq: 1 });
  // Ours (as typed), then theirs (as applied to the local view: after our X).
  assert.deepEqual(edits, [[{ insert: 'X' }], [{ retain: 3 }, { insert: 'Y' }]]);
  sync._process({ t: 'comment', event: 'created', rev: 2, thread: {}, message: null });
  sync._process({ t: 'error', code: 'forbidden', msg: 'no', fatal: false, ref: 'c1' });
  assert.deepEqual(frames, ['comments', 'comment', 'error']);
  assert.equal(sync.readOnly, false, 'a refused comment does not make the text read-only');
  assert.equal(sync.hasUnsaved, true, 'nor drop the pending edit');
  sync._process({ t: 'error', code: 'forbidden', msg: 'no', fatal: false });
  assert.equal(sync.readOnly, true, 'the same error about the text does');
  sync.stop();
});
