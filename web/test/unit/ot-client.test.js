// Unit tests of the OT client state machine (PROTOCOL.md section 2).
// Golden vectors are worked out by hand in the comments, from quill-delta's
// transform rules (research/ot.md 3.6), so a change in the rules fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Delta from 'quill-delta';
import { OTClient, STATES, transformSelection } from '../../src/ot-client.js';

// A client welcomed at `rev` on `text`, recording everything it outputs.
function setup({ rev = 5, text = 'abc\n', online = true } = {}) {
  const out = { sent: [], applied: [], loads: [], desyncs: [], seqs: [] };
  const c = new OTClient({
    client: 'me',
    send: (m) => { out.sent.push(structuredClone(m)); return true; },
    apply: (d, info) => out.applied.push({ ops: d.ops, info }),
    load: (doc, info) => out.loads.push({ ops: doc.ops, info }),
    desync: (kind, why) => out.desyncs.push({ kind, why }),
    seqAssigned: (next) => out.seqs.push(next),
  });
  c.welcome({ t: 'welcome', head: rev, snapshot: { rev, ops: [{ insert: text }] }, reset: false });
  out.loads.length = 0;
  if (!online) c.disconnected();
  return { c, out };
}

const ins = (at, s, attrs) => new Delta().retain(at).insert(s, attrs);

test('starts synchronized after the welcome snapshot', () => {
  const { c } = setup();
  assert.equal(c.state, STATES.SYNCHRONIZED);
  assert.equal(c.rev, 5);
  assert.equal(c.online, true);
  assert.equal(c.hasPending, false);
  assert.deepEqual(c.base.ops, [{ insert: 'abc\n' }]);
});

test('a welcome snapshot for a new client calls load with the document', () => {
  const loads = [];
  const c = new OTClient({ load: (doc, info) => loads.push({ ops: doc.ops, info }) });
  assert.equal(c.hello().rev, null, 'no revision yet: ask for the document');
  c.welcome({ head: 0, snapshot: { rev: 0, ops: [{ insert: '\n' }] }, reset: false });
  assert.deepEqual(loads, [{ ops: [{ insert: '\n' }], info: { rev: 0, reset: false, dropped: null } }]);
  assert.ok(c.isSynchronized);
});

test('client ids are random and at least 128 bits', () => {
  const a = new OTClient().client;
  const b = new OTClient().client;
  assert.notEqual(a, b);
  assert.ok(a.length >= 22, a); // 16 bytes base64url
  assert.match(a, /^[A-Za-z0-9_-]+$/);
});

test('local edit in Synchronized sends one op with rev and seq 1', () => {
  const { c, out } = setup();
  c.localChange(ins(1, 'X'));
  assert.deepEqual(out.sent, [{ t: 'op', rev: 5, seq: 1, op: [{ retain: 1 }, { insert: 'X' }] }]);
  assert.equal(c.state, STATES.AWAITING_CONFIRM);
  assert.deepEqual(out.seqs, [2], 'next seq persisted before the op left');
});

test('edits while awaiting go to the buffer, composed; the in-flight op never changes', () => {
  const { c, out } = setup();
  c.localChange(ins(1, 'X'));
  c.localChange(ins(2, 'Y'));
  assert.equal(c.state, STATES.AWAITING_WITH_BUFFER);
  c.localChange(ins(3, 'Z'));
  assert.equal(out.sent.length, 1, 'nothing else sent while one op is in flight');
  assert.deepEqual(c.outstanding.op.ops, [{ retain: 1 }, { insert: 'X' }]);
  assert.deepEqual(c.buffer.ops, [{ retain: 2 }, { insert: 'YZ' }]);
});

test('ack sends the buffer as the next seq at rev+1, then a second ack synchronizes', () => {
  const { c, out } = setup();
  c.localChange(ins(1, 'X'));
  c.localChange(ins(2, 'Y'));
  c.ack({ t: 'ack', seq: 1, rev: 5 });
  assert.equal(c.rev, 6);
  assert.deepEqual(out.sent[1], { t: 'op', rev: 6, seq: 2, op: [{ retain: 2 }, { insert: 'Y' }] });
  assert.equal(c.state, STATES.AWAITING_CONFIRM);
  c.ack({ t: 'ack', seq: 2, rev: 6 });
  assert.equal(c.state, STATES.SYNCHRONIZED);
  assert.equal(c.rev, 7);
  assert.deepEqual(c.base.ops, [{ insert: 'aXYbc\n' }]);
});

test('remote op in AwaitingWithBuffer: golden vector of the four transforms', () => {
  // base "abc\n"; o = insert X at 1 -> "aXbc\n"; b = insert Y at 3 -> "aXbYc\n";
  // s (other client, same base) = insert S at 1 -> server "aSbc\n".
  //   o' = s.transform(o, true)  = retain 2, X      (server text wins the tie: left)
  //   s1 = o.transform(s, false) = retain 1, S
  //   b' = s1.transform(b, true) = retain 4, Y
  //   s2 = b.transform(s1, false)= retain 1, S      (applied locally)
  const { c, out } = setup();
  c.localChange(ins(1, 'X'));
  c.localChange(ins(3, 'Y'));
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 1 }, { insert: 'S' }], client: 'other', seq: 9 });
  assert.deepEqual(c.outstanding.op.ops, [{ retain: 2 }, { insert: 'X' }]);
  assert.deepEqual(c.buffer.ops, [{ retain: 4 }, { insert: 'Y' }]);
  assert.deepEqual(out.applied.map((a) => a.ops), [[{ retain: 1 }, { insert: 'S' }]]);
  assert.equal(c.rev, 6);
  assert.equal(c.outstanding.seq, 1, 'transformation keeps the seq');
  // Local view == server's doc after o' and b'.
  assert.deepEqual(c.localDocument().ops, [{ insert: 'aSXbYc\n' }]);
});

test('remote op in AwaitingConfirm: delete overlapping my insert point', () => {
  // base "abcdef\n"; o = insert X at 3; s = delete 2..5 ("cde").
  //   o' = s.transform(o, true): retain 2, insert X (insert inside a deleted range survives)
  //   s1 = o.transform(s, false): retain 2, delete 1, retain 1, delete 2
  const { c, out } = setup({ text: 'abcdef\n' });
  c.localChange(ins(3, 'X'));
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 2 }, { delete: 3 }], client: 'o', seq: 1 });
  assert.deepEqual(c.outstanding.op.ops, [{ retain: 2 }, { insert: 'X' }]);
  assert.deepEqual(out.applied[0].ops, [{ retain: 2 }, { delete: 1 }, { retain: 1 }, { delete: 2 }]);
  assert.deepEqual(c.localDocument().ops, [{ insert: 'abXf\n' }]);
});

test('format conflict: the committed op wins per key, other keys merge', () => {
  // Both format "abc": server {bold:true}, me {bold:null, italic:true}.
  const { c, out } = setup();
  c.localChange(new Delta().retain(3, { bold: null, italic: true }));
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 3, attributes: { bold: true } }], client: 'o', seq: 1 });
  assert.deepEqual(c.outstanding.op.ops, [{ retain: 3, attributes: { italic: true } }]);
  assert.deepEqual(out.applied[0].ops, [{ retain: 3, attributes: { bold: true } }]);
});

test('remote op in Synchronized is applied as is and moves rev and base', () => {
  const { c, out } = setup();
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 3 }, { insert: '!' }], client: 'o', seq: 1 });
  assert.deepEqual(out.applied[0].ops, [{ retain: 3 }, { insert: '!' }]);
  assert.equal(c.rev, 6);
  assert.deepEqual(c.base.ops, [{ insert: 'abc!\n' }]);
});

test('stale server op (rev below synced) is ignored; a gap asks for a resume', () => {
  const { c, out } = setup();
  c.serverOp({ t: 'op', rev: 4, op: [{ insert: 'old' }], client: 'o', seq: 1 });
  assert.equal(out.applied.length, 0);
  assert.equal(c.rev, 5);
  c.serverOp({ t: 'op', rev: 7, op: [{ insert: 'new' }], client: 'o', seq: 2 });
  assert.equal(out.applied.length, 0);
  assert.equal(out.desyncs[0].kind, 'resume');
});

test('acks for another seq (dup of an older op) are ignored; ack ahead of rev resumes', () => {
  const { c, out } = setup();
  c.localChange(ins(0, 'X'));
  c.ack({ t: 'ack', seq: 7, rev: 5, dup: true });
  assert.equal(c.state, STATES.AWAITING_CONFIRM);
  c.ack({ t: 'ack', seq: 1, rev: 6 });
  assert.equal(out.desyncs[0].kind, 'resume');
  assert.equal(c.state, STATES.AWAITING_CONFIRM, 'op kept for the catch-up');
});

test('a dup ack at our rev counts as the ack', () => {
  const { c } = setup();
  c.localChange(ins(0, 'X'));
  c.ack({ t: 'ack', seq: 1, rev: 5, dup: true });
  assert.equal(c.state, STATES.SYNCHRONIZED);
  assert.equal(c.rev, 6);
});

test('canonical form: a trailing plain retain is chopped, empty changes are not sent', () => {
  const { c, out } = setup();
  c.localChange(new Delta().retain(2));
  assert.equal(out.sent.length, 0);
  c.localChange(new Delta().retain(1).insert('X').retain(3));
  assert.deepEqual(out.sent[0].op, [{ retain: 1 }, { insert: 'X' }]);
});

test('offline edits from Synchronized stay unsent, without a seq, in one buffer', () => {
  const { c, out } = setup({ online: false });
  c.localChange(ins(0, 'A'));
  c.localChange(ins(1, 'B'));
  assert.equal(out.sent.length, 0);
  assert.equal(c.outstanding, null);
  assert.deepEqual(c.buffer.ops, [{ insert: 'AB' }]);
  assert.ok(c.hasPending);
  assert.equal(c.nextSeq, 1, 'no seq consumed while offline');
  // Reconnect: resume at 5, nothing missed -> one op with seq 1.
  assert.deepEqual(c.hello({ name: 'Me', color: '#123' }), {
    t: 'hello', proto: 1, client: 'me', rev: 5, user: { name: 'Me', color: '#123' },
  });
  c.welcome({ t: 'welcome', head: 5, snapshot: null, reset: false });
  assert.deepEqual(out.sent, [{ t: 'op', rev: 5, seq: 1, op: [{ insert: 'AB' }] }]);
  assert.equal(c.state, STATES.AWAITING_CONFIRM);
});

test('resume: own op in the catch-up is the ack; it is never resent', () => {
  const { c, out } = setup();
  c.localChange(ins(0, 'X')); // seq 1 in flight
  c.localChange(ins(1, 'Y')); // buffer
  c.disconnected();
  c.localChange(ins(2, 'Z')); // offline edit joins the buffer
  assert.equal(out.sent.length, 1);
  c.welcome({ t: 'welcome', head: 7, snapshot: null, reset: false });
  assert.equal(c.online, false, 'catching up: nothing sent before head');
  // A foreign op committed first, then ours (transformed by the server).
  c.serverOp({ t: 'op', rev: 5, op: [{ insert: 'S' }], client: 'o', seq: 3 });
  assert.equal(out.sent.length, 1);
  c.serverOp({ t: 'op', rev: 6, op: [{ retain: 1 }, { insert: 'X' }], client: 'me', seq: 1 });
  assert.equal(c.rev, 7);
  assert.equal(c.online, true);
  assert.deepEqual(out.sent.slice(1), [{ t: 'op', rev: 7, seq: 2, op: [{ retain: 2 }, { insert: 'YZ' }] }]);
  assert.deepEqual(c.localDocument().ops, [{ insert: 'SXYZabc\n' }]);
  assert.deepEqual(out.applied.map((a) => a.ops), [[{ insert: 'S' }]], 'own op not applied twice');
});

test('resume: an outstanding op missing from the catch-up is resent with the same seq, rebased', () => {
  const { c, out } = setup();
  c.localChange(ins(3, 'X'));
  c.disconnected();
  c.welcome({ t: 'welcome', head: 6, snapshot: null, reset: false });
  c.serverOp({ t: 'op', rev: 5, op: [{ insert: 'S' }], client: 'o', seq: 1 });
  assert.deepEqual(out.sent, [
    { t: 'op', rev: 5, seq: 1, op: [{ retain: 3 }, { insert: 'X' }] },
    { t: 'op', rev: 6, seq: 1, op: [{ retain: 4 }, { insert: 'X' }] },
  ]);
});

test('resume with nothing missed resends immediately', () => {
  const { c, out } = setup();
  c.localChange(ins(3, 'X'));
  c.disconnected();
  c.welcome({ t: 'welcome', head: 5, snapshot: null, reset: false });
  assert.equal(out.sent.length, 2);
  assert.deepEqual(out.sent[1], out.sent[0]);
});

test('rekey: a fresh id, the refused op and the buffer leave as one op with seq 1', () => {
  const { c, out } = setup();
  c.localChange(ins(0, 'X')); // seq 1, refused as stale_seq
  c.localChange(ins(1, 'Y')); // buffer
  c.disconnected();
  const old = c.rekey();
  assert.equal(old, 'me');
  assert.notEqual(c.client, 'me');
  assert.equal(c.hello().client, c.client);
  assert.equal(c.outstanding, null, 'the refused seq is given up');
  assert.deepEqual(c.localDocument().ops, [{ insert: 'XYabc\n' }], 'no edit lost');
  c.welcome({ t: 'welcome', head: 6, snapshot: null, reset: false });
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 3 }, { insert: 'S' }], client: 'o', seq: 1 });
  assert.deepEqual(out.sent.at(-1), { t: 'op', rev: 6, seq: 1, op: [{ insert: 'XY' }] });
  assert.deepEqual(out.seqs.at(-1), 2);
});

test('welcome with reset drops pending ops and hands them to load for the user', () => {
  const { c, out } = setup();
  c.localChange(ins(3, 'X'));
  c.localChange(ins(0, 'Y'));
  c.disconnected();
  c.welcome({ t: 'welcome', head: 90, snapshot: { rev: 90, ops: [{ insert: 'new\n' }] }, reset: true });
  assert.equal(out.loads.length, 1);
  const { info } = out.loads[0];
  assert.equal(info.reset, true);
  assert.equal(info.dropped.outstanding.seq, 1);
  assert.deepEqual(info.dropped.base.ops, [{ insert: 'abc\n' }]);
  assert.deepEqual(info.dropped.buffer.ops, [{ insert: 'Y' }]);
  assert.equal(c.rev, 90);
  assert.ok(c.isSynchronized);
  assert.equal(c.nextSeq, 2, 'seqs keep growing after a reset');
});

test('hardReset returns the pending edits and forgets the revision', () => {
  const { c } = setup();
  c.localChange(ins(0, 'X'));
  const dropped = c.hardReset();
  assert.equal(dropped.outstanding.seq, 1);
  assert.equal(c.rev, null);
  assert.equal(c.hello().rev, null);
  assert.equal(c.hasPending, false);
  assert.equal(new OTClient().hardReset(), null, 'nothing pending: nothing to show');
});

test('local revision ahead of the server head takes a snapshot', () => {
  const { c, out } = setup();
  c.disconnected();
  c.welcome({ t: 'welcome', head: 3, snapshot: null, reset: false });
  assert.equal(out.desyncs[0].kind, 'snapshot');
});

test('own op with a seq we no longer hold is applied and its seq never reused', () => {
  // A tab restored from an older local copy: op seq 4 was sent after it.
  const out = [];
  const c = OTClient.fromJSON(
    { client: 'me', nextSeq: 4, rev: 5, base: [{ insert: 'abc\n' }], outstanding: null, buffer: [{ insert: 'Q' }] },
    { send: (m) => out.push(m), apply: () => {} },
  );
  c.welcome({ head: 6, snapshot: null, reset: false });
  c.serverOp({ t: 'op', rev: 5, op: [{ insert: 'Q' }], client: 'me', seq: 4 });
  assert.equal(c.rev, 6);
  assert.equal(out[0].seq, 5);
});

test('toJSON / fromJSON round trip keeps the seq, rev, base and pending ops', () => {
  const { c } = setup();
  c.localChange(ins(1, '😀'));
  c.localChange(ins(0, 'é'));
  const state = JSON.parse(JSON.stringify(c.toJSON()));
  const r = OTClient.fromJSON(state);
  assert.equal(r.client, 'me');
  assert.equal(r.rev, 5);
  assert.equal(r.nextSeq, 2);
  assert.equal(r.state, STATES.AWAITING_WITH_BUFFER);
  assert.equal(r.online, false);
  assert.deepEqual(r.localDocument().ops, [{ insert: 'éa😀bc\n' }]);
});

test('presence is only offered with nothing in flight, stamped with the synced rev', () => {
  const { c } = setup();
  assert.deepEqual(c.presenceMessage({ index: 1, length: 2 }), { t: 'presence', rev: 5, sel: { index: 1, length: 2 } });
  assert.deepEqual(c.presenceMessage(null), { t: 'presence', rev: 5, sel: null });
  c.localChange(ins(0, 'X'));
  assert.equal(c.presenceMessage({ index: 0, length: 0 }), null);
  c.ack({ seq: 1, rev: 5 });
  assert.equal(c.presenceMessage({ index: 0, length: 0 }).rev, 6);
  c.disconnected();
  assert.equal(c.presenceMessage({ index: 0, length: 0 }), null, 'not while offline');
});

test('remote selections are moved through my outstanding op and buffer for display', () => {
  const { c } = setup({ text: 'abcdef\n' });
  c.presence({ t: 'presence', client: 'ann', user: { name: 'Ann' }, rev: 5, sel: { index: 2, length: 2 } });
  c.localChange(ins(0, 'XY')); // before the selection: shifts it
  c.localChange(ins(4, 'Q')); // exactly at its start (2+2): my insert does not move it
  const [r] = c.remoteSelections();
  assert.equal(r.client, 'ann');
  assert.deepEqual(r.sel, { index: 4, length: 3 }, 'start stays before my Q; Q is inside, so it grows');
  // Stored value stays relative to doc@rev.
  assert.deepEqual(c.remotes.get('ann').sel, { index: 2, length: 2 });
});

test('server ops move stored selections: own insert at the cursor moves it, others do not', () => {
  const { c } = setup();
  c.presence({ client: 'ann', user: {}, rev: 5, sel: { index: 1, length: 0 } });
  c.presence({ client: 'bob', user: {}, rev: 5, sel: { index: 1, length: 0 } });
  c.serverOp({ t: 'op', rev: 5, op: [{ retain: 1 }, { insert: 'AA' }], client: 'ann', seq: 1 });
  assert.deepEqual(c.remotes.get('ann').sel, { index: 3, length: 0 });
  assert.deepEqual(c.remotes.get('bob').sel, { index: 1, length: 0 });
  assert.equal(c.remotes.get('ann').rev, 6);
});

test('my acked op moves stored selections as a foreign op', () => {
  const { c } = setup();
  c.localChange(ins(1, 'X'));
  c.presence({ client: 'ann', user: {}, rev: 5, sel: { index: 1, length: 2 } });
  c.ack({ seq: 1, rev: 5 });
  assert.deepEqual(c.remotes.get('ann'), { client: 'ann', user: {}, rev: 6, sel: { index: 1, length: 3 } });
});

test('presence ahead of our rev (during catch-up) waits and is not moved by older ops', () => {
  const { c } = setup();
  c.disconnected();
  c.welcome({ head: 6, snapshot: null, reset: false });
  c.presence({ client: 'ann', user: {}, rev: 6, sel: { index: 0, length: 0 } });
  assert.equal(c.remoteSelections().length, 0, 'not displayable yet');
  c.serverOp({ t: 'op', rev: 5, op: [{ insert: 'ZZ' }], client: 'bob', seq: 1 });
  assert.deepEqual(c.remoteSelections(), [{ client: 'ann', user: {}, sel: { index: 0, length: 0 } }]);
  c.presence({ client: 'ann', rev: 6, sel: null });
  assert.equal(c.remoteSelections().length, 0, 'null removes the cursor');
  c.presence({ client: 'ann', user: {}, rev: 4, sel: { index: 0, length: 0 } });
  assert.equal(c.remotes.size, 0, 'older than our rev: dropped');
});

test('transformSelection follows the rich-text presence cases', () => {
  const insAt10 = ins(10, 'abc');
  assert.deepEqual(transformSelection({ index: 10, length: 0 }, insAt10, false), { index: 10, length: 0 });
  assert.deepEqual(transformSelection({ index: 10, length: 0 }, insAt10, true), { index: 13, length: 0 });
  assert.deepEqual(transformSelection({ index: 10, length: 2 }, insAt10, false), { index: 10, length: 5 });
  const del = new Delta().retain(2).delete(3);
  assert.deepEqual(transformSelection({ index: 3, length: 4 }, del, false), { index: 2, length: 2 });
});

test('resend after rate_limited: same seq, current rev, only when online', () => {
  const { c, out } = setup();
  c.localChange(ins(0, 'X'));
  c.serverOp({ t: 'op', rev: 5, op: [{ insert: 'S' }], client: 'o', seq: 1 });
  c.resend();
  assert.deepEqual(out.sent[1], { t: 'op', rev: 6, seq: 1, op: [{ retain: 1 }, { insert: 'X' }] });
  c.disconnected();
  c.resend();
  assert.equal(out.sent.length, 2);
});
