// People on the page (issue 19): the colour palette never gives the grey of
// "unknown" and keeps up to 12 people apart; the access notices; the timing
// of the names above remote carets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALETTE, UNKNOWN_COLOR, assignColors, colorFor } from '../../src/colors.js';
import { accessNotice } from '../../src/access.js';
import { createNameFlags } from '../../src/editor/name-flags.js';

const rgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
const luminance = (h) => { const [r, g, b] = rgb(h).map(lin); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
function lab(h) {
  const [r, g, b] = rgb(h).map(lin);
  const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}
const distance = (a, b) => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]));

test('the palette: 12 colours, none grey, far apart, white initials readable', () => {
  assert.ok(PALETTE.length >= 12);
  assert.ok(!PALETTE.includes(UNKNOWN_COLOR));
  for (const c of PALETTE) {
    const [, a, b] = lab(c);
    assert.ok(Math.hypot(a, b) >= 30, `${c} is too close to grey`);
    assert.ok(distance(c, UNKNOWN_COLOR) >= 25, `${c} looks like the unknown grey`);
    assert.ok(1.05 / (luminance(c) + 0.05) >= 4.5, `${c}: white text below 4.5:1`);
  }
  for (let i = 0; i < PALETTE.length; i++) {
    for (let j = i + 1; j < PALETTE.length; j++) {
      assert.ok(distance(PALETTE[i], PALETTE[j]) >= 15, `${PALETTE[i]} and ${PALETTE[j]} look alike`);
    }
  }
});

test('twelve people get twelve colours, the same on every page that sees them', () => {
  for (let run = 0; run < 50; run++) {
    const ids = Array.from({ length: 12 }, (_, i) => `user-${run}-${i}`);
    const colors = assignColors(ids);
    assert.equal(new Set(colors.values()).size, 12, `run ${run}`);
    const again = assignColors([...ids].reverse());
    for (const id of ids) assert.equal(again.get(id), colors.get(id));
  }
  // Alone, a person has the colour they ask for in hello.
  assert.equal(assignColors(['u1']).get('u1'), colorFor('u1'));
  // Past the palette, colours repeat rather than fail.
  assert.equal(assignColors(Array.from({ length: 30 }, (_, i) => `p${i}`)).size, 30);
});

test('access notices say what happened in plain words', () => {
  assert.equal(accessNotice('readonly', 'viewer').title, 'You can now only view this document.');
  assert.match(accessNotice('readonly', 'viewer').detail, /a viewer/);
  assert.equal(accessNotice('removed').title, 'You no longer have access to this document.');
  assert.equal(accessNotice('gone').kind, 'gone');
  for (const k of ['readonly', 'removed', 'gone']) assert.match(accessNotice(k, 'viewer').unsent, /Copy/);
});

test('a name shows on activity and hides a while after the last one', () => {
  const log = [];
  let now = 0;
  const timers = new Map();
  let nextId = 1;
  const flags = createNameFlags({
    show: (id) => log.push(`show ${id}`),
    hide: (id) => log.push(`hide ${id}`),
    ms: 100,
    setTimeout: (fn, ms) => { const t = nextId++; timers.set(t, { fn, at: now + ms }); return t; },
    clearTimeout: (t) => timers.delete(t),
  });
  const advance = (ms) => {
    now += ms;
    for (const [t, { fn, at }] of [...timers]) if (at <= now) { timers.delete(t); fn(); }
  };
  flags.active('a');
  advance(60);
  flags.active('a'); // typing again keeps it up
  advance(60);
  assert.deepEqual(log, ['show a', 'show a']);
  advance(50);
  assert.deepEqual(log, ['show a', 'show a', 'hide a']);
  flags.active('b');
  flags.forget('b'); // the cursor went away: no late hide
  advance(200);
  assert.deepEqual(log.at(-1), 'show b');
  assert.deepEqual(flags.showing, []);
});
