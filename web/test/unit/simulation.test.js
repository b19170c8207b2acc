// Randomized convergence of the OT client against an in-process server that
// follows PROTOCOL.md (stepwise `committed.transform(x, true)`), plus
// negative controls proving the simulation does detect broken clients.
// SIM_RUNS / SIM_SEED scale or pin it; a failure prints the seed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OTClient } from '../../src/ot-client.js';
import { runSimulation } from '../lib/sim.js';

const RUNS = Number(process.env.SIM_RUNS ?? 300);
const SEED0 = Number(process.env.SIM_SEED ?? 20261126);

test(`${RUNS} random runs converge with no lost or duplicated op`, () => {
  const totals = { commits: 0, dups: 0, drops: 0, crashes: 0, dropped: 0 };
  for (let i = 0; i < RUNS; i++) {
    const seed = SEED0 + i;
    const res = runSimulation({ seed, clients: 2 + (i % 4), steps: 150 + (i % 7) * 40 });
    if (!res.converged || res.stats.desyncs) {
      assert.fail(`seed ${seed}: ${res.problems.join('; ')} (desyncs ${res.stats.desyncs})`);
    }
    totals.commits += res.server.stats.commits;
    totals.dups += res.server.stats.dups;
    totals.drops += res.stats.drops;
    totals.crashes += res.stats.crashes;
    totals.dropped += res.stats.dropped;
  }
  // The runs must actually exercise the hard paths, or passing means little.
  assert.ok(totals.commits > RUNS * 10, `commits ${totals.commits}`);
  assert.ok(totals.dups > 0, 'some resends were answered with dup acks');
  assert.ok(totals.drops > RUNS, 'connections were dropped');
  assert.ok(totals.crashes > 0, 'clients were restored from persisted state');
  assert.ok(totals.dropped > 0, 'some resumes hit a compacted log (reset)');
});

// Negative control 1: the client gives its own pending op priority (the
// mirror of the server's rule). research/ot.md: ~95% of runs diverge.
class FlippedPriorityClient extends OTClient {
  _transformIncoming(s) {
    let s1 = s;
    if (this.outstanding) {
      const o = this.outstanding.op;
      this.outstanding.op = s.transform(o, false);
      s1 = o.transform(s, true);
    }
    let s2 = s1;
    if (this.buffer) {
      const b = this.buffer;
      this.buffer = s1.transform(b, false);
      s2 = b.transform(s1, true);
    }
    return s2;
  }
}

// Negative control 2: composing new edits into the op in flight (sharedb#327).
class ComposeIntoOutstandingClient extends OTClient {
  localChange(delta) {
    if (this.outstanding && !this.buffer) {
      this.outstanding.op = this.outstanding.op.compose(delta);
      this.change();
      return;
    }
    super.localChange(delta);
  }
}

for (const [name, Cls] of [['flipped priority', FlippedPriorityClient], ['compose into in-flight op', ComposeIntoOutstandingClient]]) {
  test(`negative control: a client with ${name} is caught`, () => {
    let failed = 0;
    const runs = 40;
    for (let i = 0; i < runs; i++) {
      const res = runSimulation({
        seed: SEED0 + 1000 + i,
        clients: 3,
        steps: 200,
        makeClient: (opts) => new Cls(opts),
        restoreClient: (state, cb) => new Cls({ ...state, ...cb }),
      });
      if (!res.converged) failed++;
    }
    assert.ok(failed >= runs / 4, `only ${failed}/${runs} runs detected the broken client`);
  });
}
