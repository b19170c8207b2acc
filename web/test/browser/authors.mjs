// "Show authors" (issue 14) in Chromium against a server of its own: Ann and Bob type into one document (Ann only
// lowercase letters, Bob only capitals, so every letter says who wrote it); Ann turns on "Show authors": the button
// is pressed, the legend lists both names with their colours, and every tinted box over the text lies on letters
// of its author and has that author's colour; Bob types more and Ann's view follows; turned off, nothing is left;
// the document never changed for it (Bob's page saw no op); no console errors.
//
//   QUIRE_BIN=../target/debug/quire node test/browser/authors.mjs   (QUIRE_BIN: default target/debug/quire)
// Screenshot: target/e2e/authors-view.png. Prints "N passed, M failed"; exit 1 on failure.

import { dependentSteps, launch, shot, until, watchErrors, startServer } from './lib.mjs';
import { assert } from './pages-lib.mjs';

const ANN = { name: 'Ann Lee', email: 'ann@example.test', password: 'ann own password' };
const BOB = { name: 'Bob Stone', email: 'bob@example.test', password: 'bob own password' };

const server = await startServer();
const base = server.url;
const browser = await launch();
const errors = [];
const { step, report } = dependentSteps();

async function person(who) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await ctx.newPage();
  watchErrors(page, who.name, errors);
  await page.goto(`${base}/signup`);
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Sign up' }).click()]);
  return { ctx, page };
}

async function csrfOf(ctx) {
  const home = await (await ctx.request.get(`${base}/`)).text();
  return home.match(/name="csrf-token" content="([^"]*)"/)?.[1];
}

async function openEditor(page, docId) {
  await page.goto(`${base}/d/${docId}`);
  await until(async () => (await page.locator('.qe-status').getAttribute('data-kind')) === 'saved', { what: 'the editor to connect' });
}

const editorText = (page) => page.locator('.ql-editor').innerText();

async function typeAtEnd(page, words) {
  await page.locator('.ql-editor').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(words, { delay: 15 });
}

// Every overlay box of the page: its author, its colour, and the letters under it (read from the layout at a few
// points along its middle).
const boxes = (page) => page.evaluate(() => [...document.querySelectorAll('.qe-author-box')].map((box) => {
  const r = box.getBoundingClientRect();
  const letters = [];
  let last = null; // the character last read: each is read once however many points fall on it
  for (let x = r.left + 2; x < r.right - 1; x += 3) {
    const at = document.caretRangeFromPoint(x, r.top + r.height / 2);
    if (!at || at.startContainer.nodeType !== Node.TEXT_NODE) continue;
    const text = at.startContainer.textContent;
    // The caret lands before or after the character under the point: take the one whose box holds x.
    for (const offset of [at.startOffset - 1, at.startOffset]) {
      if (offset < 0 || offset >= text.length) continue;
      const one = document.createRange();
      one.setStart(at.startContainer, offset);
      one.setEnd(at.startContainer, offset + 1);
      const cr = one.getBoundingClientRect();
      if (x >= cr.left && x <= cr.right && !(last?.node === at.startContainer && last.offset === offset)) {
        letters.push(text[offset]);
        last = { node: at.startContainer, offset };
      }
    }
  }
  return { author: box.dataset.author, color: getComputedStyle(box).backgroundColor, width: r.width, letters: letters.join('') };
}));

const legend = (page) => page.evaluate(() => [...document.querySelectorAll('.qe-authors-legend li[data-author]')].map((li) => ({
  id: li.dataset.author, name: li.textContent, swatch: getComputedStyle(li.querySelector('.qe-author-swatch')).backgroundColor,
})));

// 'rgb(r, g, b)' -> [r, g, b]; 'rgba(r, g, b, a)' -> [r, g, b].
const rgb = (css) => css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);

let ann;
let bob;
let docId;
let bobOps = 0;

await step('Ann and Bob type into one document', async () => {
  ann = await person(ANN);
  bob = await person(BOB);
  const csrf = await csrfOf(ann.ctx);
  const res = await ann.ctx.request.post(`${base}/api/docs`, { data: { title: 'Authors' }, headers: { 'X-CSRF-Token': csrf } });
  assert(res.ok(), `new document: ${res.status()}`);
  docId = (await res.json()).id;
  const shared = await ann.ctx.request.put(`${base}/api/docs/${docId}/members/${BOB.email}`, { data: { role: 'editor' }, headers: { 'X-CSRF-Token': csrf } });
  assert(shared.ok(), `sharing: ${shared.status()}`);
  await openEditor(ann.page, docId);
  await openEditor(bob.page, docId);
  await typeAtEnd(ann.page, 'ann writes the first words of this line and ');
  await until(async () => (await editorText(bob.page)).includes('line and'), { what: "Ann's words on Bob's page" });
  await typeAtEnd(bob.page, 'BOB ADDS A FEW OF HIS OWN');
  await ann.page.keyboard.press('Enter');
  await until(async () => (await editorText(ann.page)).includes('HIS OWN'), { what: "Bob's words on Ann's page" });
  await typeAtEnd(ann.page, 'then ann goes on');
  await until(async () => (await editorText(bob.page)).includes('goes on'), { what: "Ann's second line on Bob's page" });
});

await step('Show authors tints each one\'s text in their colour, with a legend of both names', async () => {
  bob.page.on('websocket', (ws) => ws.on('framereceived', (f) => { if (String(f.payload).includes('"t":"op"')) bobOps++; }));
  const toggle = ann.page.getByRole('button', { name: 'Show authors' });
  assert((await toggle.getAttribute('aria-pressed')) === 'false', 'off at first');
  await toggle.click();
  assert((await toggle.getAttribute('aria-pressed')) === 'true', 'pressed once on');
  const people = await until(async () => {
    const list = await legend(ann.page);
    return list.length === 2 && list;
  }, { what: 'a legend of two people' });
  const names = people.map((p) => p.name).sort();
  assert(names[0] === `${ANN.name} (you)` && names[1] === BOB.name, `legend: ${names}`);
  const seen = await until(async () => {
    const list = await boxes(ann.page);
    return list.length >= 3 && list;
  }, { what: 'the tinted boxes' });
  const byId = Object.fromEntries(people.map((p) => [p.id, p]));
  const lettersOf = { [ANN.name]: /^[a-z]+$/, [BOB.name]: /^[A-Z]+$/ };
  const covered = { [ANN.name]: '', [BOB.name]: '' };
  for (const box of seen) {
    const who = byId[box.author];
    assert(who, `a box of someone not in the legend: ${box.author}`);
    const name = who.name.replace(' (you)', '');
    const letters = box.letters.replace(/[^A-Za-z]/g, '');
    assert(letters === '' || lettersOf[name].test(letters), `a box of ${name} over ${JSON.stringify(box.letters)}`);
    covered[name] += letters;
    const [r, g, b] = rgb(box.color);
    const [sr, sg, sb] = rgb(who.swatch);
    assert(r === sr && g === sg && b === sb, `${name}'s box is ${box.color}, the legend says ${who.swatch}`);
  }
  assert(covered[ANN.name].length > 20 && covered[BOB.name].length > 10, `covered: ${JSON.stringify(covered)}`);
  const colors = new Set(people.map((p) => p.swatch));
  assert(colors.size === 2, 'two colours');
  await shot(ann.page, 'authors-view');
});

await step('the view follows what Bob types next, and the document never changed for it', async () => {
  await typeAtEnd(bob.page, ' AND MORE');
  await until(async () => (await boxes(ann.page)).some((b) => /MORE/.test(b.letters)), { what: "Bob's new words tinted on Ann's page" });
  const last = (await boxes(ann.page)).find((b) => /MORE/.test(b.letters));
  const people = await legend(ann.page);
  assert(people.find((p) => p.id === last.author)?.name === BOB.name, 'the new words are Bob\'s');
  const before = bobOps;
  await ann.page.waitForTimeout(500);
  assert(bobOps === before, 'showing authors sent no op');
});

await step('turned off, nothing of it is left', async () => {
  await ann.page.getByRole('button', { name: 'Show authors' }).click();
  assert((await ann.page.getByRole('button', { name: 'Show authors' }).getAttribute('aria-pressed')) === 'false', 'not pressed');
  assert((await ann.page.locator('.qe-author-box').count()) === 0, 'no box');
  assert(!(await ann.page.locator('.qe-authors-legend').isVisible()), 'no legend');
  assert(errors.length === 0, `console errors: ${errors.join('\n')}`);
});

await browser.close();
await server.close();
process.exit(report());
