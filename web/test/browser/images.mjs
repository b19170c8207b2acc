#!/usr/bin/env node
// Images end to end against the REAL binary (QUIRE_URL), issue 16, in
// Chromium: two editors and a viewer in one document. A inserts an image
// with the toolbar's "Insert image" (the file chooser), and pastes a
// second one as a file (a screenshot from the clipboard); B and the viewer
// see both pictures load (the bytes came back from the server, not from A's
// memory). A makes the first one "Small" and gives it alt text from the
// image menu; B sees the width and the alt. A text file that claims to be a
// PNG is refused with a message and inserts nothing; the viewer has no
// "Insert image" and no image menu. Screenshot of the document.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/images.mjs
// Screenshots: target/e2e/images-*.png (QUIRE_E2E_DIR). Prints "N passed, M
// failed"; exit 1 on failure.

import zlib from 'node:zlib';
import { until, contents, newTestContext, watchErrors, shot } from './lib.mjs';
import { realServer } from './targets.mjs';
import { realRun, assert, synced } from './real-run.mjs';

const run = await realRun('images');
const { step, browser, errors } = run;
const target = await realServer(run.base);

// A real PNG of one colour, w × h pixels.
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0); header.writeUInt32BE(h, 4); header[8] = 8; header[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function person(name, role) {
  const ctx = await newTestContext(browser, { viewport: { width: 1100, height: 800 } });
  await target.login(ctx, name, role);
  const page = await ctx.newPage();
  watchErrors(page, name, errors, { allow: [/415|Unsupported Media Type/] });
  return { ctx, page };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null && window.__quire.quill.root.isConnected),
  { what: 'editor loaded' });
// The pictures a reader sees: those loaded from the server, with their size and alt.
const pictures = (page) => page.evaluate(() => [...document.querySelectorAll('.ql-editor img')].map((img) => ({
  src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0, width: img.getAttribute('width'),
  alt: img.getAttribute('alt'), shown: Math.round(img.getBoundingClientRect().width),
})));
const insertButton = (page) => page.locator('.ql-toolbar button[aria-label="Insert image"]');

const A = await person('Ida Image', 'editor');
const B = await person('Bea Image', 'editor');
const V = await person('Vic Viewer', 'viewer');

await step('three people open the document', async () => {
  for (const p of [A, B, V]) await p.page.goto(target.docUrl());
  for (const p of [A, B, V]) await loaded(p.page);
});

await step('"Insert image" (named, with a tooltip) uploads the chosen file; B and the viewer see it load', async () => {
  const insert = insertButton(A.page);
  assert((await insert.getAttribute('title')) === 'Insert image', `tooltip ${await insert.getAttribute('title')}`);
  await A.page.click('.ql-editor');
  await A.page.keyboard.type('A red picture: ');
  const [chooser] = await Promise.all([A.page.waitForEvent('filechooser'), insert.click()]);
  await chooser.setFiles({ name: 'red.png', mimeType: 'image/png', buffer: png(600, 300, [210, 40, 40]) });
  for (const [who, p] of [['A', A], ['B', B], ['viewer', V]]) {
    const seen = await until(async () => {
      const pics = await pictures(p.page);
      return pics.length === 1 && pics[0].loaded && pics;
    }, { what: `${who} to see the picture load` });
    assert(/^\/api\/docs\/[\w-]+\/images\/[0-9a-f]{64}$/.test(seen[0].src), `src ${seen[0].src}`);
  }
  const upload = await A.page.evaluate(() => document.querySelector('.qe-upload')?.hidden);
  assert(upload === true, 'the progress bar stays after the upload');
});

await step('a pasted image file (a screenshot) is uploaded and appears for B', async () => {
  await A.page.keyboard.press('End');
  await A.page.keyboard.press('Enter');
  const bytes = [...png(120, 80, [40, 90, 210])];
  await A.page.evaluate((data) => {
    const file = new File([new Uint8Array(data)], 'screenshot.png', { type: 'image/png' });
    const clipboardData = new DataTransfer();
    clipboardData.items.add(file);
    window.__quire.quill.root.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
  }, bytes);
  await until(async () => {
    const pics = await pictures(B.page);
    return pics.length === 2 && pics.every((p) => p.loaded);
  }, { what: 'B to see two pictures' });
});

await step('the image menu makes the first one Small with alt text, for B too', async () => {
  await A.page.locator('.ql-editor img').first().click();
  const menu = A.page.locator('.qe-image-menu');
  await until(() => menu.isVisible(), { what: 'the image menu' });
  await menu.getByRole('button', { name: 'Small' }).click();
  A.page.once('dialog', (dialog) => dialog.accept('A red rectangle'));
  await A.page.locator('.ql-editor img').first().click();
  await menu.getByRole('button', { name: 'Alt text…' }).click();
  const first = await until(async () => {
    const [pic] = await pictures(B.page);
    return pic?.width === '240' && pic.alt === 'A red rectangle' && pic;
  }, { what: 'B to see width 240 and the alt text' });
  assert(first.shown === 240, `shown ${first.shown} px wide`);
  await synced(A.page);
  await synced(B.page);
  const [da, db] = [await contents(A.page), await contents(B.page)];
  assert(JSON.stringify(da) === JSON.stringify(db), `the Deltas differ:\n${JSON.stringify(da)}\n${JSON.stringify(db)}`);
});

await step('a text file claiming to be a PNG is refused with a message and inserts nothing', async () => {
  const before = (await pictures(A.page)).length;
  const [chooser] = await Promise.all([A.page.waitForEvent('filechooser'), insertButton(A.page).click()]);
  await chooser.setFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some notes') });
  const toast = await until(() => A.page.evaluate(() => [...document.querySelectorAll('.qe-toast')].map((t) => t.textContent).join(' ')),
    { what: 'an error toast' });
  assert(/PNG, JPEG, GIF or WebP/.test(toast), `toast: ${toast}`);
  assert((await pictures(A.page)).length === before, 'a picture was inserted');
});

await step('the viewer has no "Insert image" and no image menu', async () => {
  assert(!(await insertButton(V.page).isVisible()), 'the viewer sees Insert image');
  await V.page.locator('.ql-editor img').first().click({ force: true });
  assert(!(await V.page.locator('.qe-image-menu').isVisible()), 'the viewer got the image menu');
  await shot(A.page, 'images-editor-1100');
});

await run.finish();
