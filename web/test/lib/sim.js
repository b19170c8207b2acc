// Randomized multi-client simulation: N OTClients against the FakeServer
// over per-connection FIFO queues, with random delivery order, dropped
// connections (lost acks, lost ops, late delivery of ops sent just before a
// drop), crash-and-restore from the persisted state, duplicate resends,
// compaction (resume -> reset) and presence. Deterministic for a seed.

import Delta from 'quill-delta';
import { OTClient } from '../../src/ot-client.js';
import { FakeServer } from './fake-server.js';
import { mulberry32, int, randomEdit } from './random.js';
import { sameOps } from './same.js';

export function runSimulation({
  seed,
  clients = 3,
  steps = 200,
  makeClient = (opts) => new OTClient(opts),
  restoreClient = (state, cb) => OTClient.fromJSON(state, cb),
  compaction = true,
} = {}) {
  const rng = mulberry32(seed);
  const server = new FakeServer();
  const orphans = []; // {serverConn, msgs}: sent before a drop, delivered late
  const sims = [];
  const stats = { desyncs: 0, resets: 0, crashes: 0, drops: 0, dropped: 0 };

  function wire(sim, state) {
    const cb = {
      send: (msg) => {
        if (!sim.open) return false;
        if (msg.t === 'op') sim.sentSeqs.add(msg.seq);
        sim.c2s.push(msg);
        return true;
      },
      apply: (delta) => { sim.doc = sim.doc.compose(delta); },
      load: (doc, info) => {
        sim.doc = doc;
        if (info.dropped) {
          stats.dropped++;
          forget(sim, info.dropped);
        }
      },
      skipped: (seq) => sim.droppedSeqs.add(seq),
      desync: (kind) => {
        stats.desyncs++;
        if (kind === 'snapshot') {
          const d = sim.ot.hardReset();
          if (d) forget(sim, d);
        }
        drop(sim, false);
        connect(sim);
      },
    };
    sim.ot = state ? restoreClient(state, cb) : makeClient({ client: `c${sims.length}`, ...cb });
  }

  // Seqs dropped with a reset legitimately never reach the log.
  function forget(sim, dropped) {
    if (dropped.outstanding) sim.droppedSeqs.add(dropped.outstanding.seq);
  }

  function connect(sim) {
    sim.open = true;
    sim.c2s = [];
    sim.s2c = [];
    const queue = sim.s2c;
    sim.serverConn = server.connect((m) => queue.push(structuredClone(m)));
    sim.c2s.push(sim.ot.hello({ name: sim.ot.client, color: '#000' }));
  }

  function drop(sim, late) {
    if (!sim.open) return;
    stats.drops++;
    sim.open = false;
    const { serverConn, c2s } = sim;
    // Ops already written to the socket: delivered now, later (racing the
    // next hello) or never.
    const keep = int(rng, c2s.length + 1);
    const msgs = c2s.slice(0, keep);
    if (late && msgs.length) orphans.push({ serverConn, msgs });
    else {
      for (const m of msgs) server.receive(serverConn, m);
      server.close(serverConn);
    }
    sim.c2s = [];
    sim.s2c = [];
    sim.ot.disconnected();
  }

  function dispatch(sim, msg) {
    switch (msg.t) {
      case 'welcome': return sim.ot.welcome(msg);
      case 'op': return sim.ot.serverOp(msg);
      case 'ack': return sim.ot.ack(msg);
      case 'presence': return sim.ot.presence(msg);
      case "error":
        if (process.env.SIM_DEBUG) console.log("error", JSON.stringify(msg));
        if (msg.code === 'rev_too_old' || msg.code === 'rev_in_future') {
          drop(sim, false);
          connect(sim);
        }
        return undefined;
      default: return undefined;
    }
  }

  for (let i = 0; i < clients; i++) {
    const sim = { doc: new Delta().insert('\n'), open: false, c2s: [], s2c: [], sentSeqs: new Set(), droppedSeqs: new Set() };
    sims.push(sim);
    wire(sim, null);
    connect(sim);
  }

  const ready = (sim) => sim.ot.rev !== null;

  try {
    randomSteps();
  } catch (e) {
    // A broken invariant is a failed run, reported with the rest.
    return { server, sims, stats, converged: false, problems: [e.message] };
  }

  function randomSteps() {
  for (let step = 0; step < steps; step++) {
    const sim = sims[int(rng, sims.length)];
    const r = rng();
    if (r < 0.30) {
      if (!ready(sim)) continue;
      const d = randomEdit(rng, sim.doc);
      sim.doc = sim.doc.compose(d);
      sim.ot.localChange(d);
    } else if (r < 0.50) {
      if (sim.open && sim.c2s.length) server.receive(sim.serverConn, sim.c2s.shift());
    } else if (r < 0.72) {
      if (sim.open && sim.s2c.length) dispatch(sim, sim.s2c.shift());
    } else if (r < 0.76) {
      drop(sim, rng() < 0.5);
    } else if (r < 0.82) {
      if (!sim.open) connect(sim);
    } else if (r < 0.84) {
      if (orphans.length) {
        const o = orphans.splice(int(rng, orphans.length), 1)[0];
        for (const m of o.msgs) server.receive(o.serverConn, m);
        server.close(o.serverConn);
      }
    } else if (r < 0.86) {
      // Crash: only what persistence holds survives; the page reopens.
      if (!ready(sim)) continue;
      stats.crashes++;
      drop(sim, rng() < 0.5);
      const state = JSON.parse(JSON.stringify(sim.ot.toJSON()));
      wire(sim, state);
      sim.doc = sim.ot.localDocument();
      if (rng() < 0.7) connect(sim);
    } else if (r < 0.88) {
      sim.ot.resend(); // as after rate_limited / internal
    } else if (r < 0.97) {
      if (!ready(sim)) continue;
      const len = sim.doc.length();
      const index = int(rng, len);
      const msg = sim.ot.presenceMessage({ index, length: int(rng, len - index) });
      if (msg && sim.open) sim.c2s.push(msg);
    } else if (compaction && r < 0.975) {
      server.compact();
      stats.resets++;
    }
    checkRemoteSelections(sims);
    checkLocalViews(sims, step);
  }
  }

  // Quiescence: everyone online, every queue drained, nothing pending.
  for (const o of orphans.splice(0)) {
    for (const m of o.msgs) server.receive(o.serverConn, m);
    server.close(o.serverConn);
  }
  for (let round = 0; round < 10000; round++) {
    let busy = false;
    for (const sim of sims) {
      if (!sim.open) connect(sim);
      while (sim.c2s.length) { server.receive(sim.serverConn, sim.c2s.shift()); busy = true; }
      while (sim.s2c.length) { dispatch(sim, sim.s2c.shift()); busy = true; }
    }
    if (!busy && sims.every((s) => s.ot.isSynchronized)) break;
  }

  return { server, sims, stats, ...verdict(server, sims) };
}

// The editor's document must always equal doc@rev with the pending ops on
// top: the invariant the whole state machine rests on.
function checkLocalViews(sims, step) {
  sims.forEach((sim, i) => {
    const local = sim.ot.localDocument();
    if (local && !sameOps(local.ops, sim.doc.ops)) {
      throw new Error(`step ${step}: client ${i} view != base+pending: ${JSON.stringify(sim.doc.ops)} vs ${JSON.stringify(local.ops)}`);
    }
  });
}

function checkRemoteSelections(sims) {
  for (const sim of sims) {
    const len = sim.doc.length();
    for (const r of sim.ot.remoteSelections()) {
      if (r.sel.index < 0 || r.sel.index + r.sel.length > len) {
        throw new Error(`remote selection out of range: ${JSON.stringify(r.sel)} in ${len}`);
      }
    }
  }
}

function verdict(server, sims) {
  const problems = [];
  const serverDoc = server.doc.ops;
  sims.forEach((sim, i) => {
    if (!sim.ot.isSynchronized) problems.push(`client ${i} not synchronized (${sim.ot.state}, online=${sim.ot.online})`);
    if (!sameOps(sim.doc.ops, serverDoc)) problems.push(`client ${i} document differs from the server`);
    if (sim.ot.base && !sameOps(sim.ot.base.ops, serverDoc)) problems.push(`client ${i} base differs from the server`);
  });
  // Every logical op the client sent is in the log exactly once, unless a
  // reset dropped it; nothing is in the log twice.
  const seen = new Set();
  for (const e of server.log) {
    const key = `${e.client}/${e.seq}`;
    if (seen.has(key)) problems.push(`duplicate commit ${key}`);
    seen.add(key);
  }
  sims.forEach((sim) => {
    for (const seq of sim.sentSeqs) {
      const key = `${sim.ot.client}/${seq}`;
      if (!seen.has(key) && !sim.droppedSeqs.has(seq)) problems.push(`op ${key} sent but never committed`);
    }
  });
  return { converged: problems.length === 0, problems };
}
