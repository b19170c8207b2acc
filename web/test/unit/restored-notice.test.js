import test from 'node:test';
import assert from 'node:assert/strict';
import { announceRestore, RESTORED_MESSAGE } from '../../src/ui/restored-notice.js';

function fakeWindow(href) {
  const replaced = [];
  return {
    replaced,
    location: { href },
    history: { state: { kept: true }, replaceState: (state, _title, url) => replaced.push({ state, url }) },
  };
}

test('a restore is announced once and the query leaves the address, the rest of it kept', () => {
  const win = fakeWindow('https://docs.example/d/abc?restored=1&x=2#top');
  const said = [];
  assert.equal(announceRestore((text) => said.push(text), win), true);
  assert.deepEqual(said, [RESTORED_MESSAGE]);
  assert.deepEqual(win.replaced, [{ state: { kept: true }, url: '/d/abc?x=2#top' }]);
});

test('an ordinary visit says nothing and leaves the address alone', () => {
  const win = fakeWindow('https://docs.example/d/abc');
  const said = [];
  assert.equal(announceRestore((text) => said.push(text), win), false);
  assert.deepEqual(said, []);
  assert.deepEqual(win.replaced, []);
});
