#!/usr/bin/env node
// End to end against the REAL binary (QUIRE_URL), issue 19 items 1, 2 and 4,
// two people in Chromium:
//   names on cursors: after Ann types, Bob sees her name above her caret,
//     and it fades a few seconds later; the avatars sit side by side in two
//     different colours and list both names on hover and on click;
//   readable documents: a document with headings, lists and a checklist,
//     screenshots at 1280 and 390 px wide;
//   access changes: the owner makes Bob a viewer through the API while his
//     page is open: at once a banner, a read-only editor, keystrokes change
//     nothing; made an editor again, the banner goes; then, with an edit of
//     his still unsent, the owner removes him: the banner says so, the
//     unsent text is shown to copy, and nothing he types is saved.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/access-names.mjs
// Screenshots: target/e2e/19-*.png (QUIRE_E2E_DIR). Prints "N passed, M
// failed"; exit 1 on failure.

import { launch, shot, until, text, statusText, newTestContext, dependentSteps } from './lib.mjs';

const base = (process.env.QUIRE_URL ?? '').replace(/\/$/, '');
if (!base || base === 'fake') {
  console.log('access-names needs the real server: set QUIRE_URL');
  process.exit(2);
}

const steps = dependentSteps();
const { step } = steps;
const browser = await launch();
const errors = [];

function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // A removed person's page may still try its socket once (404).
    if (/Failed to load resource|WebSocket connection to/.test(m.text())) return;
    errors.push(`${label}: ${m.text()} ${m.location()?.url ?? ''}`);
  });
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
}

async function csrfOf(ctx) {
  const html = await (await ctx.request.get(`${base}/`)).text();
  return html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
}

async function person(name) {
  const ctx = await newTestContext(browser, { viewport: { width: 1280, height: 860 } });
  const email = `${name.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
  const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name, password: 'correct horse battery staple' } });
  if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
  const page = await ctx.newPage();
  watch(page, name);
  return { ctx, page, name, email, csrf: await csrfOf(ctx) };
}

const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: 'editor loaded' });
const synced = (page) => until(() => page.evaluate(() => window.__quire.client.isSynchronized && !window.__quire.sync.hasUnsaved), { what: 'synchronized' });
const editable = (page) => page.evaluate(() => document.querySelector('.ql-editor')?.isContentEditable);
const bannerText = (page) => page.evaluate(() => {
  const el = document.querySelector('.qe-access');
  return el && !el.hidden ? el.textContent : '';
});

// The name flag of `who`'s caret on `page`: its text and whether it is shown
// (quill-cursors fades it with opacity).
const flag = (page, who) => page.evaluate((n) => {
  for (const c of document.querySelectorAll('.ql-cursor')) {
    if (c.querySelector('.ql-cursor-name')?.textContent !== n) continue;
    const f = c.querySelector('.ql-cursor-flag');
    return { shown: getComputedStyle(f).opacity === '1' && getComputedStyle(f).visibility === 'visible', color: f.style.backgroundColor };
  }
  return null;
}, who);

const A = await person('Ann Lee');
const B = await person('Bob Ray');
const doc = await (await A.ctx.request.post(`${base}/api/docs`, { data: { title: 'Team notes' }, headers: { 'X-CSRF-Token': A.csrf } })).json();
const docUrl = `${base}/d/${doc.id}`;
const member = `${base}/api/docs/${doc.id}/members/${encodeURIComponent(B.email)}`;
const setBob = async (role) => {
  const r = await A.ctx.request.put(member, { data: { role }, headers: { 'X-CSRF-Token': A.csrf } });
  if (!r.ok()) throw new Error(`role ${role}: ${r.status()} ${await r.text()}`);
};
const serverText = async () => {
  const r = await A.ctx.request.get(`${base}/api/docs/${doc.id}/content?format=text`);
  return r.text();
};

await step('Ann and Bob (editor) open the document', async () => {
  await setBob('editor');
  await A.page.goto(docUrl);
  await B.page.goto(docUrl);
  await loaded(A.page);
  await loaded(B.page);
});

// ---- item 4: a readable document ----------------------------------------------

await step('a document with headings, paragraphs, lists and a checklist', async () => {
  await A.page.evaluate(() => {
    const ops = [
      { insert: 'Quarterly plan' }, { insert: '\n', attributes: { header: 1 } },
      { insert: 'This quarter we finish the editor, ship sharing to everyone, and write the guide that new people read on their first day.\n' },
      { insert: 'Second paragraph: a paragraph after a paragraph has room to breathe, as in a word processor.\n' },
      { insert: 'Goals' }, { insert: '\n', attributes: { header: 2 } },
      { insert: 'Names on cursors' }, { insert: '\n', attributes: { list: 'bullet' } },
      { insert: 'Readable documents' }, { insert: '\n', attributes: { list: 'bullet' } },
      { insert: 'line height and spacing' }, { insert: '\n', attributes: { list: 'bullet', indent: 1 } },
      { insert: 'Steps' }, { insert: '\n', attributes: { header: 3 } },
      { insert: 'Write it' }, { insert: '\n', attributes: { list: 'ordered' } },
      { insert: 'Review it' }, { insert: '\n', attributes: { list: 'ordered' } },
      { insert: 'Ship the banner' }, { insert: '\n', attributes: { list: 'checked' } },
      { insert: 'Take the screenshots' }, { insert: '\n', attributes: { list: 'unchecked' } },
      { insert: 'Simple things should be simple.' }, { insert: '\n', attributes: { blockquote: true } },
      { insert: 'And one last paragraph.\n' },
    ];
    window.__quire.quill.setContents(ops, 'user');
  });
  await synced(A.page);
  await until(async () => (await text(B.page)).includes('And one last paragraph.'), { what: 'Bob has the document' });
  const look = await B.page.evaluate(() => {
    const ed = document.querySelector('.ql-editor');
    const p = ed.querySelector('p');
    const cs = (el) => getComputedStyle(el);
    const size = (sel) => parseFloat(cs(ed.querySelector(sel)).fontSize);
    const done = ed.querySelector('li[data-list="checked"]');
    const box = cs(ed.querySelector('li[data-list="unchecked"] > .ql-ui'), '::before');
    return {
      lineHeight: parseFloat(cs(p).lineHeight) / parseFloat(cs(p).fontSize),
      after: parseFloat(cs(p).marginBottom),
      h1: size('h1'), h2: size('h2'), h3: size('h3'), body: parseFloat(cs(p).fontSize),
      strike: cs(done).textDecorationLine,
      boxBorder: getComputedStyle(ed.querySelector('li[data-list="unchecked"] > .ql-ui'), '::before').borderTopWidth,
      boxContent: box.content,
    };
  });
  if (look.lineHeight < 1.4 || look.lineHeight > 1.65) throw new Error(`line height ${look.lineHeight}`);
  if (look.after < 6) throw new Error(`space after a paragraph: ${look.after}px`);
  if (!(look.h1 > look.h2 && look.h2 > look.h3 && look.h3 > look.body)) throw new Error(`heading sizes ${JSON.stringify(look)}`);
  if (!look.strike.includes('line-through')) throw new Error(`done item not struck through: ${look.strike}`);
  if (look.boxBorder === '0px') throw new Error('the checklist box has no border');
});

// ---- item 2: names on cursors ----------------------------------------------------

await step("after Ann types, Bob sees her name above her caret, and it fades", async () => {
  await A.page.click('.ql-editor h1');
  await A.page.keyboard.press('End');
  await A.page.keyboard.type(' 2027');
  await synced(A.page);
  const on = await until(async () => {
    const f = await flag(B.page, 'Ann Lee');
    return f?.shown && f;
  }, { what: "Ann's name shown on Bob's page", timeout: 5000 });
  if (!on.color) throw new Error('the flag has no colour');
  await shot(B.page, '19-names-1280');
  // Gone a few seconds later, without anyone hovering.
  await B.page.mouse.move(5, 5);
  await until(async () => (await flag(B.page, 'Ann Lee'))?.shown === false, { what: 'the name to fade', timeout: 9000, every: 200 });
});

await step('Bob moving his caret shows his name on Ann\'s page', async () => {
  await B.page.click('.ql-editor p');
  await until(async () => (await flag(A.page, 'Bob Ray'))?.shown, { what: "Bob's name shown on Ann's page", timeout: 5000 });
});

await step('avatars side by side in two colours; names listed on hover and on click', async () => {
  await until(async () => (await B.page.locator('.qe-avatar').count()) === 2, { what: 'two avatars' });
  const av = await B.page.evaluate(() => [...document.querySelectorAll('.qe-avatar')].map((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, color: getComputedStyle(el).backgroundColor, text: el.textContent };
  }));
  if (av[1].left < av[0].right) throw new Error(`avatars overlap: ${JSON.stringify(av)}`);
  if (av[0].color === av[1].color) throw new Error(`same colour: ${av[0].color}`);
  if (av.some((a) => a.color === 'rgb(71, 85, 105)')) throw new Error('someone has the grey of "unknown"');
  await B.page.hover('.qe-presence-btn');
  await until(() => B.page.isVisible('.qe-people-pop'), { what: 'names on hover' });
  const names = await B.page.locator('.qe-people-name').allTextContents();
  if (!names.includes('Bob Ray (you)') || !names.includes('Ann Lee')) throw new Error(`names: ${names}`);
  await shot(B.page, '19-people-hover-1280');
  await B.page.mouse.move(600, 700);
  await until(async () => !(await B.page.isVisible('.qe-people-pop')), { what: 'closed when the pointer leaves' });
  await B.page.click('.qe-presence-btn');
  await B.page.mouse.move(600, 700);
  if (!(await B.page.isVisible('.qe-people-pop'))) throw new Error('a click keeps the list open');
  await B.page.keyboard.press('Escape');
  await until(async () => !(await B.page.isVisible('.qe-people-pop')), { what: 'Esc closes the list' });
});

await step('the editor with two people at 390 px', async () => {
  await B.page.setViewportSize({ width: 390, height: 844 });
  await A.page.click('.ql-editor h2');
  await A.page.keyboard.press('End');
  await A.page.keyboard.type(' and more');
  await until(async () => (await flag(B.page, 'Ann Lee'))?.shown, { what: "Ann's name at 390 px", timeout: 5000 });
  await shot(B.page, '19-names-390');
  await B.page.setViewportSize({ width: 1280, height: 860 });
});

// ---- item 1: access changes lock the page ------------------------------------------

await step('made a viewer while the page is open: banner, read-only, keystrokes change nothing', async () => {
  await synced(B.page);
  const before = await text(B.page);
  await B.page.click('.ql-editor p');
  await setBob('viewer');
  await until(async () => /You can now only view this document/.test(await bannerText(B.page)), { what: 'the viewer banner', timeout: 3000 });
  if (await editable(B.page)) throw new Error('still editable');
  await B.page.keyboard.type('zzz');
  await B.page.keyboard.press('Enter');
  await new Promise((r) => setTimeout(r, 500));
  if ((await text(B.page)) !== before) throw new Error('a keystroke changed the page');
  if ((await serverText()).includes('zzz')) throw new Error('a keystroke reached the server');
  if ((await statusText(B.page)) !== 'Read-only') throw new Error(`status ${await statusText(B.page)}`);
  await shot(B.page, '19-demoted-1280');
});

await step('made an editor again, the banner goes and he can type', async () => {
  await setBob('editor');
  await until(async () => (await bannerText(B.page)) === '', { what: 'the banner gone', timeout: 3000 });
  await until(() => editable(B.page), { what: 'editable again' });
  await B.page.click('.ql-editor p');
  await B.page.keyboard.type('Bob was here. ');
  await synced(B.page);
});

await step('removed with an edit still unsent: banner, the unsent text to copy, nothing saved', async () => {
  // His next op leaves the page but never reaches the server, as if it were
  // in flight when the owner removed him.
  await B.page.evaluate(() => {
    const conn = window.__quire.sync.conn;
    const send = conn.send.bind(conn);
    conn.send = (m) => (m.t === 'op' ? true : send(m));
  });
  await B.page.keyboard.type('pending words');
  await until(() => B.page.evaluate(() => window.__quire.sync.hasUnsaved), { what: 'an unsent edit' });
  const r = await A.ctx.request.delete(member, { headers: { 'X-CSRF-Token': A.csrf } });
  if (r.status() !== 204) throw new Error(`remove: ${r.status()}`);
  await until(async () => /You no longer have access to this document/.test(await bannerText(B.page)), { what: 'the removal banner', timeout: 3000 });
  await until(() => B.page.evaluate(() => document.querySelector('dialog.qe-unsent')?.open), { what: 'the unsent dialog' });
  // What he typed comes in pieces (the op in flight, then the buffer); his
  // version of the whole document has it in one.
  const typed = await B.page.inputValue('.qe-unsent-typed');
  if (!typed.replace(/\n/g, '').includes('pending words')) throw new Error(`unsent text: ${typed}`);
  const whole = await B.page.inputValue('.qe-unsent-doc');
  if (!whole.includes('Bob was here. pending words')) throw new Error(`his version: ${whole}`);
  if (!/no longer have access/.test(await B.page.locator('.qe-unsent-why').textContent())) throw new Error('the dialog does not say why');
  await shot(B.page, '19-removed-unsent-1280');
  await B.page.keyboard.press('Escape');
  await until(() => B.page.evaluate(() => !document.querySelector('dialog.qe-unsent')?.open), { what: 'dialog closed' });
  // The banner offers it again.
  await B.page.click('.qe-access-unsent');
  await until(() => B.page.evaluate(() => document.querySelector('dialog.qe-unsent')?.open), { what: 'dialog reopened from the banner' });
  await B.page.keyboard.press('Escape');
  if (await editable(B.page)) throw new Error('still editable after the removal');
  const shown = await text(B.page);
  await B.page.click('.ql-editor p');
  await B.page.keyboard.type('zq-after');
  await new Promise((r) => setTimeout(r, 500));
  if ((await text(B.page)) !== shown) throw new Error('a keystroke changed the page after the removal');
  const saved = await serverText();
  if (saved.includes('pending words') || saved.includes('zq-after')) throw new Error(`saved after the removal: ${saved}`);
  if (!saved.includes('Bob was here.')) throw new Error('his earlier, acknowledged edit is missing');
  if (!/no longer have access/.test(await statusText(B.page))) throw new Error(`status ${await statusText(B.page)}`);
  for (const control of ['.qe-share', '.qe-menu-btn']) {
    if (await B.page.locator(control).isVisible()) throw new Error(`${control} is still offered after the removal`);
  }
  await shot(B.page, '19-removed-1280');
  await B.page.setViewportSize({ width: 390, height: 844 });
  await shot(B.page, '19-removed-390');
});

await step('no console errors or CSP violations', async () => {
  if (errors.length) throw new Error(errors.join('\n'));
});

await browser.close();
process.exit(steps.report());
