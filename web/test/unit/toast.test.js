// ui/toast.js in jsdom: one polite live region, at most three toasts, each
// gone after its time (errors stay longer), the newest last.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';

test('toasts: a polite status region, three at most, each removed after its time', async (t) => {
  const { window } = new JSDOM('<!doctype html><body></body>');
  globalThis.document = window.document;
  t.after(() => delete globalThis.document);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { createToaster } = await import('../../src/ui/toast.js');
  const toasts = createToaster(window.document.body, { showMs: 100, errorMs: 300 });
  assert.equal(toasts.region.getAttribute('role'), 'status');
  assert.equal(toasts.region.getAttribute('aria-live'), 'polite');
  const texts = () => [...toasts.region.children].map((el) => el.textContent);

  toasts.show('Title saved');
  toasts.show('Could not download: offline', 'error');
  assert.deepEqual(texts(), ['Title saved', 'Could not download: offline']);
  t.mock.timers.tick(100);
  assert.deepEqual(texts(), ['Could not download: offline']);
  for (const n of [1, 2, 3]) toasts.show(`Downloaded ${n}`);
  assert.deepEqual(texts(), ['Downloaded 1', 'Downloaded 2', 'Downloaded 3']); // the oldest made room
  t.mock.timers.tick(100);
  assert.deepEqual(texts(), []);
});
