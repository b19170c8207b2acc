#!/usr/bin/env node
// The server-rendered pages at phone and desktop widths (issue 19, items 3 and 9), against the REAL binary
// (QUIRE_URL): no page scrolls sideways at 360 or 414 px (dashboard, trash, log-in, sign-up, history, the
// error pages, a share link's join page), the dashboard is a list of cards on a phone with 44 px targets,
// long titles end in an ellipsis, the header names who is signed in; the missing or forbidden document page
// keeps the header, says so in plain words and offers to switch account; a wrong password focuses the
// password field; a taken e-mail at sign-up offers to log in instead.
//
//   QUIRE_URL=http://127.0.0.1:PORT node test/browser/layout.mjs
// Screenshots: target/e2e/layout-{page}-{1280,390}.png (QUIRE_E2E_DIR puts them elsewhere).
// Each check stands alone (a failure does not skip the others). Prints "N passed, M failed"; exit 1 on failure.

import { launch, shot } from './lib.mjs';
import { PASSWORD, assert, checks, importDoc, person as signedUp, serverUrl } from './pages-lib.mjs';

const base = serverUrl('layout');
const { check, finish } = checks();
const browser = await launch();
const LONG_TITLE = 'Quarterly planning notes for the whole product team, with every decision we took and why';
const UNBROKEN_TITLE = 'Supercalifragilisticexpialidocious-'.repeat(3);
const person = (name, viewport) => signedUp(browser, base, name, viewport);

// Nothing wider than the window: the page cannot be scrolled sideways.
async function noSideScroll(page, what) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  assert(scroll <= inner, `${what}: the page is ${scroll} px wide in a ${inner} px window`);
}

// Every visible control and link in `scope` is at least 44 by 44 px.
async function bigTargets(page, scope, what) {
  const small = await page.evaluate((sel) => {
    const out = [];
    for (const root of document.querySelectorAll(sel)) {
      for (const el of root.querySelectorAll('a, button, summary, input:not([type=hidden]), select, label[for]')) {
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        // Visually hidden (the file input behind its label) or not rendered (a closed <details>) is no target.
        if (box.width <= 1 || style.visibility === 'hidden' || !el.checkVisibility()) continue;
        if (box.width < 43.5 || box.height < 43.5) out.push(`${el.outerHTML.slice(0, 80)} is ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
    return out;
  }, scope);
  assert(small.length === 0, `${what}: targets under 44 px:\n${small.join('\n')}`);
}

// Screenshots at 390 and 1280 px first (so that a failing check still leaves them), then the checks at 360,
// 414 and 1280 px.
async function atWidths(page, url, name, extra) {
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: width < 800 ? 780 : 900 });
    await page.goto(url);
    await shot(page, `layout-${name}-${width}`);
  }
  for (const width of [360, 414, 1280]) {
    await page.setViewportSize({ width, height: width < 800 ? 780 : 900 });
    await page.goto(url);
    await noSideScroll(page, `${name} at ${width} px`);
    if (extra) await extra(page, width);
  }
}

// ---- setup ------------------------------------------------------------------

const ann = await person('Annabelle Fitzgerald-Montgomery', { width: 1280, height: 900 });
const bob = await person('Bob', { width: 1280, height: 900 });
const historyDoc = await importDoc(ann, 'Trip plan', '# Trip plan\n\nDay one: the coast.\n\nDay two: the hills.\n');
await importDoc(ann, LONG_TITLE, 'Notes.\n');
await importDoc(ann, UNBROKEN_TITLE, 'Notes.\n');
const trashed = await importDoc(ann, 'Old draft with a rather long title that will not fit on a phone', 'Old.\n');
await ann.api('DELETE', `/api/docs/${trashed}`);
const bobsDoc = await importDoc(bob, 'Bob’s secret', 'Private.\n');
const sharedWithAnn = await importDoc(bob, 'Shared by Bob', 'Hello.\n');
const linkRes = await bob.api('POST', `/api/docs/${sharedWithAnn}/links`, { role: 'viewer' });
const link = new URL((await linkRes.json()).url).pathname;

// ---- item 3: no page scrolls sideways; the dashboard on a phone --------------

await check('dashboard: no sideways scroll, cards, 44 px targets, ellipsis, the name in the header', async () => {
  await atWidths(ann.page, `${base}/`, 'dashboard', async (page, width) => {
    const who = await page.locator('header.topbar .who-name').first();
    assert(await who.isVisible(), `${width} px: the signed-in person's name is not shown`);
    assert((await who.textContent()).includes('Annabelle'), `${width} px: header says ${await who.textContent()}`);
    if (width > 600) return;
    await bigTargets(page, 'header.topbar, main.dashboard', `dashboard at ${width} px`);
    const rows = await page.evaluate(() => [...document.querySelectorAll('#docs tbody tr')].map((tr) => {
      const box = tr.getBoundingClientRect();
      return { display: getComputedStyle(tr).display, right: box.right, left: box.left };
    }));
    assert(rows.length >= 3, `${rows.length} rows`);
    for (const row of rows) {
      assert(row.display !== 'table-row', `${width} px: rows are still table rows, not cards`);
      assert(row.left >= 0 && row.right <= width, `${width} px: a card spans ${row.left}..${row.right}`);
    }
    for (const title of [LONG_TITLE, UNBROKEN_TITLE]) {
      const clipped = await page.locator('a.title', { hasText: title.slice(0, 20) }).evaluate((el) => ({
        ellipsis: getComputedStyle(el).textOverflow === 'ellipsis',
        truncated: el.scrollWidth > el.clientWidth,
        right: el.getBoundingClientRect().right,
      }));
      assert(clipped.ellipsis, `${width} px: "${title.slice(0, 20)}…" is clipped without an ellipsis`);
      assert(clipped.right <= width, `${width} px: the title runs out of the window (${clipped.right})`);
    }
  });
});

await check('trash: no sideways scroll, 44 px targets', async () => {
  await atWidths(ann.page, `${base}/?scope=trash`, 'trash', async (page, width) => {
    if (width <= 600) await bigTargets(page, 'main.dashboard', `trash at ${width} px`);
  });
});

await check('history: no sideways scroll', async () => {
  await atWidths(ann.page, `${base}/d/${historyDoc}/history`, 'history');
});

await check('join page of a share link: no sideways scroll', async () => {
  await atWidths(ann.page, `${base}${link}`, 'join');
});

// ---- item 9: the error page ---------------------------------------------------

await check('a missing or forbidden document: the header, plain words, switch account; same page for both', async () => {
  const bodies = [];
  for (const id of ['no-such-document', bobsDoc]) {
    const response = await ann.page.goto(`${base}/d/${id}`);
    assert(response.status() === 404, `status ${response.status()} for ${id}`);
    bodies.push((await ann.page.content()).replaceAll(id, 'ID'));
  }
  assert(bodies[0] === bodies[1], 'a forbidden document and a missing one get different pages');
  await atWidths(ann.page, `${base}/d/${bobsDoc}`, 'error', async (page, width) => {
    assert(await page.locator('header.topbar').isVisible(), `${width} px: no header`);
    assert((await page.locator('header.topbar .who-name').textContent()).includes('Annabelle'), 'header without the name');
    const heading = (await page.locator('main h1').textContent()).trim();
    assert(heading === 'Document not found, or you don’t have access', `heading: ${heading}`);
    assert(!/404 Not Found/.test(await page.locator('main').textContent()), 'still says 404 Not Found');
    assert(await page.locator('main form[action="/logout"] button', { hasText: 'Switch account' }).isVisible(), 'no switch account');
    if (width <= 600) await bigTargets(page, 'header.topbar, main', `error page at ${width} px`);
  });
  // Switching account logs out and comes back to the document after logging in as someone else.
  await ann.page.locator('main form[action="/logout"] button').click();
  await ann.page.waitForURL(/\/login\?next=/);
  await ann.page.fill('input[name=email]', bob.email);
  await ann.page.fill('input[name=password]', PASSWORD);
  await ann.page.click('button[type=submit]');
  await ann.page.waitForURL(`${base}/d/${bobsDoc}`);
});

await check('an unknown page while logged out: no sideways scroll, a way to log in', async () => {
  const anon = await browser.newContext();
  const page = await anon.newPage();
  await atWidths(page, `${base}/no/such/page`, 'error-anonymous', async (p) => {
    assert(await p.locator('header.topbar a[href^="/login"]').isVisible(), 'no log-in link in the header');
  });
  await anon.close();
});

await check('log-in: no sideways scroll; a wrong password focuses the password field', async () => {
  const anon = await browser.newContext();
  const page = await anon.newPage();
  await atWidths(page, `${base}/login`, 'login');
  await page.setViewportSize({ width: 390, height: 780 });
  await page.goto(`${base}/login`);
  await page.fill('input[name=email]', bob.email);
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('name'));
  assert(focused === 'password', `focus is on ${focused}`);
  assert((await page.inputValue('input[name=email]')) === bob.email, 'the e-mail was not kept');
  await shot(page, 'layout-login-wrong-password-390');
  await noSideScroll(page, 'log-in error');
  await anon.close();
});

await check('sign-up: no sideways scroll; a taken e-mail offers to log in instead', async () => {
  const anon = await browser.newContext();
  const page = await anon.newPage();
  await atWidths(page, `${base}/signup`, 'signup');
  await page.fill('input[name=name]', 'Bob again');
  await page.fill('input[name=email]', bob.email);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  const instead = page.locator('.error a', { hasText: 'Log in instead' });
  assert(await instead.isVisible(), 'no "Log in instead"');
  await shot(page, 'layout-signup-taken-1280');
  await instead.click();
  await page.waitForURL(/\/login/);
  assert((await page.inputValue('input[name=email]')) === bob.email, 'the log-in page does not have the e-mail');
  await noSideScroll(page, 'log-in after a taken e-mail');
  await anon.close();
});

await browser.close();
finish();
