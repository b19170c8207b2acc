// Which pasted image URLs are Quire images, and of which document (editor/images.js):
// this document's stay as they are, another document's are uploaded again, the rest are not fetched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownImage, SIZES } from '../../src/editor/images.js';

const HASH = 'a'.repeat(64);

test('an image URL of this server is recognised, with its document, relative or absolute', () => {
  assert.deepEqual(ownImage('doc1', `/api/docs/doc1/images/${HASH}`),
    { docId: 'doc1', hash: HASH, path: `/api/docs/doc1/images/${HASH}`, here: true });
  assert.equal(ownImage('doc1', `http://127.0.0.1:8080/api/docs/other_-2/images/${HASH}`).here, false);
  assert.equal(ownImage('doc1', `http://127.0.0.1:8080/api/docs/other_-2/images/${HASH}`).path,
    `/api/docs/other_-2/images/${HASH}`);
});

test('anything else is not a Quire image', () => {
  for (const src of ['', 'https://example.com/cat.png', `/api/docs/doc1/images/${HASH.toUpperCase()}`,
    `/api/docs/doc1/images/${HASH}x`, `/api/docs/../images/${HASH}`, 'data:image/png;base64,AAAA',
    `javascript:/api/docs/doc1/images/${HASH}`]) {
    assert.equal(ownImage('doc1', src), null, src);
  }
});

test('the size menu offers widths the server accepts (digits only), and the original size', () => {
  for (const { width } of SIZES) assert.ok(width === null || /^[0-9]{1,4}$/.test(width), String(width));
  assert.ok(SIZES.some((s) => s.width === null));
});
