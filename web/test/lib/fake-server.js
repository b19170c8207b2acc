// An in-process server that follows PROTOCOL.md's server rules, for the
// client simulation: stepwise transform with the committed op having
// priority, dedup on (client, seq), per-connection FIFO, catch-up with the
// author's own ops on resume, snapshot + reset below the retained log,
// presence moved by every commit. It is deliberately small and obviously
// correct rather than fast.

import Delta from 'quill-delta';

export class FakeServer {
  constructor() {
    this.doc = new Delta().insert('\n');
    this.log = []; // log[r] = {op, client, seq}: the op based on rev r
    this.logStart = 0; // ops below this are "compacted away"
    this.snapshots = new Map([[0, this.doc]]);
    this.last = new Map(); // client -> {seq, rev}
    this.conns = new Set();
    this.presences = new Map(); // client -> {user, rev, sel}
    this.stats = { commits: 0, dups: 0, stale: 0 };
  }

  get head() {
    return this.log.length;
  }

  // `deliver(msg)` is how the server writes to this connection (the test
  // queues it for later delivery, FIFO).
  connect(deliver, { role = 'editor', userId = null } = {}) {
    const conn = { deliver, client: null, open: true, role, userId };
    this.conns.add(conn);
    return conn;
  }

  close(conn) {
    if (!this.conns.delete(conn)) return;
    conn.open = false;
    if (conn.client && ![...this.conns].some((c) => c.client === conn.client)) {
      this.presences.delete(conn.client);
      this._broadcast(conn, { t: 'presence', client: conn.client, user: conn.user, rev: this.head, sel: null });
    }
  }

  // Forget the log below the current head (as compaction would), so a
  // client resuming from an older rev gets a snapshot with reset.
  compact() {
    this.logStart = this.head;
  }

  receive(conn, msg) {
    switch (msg.t) {
      case 'hello': return this._hello(conn, msg);
      case 'op': return this._op(conn, msg);
      case 'presence': return this._presence(conn, msg);
      case 'ping': return conn.deliver({ t: 'pong', id: msg.id });
      default: return conn.deliver({ t: 'error', code: 'bad_message', msg: 'unknown t', fatal: true });
    }
  }

  _hello(conn, msg) {
    conn.client = msg.client;
    conn.user = msg.user ? { id: conn.userId ?? msg.client, ...msg.user } : null;
    conn.joined = true; // broadcasts reach a connection only after its hello
    const head = this.head;
    const base = { t: 'welcome', proto: 1, head, role: conn.role, limits: {}, you: { client: msg.client, user: conn.user } };
    if (msg.rev === null || msg.rev < this.logStart || msg.rev > head) {
      conn.deliver({ ...base, snapshot: { rev: head, ops: this.doc.ops }, reset: msg.rev !== null });
    } else {
      conn.deliver({ ...base, snapshot: null, reset: false });
      for (let r = msg.rev; r < head; r++) conn.deliver(this._opMsg(r));
    }
    for (const [client, p] of this.presences) {
      if (client !== conn.client) conn.deliver({ t: 'presence', client, user: p.user, rev: head, sel: p.sel });
    }
  }

  _opMsg(r) {
    const e = this.log[r];
    return { t: 'op', rev: r, op: e.op.ops, client: e.client, seq: e.seq, user: e.user };
  }

  _op(conn, msg) {
    const err = (code, fatal = false) => conn.deliver({ t: 'error', code, msg: code, seq: msg.seq, fatal });
    if (conn.role !== 'editor' && conn.role !== 'owner') return err('forbidden');
    if (msg.rev > this.head) return err('rev_in_future');
    if (msg.rev < this.logStart) return err('rev_too_old');
    const last = this.last.get(conn.client);
    if (last && msg.seq === last.seq) {
      this.stats.dups++;
      return conn.deliver({ t: 'ack', seq: msg.seq, rev: last.rev, dup: true });
    }
    if (last && msg.seq < last.seq) {
      this.stats.stale++;
      return err('stale_seq');
    }
    let x = new Delta(msg.op);
    if (x.ops.length === 0) return err('bad_op');
    // Stepwise, committed op first with priority: never a composed range.
    for (let r = msg.rev; r < this.head; r++) x = this.log[r].op.transform(x, true);
    x.chop();
    const next = this.doc.compose(x);
    if (this._baseLength(x) > this.doc.length() || !endsWithNewline(next)) return err('bad_op');
    const rev = this.head;
    this.log.push({ op: x, client: conn.client, seq: msg.seq, user: conn.user });
    this.doc = next;
    this.last.set(conn.client, { seq: msg.seq, rev });
    this.stats.commits++;
    conn.deliver({ t: 'ack', seq: msg.seq, rev });
    // Everyone but the submitting connection; another connection of the same
    // client (a reconnect racing this op) gets it and takes it as its ack.
    this._broadcast(conn, this._opMsg(rev));
    for (const [client, p] of this.presences) {
      p.sel = moveSel(p.sel, x, client === conn.client);
    }
  }

  _presence(conn, msg) {
    if (msg.rev < this.logStart || msg.rev > this.head) return;
    let sel = msg.sel;
    for (let r = msg.rev; r < this.head && sel; r++) {
      sel = moveSel(sel, this.log[r].op, this.log[r].client === conn.client);
    }
    if (sel) {
      const len = this.doc.length();
      const index = Math.min(sel.index, len - 1);
      sel = { index, length: Math.min(sel.length, len - index) };
    }
    this.presences.set(conn.client, { user: conn.user, sel });
    this._broadcast(conn, { t: 'presence', client: conn.client, user: conn.user, rev: this.head, sel });
  }

  _broadcast(from, msg) {
    for (const c of this.conns) if (c !== from && c.joined) c.deliver(msg);
  }

  _baseLength(op) {
    let n = 0;
    for (const c of op.ops) n += c.retain ?? c.delete ?? 0;
    return n;
  }
}

function endsWithNewline(doc) {
  const lastOp = doc.ops[doc.ops.length - 1];
  return !!lastOp && typeof lastOp.insert === 'string' && lastOp.insert.endsWith('\n');
}

function moveSel(sel, op, own) {
  if (!sel) return sel;
  const start = op.transformPosition(sel.index, !own);
  const end = op.transformPosition(sel.index + sel.length, !own);
  return { index: start, length: Math.max(0, end - start) };
}
