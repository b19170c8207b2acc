// The account page and the admin page as people use them (issue 15), in Chromium against a server of its own:
//   - Ann signs up on the sign-up page and logs in on a second browser; on /account she changes her name (the
//     header follows), fails to change her password with a wrong current one (a clear error, nothing changed),
//     then changes it (the other browser is signed out, the new password logs in, the old one no longer does);
//   - the sessions list marks "This session"; "Sign out other sessions" ends the other one, whose open editor
//     says it is signed out (its socket closed) and whose next page is the log-in page;
//   - an API token is shown once, opens a document's WebSocket from node, and revoking it on the page closes that
//     socket and makes its API calls 401;
//   - the administrator (auth.admins) finds Bob on /admin and disables him: Bob's editor socket closes, his next
//     page is the log-in page, where he is refused; enabled again, he logs in. Bob, no admin, gets a 404 there;
//   - Bob deletes his account from /account, giving his documents to Ann: he is signed out, she owns them;
//   - no console errors but those the test provokes (a refused form's status, Bob's 404 and refused log-in).
//
//   QUIRE_BIN=../target/debug/quire node test/browser/account-admin.mjs   (QUIRE_BIN: default target/debug/quire)
// Screenshots: target/e2e/account.png, account-phone.png, admin.png, account-delete.png. Prints "N passed, M failed"; exit 1 on failure.

import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { dependentSteps, launch, shot, until, watchErrors, startServer } from './lib.mjs';
import { assert } from './pages-lib.mjs';

const ADMIN = { name: 'Ada Admin', email: 'ada@example.test', password: 'ada admin password' };
const ANN = { name: 'Ann Lee', email: 'ann@example.test', password: 'ann first password' };
const BOB = { name: 'Bob Stone', email: 'bob@example.test', password: 'bob own password' };
const ANN_NEW_PASSWORD = 'ann second password';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
// A revoked credential's socket must close because the page told it to: the periodic recheck is pushed out of reach.
const SERVER_SETTINGS = [`auth.admins=${ADMIN.email}`, 'limits.recheck_every=1h'];

const server = await startServer({ set: SERVER_SETTINGS });
const base = server.url;
const browser = await launch();
const errors = [];
const { step, report } = dependentSteps();

// ---- helpers -------------------------------------------------------------------------------------------------

// A browser of its own (cookies, sessions) with one page whose console errors fail the test.
async function openBrowser(label, { viewport = DESKTOP, allow = [] } = {}) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  watchErrors(page, label, errors, { allow });
  return { ctx, page, label };
}

// Sending a form is a full page load (a POST, often redirected): wait for the new page, not a delay. `how` is the
// button to click, or a function that sends the form another way.
async function submit(page, how) {
  const loaded = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
  await (typeof how === 'function' ? how() : how.click());
  await loaded;
  await page.waitForLoadState('load');
}

const pathOf = (page) => new URL(page.url()).pathname;

async function signUp(page, person) {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Name').fill(person.name);
  await page.getByLabel('E-mail').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Sign up' }));
  assert(pathOf(page) === '/', `sign-up of ${person.email} ended on ${page.url()}`);
}

// Logs in through the log-in page; returns the error it shows, or null when it let the person in.
async function logIn(page, email, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await submit(page, page.getByRole('button', { name: 'Log in' }));
  if (pathOf(page) !== '/login') return null;
  return (await page.locator('.error[role=alert]').textContent()).trim();
}

// Whether a fresh client can log in with this password (the JSON log-in, so no browser page is needed).
async function passwordWorks(email, password) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200 && res.status !== 401) throw new Error(`log-in answered ${res.status}`);
  return res.status === 200;
}

// Loading a page that needs a session: where does the person end up?
async function landsOnLogIn(page, path) {
  await page.goto(`${base}${path}`);
  return pathOf(page) === '/login';
}

// A new document of the person signed in on `ctx`, through the API with the page's CSRF token.
async function newDocument(ctx, title) {
  const home = await (await ctx.request.get(`${base}/`)).text();
  const csrf = home.match(/name="csrf-token" content="([^"]*)"/)?.[1];
  assert(csrf, 'no CSRF token on the dashboard');
  const res = await ctx.request.post(`${base}/api/docs`, { data: { title }, headers: { 'X-CSRF-Token': csrf } });
  assert(res.ok(), `creating a document: ${res.status()}`);
  return (await res.json()).id;
}

// Opens the document in the editor and waits until it says "Saved" (connected, in sync). `socket.closed` turns
// true once every document socket the page opened has closed: seen by the browser itself (page.on('websocket')),
// so it holds whatever the editor's code does, a reconnect included.
async function openEditor(page, docId) {
  let opened = 0;
  let open = 0;
  page.on('websocket', (ws) => {
    if (!ws.url().includes(`/api/docs/${docId}/ws`)) return;
    opened++;
    open++;
    ws.on('close', () => { open--; });
  });
  await page.goto(`${base}/d/${docId}`);
  await until(async () => (await page.locator('.qe-status').getAttribute('data-kind')) === 'saved', { what: 'the editor saved and connected' });
  assert(open >= 1, `${open} document sockets open`);
  return { get closed() { return opened > 0 && open === 0; } };
}

// What the editor's status line says once its socket was closed for an ended session or a disabled account.
async function editorSaysSignedOut(page, socket, who) {
  await until(() => socket.closed, { timeout: 5000, what: `${who}'s editor socket to close` });
  const status = await until(async () => {
    const text = await page.locator('.qe-status').textContent();
    return /signed out/i.test(text) && text;
  }, { what: `${who}'s editor to say it is signed out` });
  assert(/sign in again/i.test(status), `status line: ${status}`);
}

// The account page's section under a heading (the page has one form per section).
const section = (page, heading) => page.locator('section', { has: page.getByRole('heading', { name: heading }) });

async function changePassword(page, current, next) {
  const form = section(page, 'Password');
  await form.getByLabel('Current password').fill(current);
  await form.getByLabel('New password', { exact: true }).fill(next);
  await form.getByLabel('New password again').fill(next);
  await submit(page, form.getByRole('button', { name: 'Change password' }));
}

const noticeText = async (page) => (await page.locator('#account-notice').textContent()).trim();

// A document socket from node authenticated by an API token, as a script would open it. The returned state says
// whether it was welcomed, closed, or refused at the upgrade (and with which status).
function tokenSocket(docId, token) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/docs/${docId}/ws`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const state = { ws, closed: false, welcomed: false, refusedWith: null };
  ws.on('close', () => { state.closed = true; });
  ws.on('unexpected-response', (req, res) => {
    state.refusedWith = res.statusCode;
    state.closed = true;
    req.destroy(); // with this listener, ws leaves the refused request open
  });
  ws.on('error', () => { state.closed = true; });
  ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', proto: 1, client: `node-${randomBytes(16).toString('hex')}`, rev: null })));
  ws.on('message', (data) => {
    if (JSON.parse(String(data)).t === 'welcome') state.welcomed = true;
  });
  return state;
}

const apiMeStatus = async (token) => (await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${token}` } })).status;

// The admin page's row for an e-mail.
const userRow = (page, email) => page.locator('#users tbody tr', { has: page.locator('.email-cell', { hasText: email }) });

// ---- the steps ---------------------------------------------------------------------------------------------------

// Ann's first browser was refused on purpose once: the wrong current password answers 403.
const ann1 = await openBrowser('ann-1', { allow: [/status of 403/] });
const ann2 = await openBrowser('ann-2');
let annDoc = null;
let tokenSecret = null;

try {
  await step('Ann signs up on the sign-up page and logs in on a second browser', async () => {
    await signUp(ann1.page, ANN);
    const refused = await logIn(ann2.page, ANN.email, ANN.password);
    assert(refused === null, `log-in refused: ${refused}`);
    await ann1.page.goto(`${base}/`);
    assert(await ann1.page.locator('header .admin-link').count() === 0, 'Ann is no administrator but sees the Admin link');
  });

  await step('the account page changes the name, and the header follows', async () => {
    const { page } = ann1;
    await page.getByRole('link', { name: 'Account' }).click();
    await page.waitForURL(/\/account$/);
    const form = section(page, 'Name');
    await form.getByLabel(/Your name/).fill('Ann Marsh');
    await submit(page, form.getByRole('button', { name: 'Save name' }));
    assert(await noticeText(page) === 'Your name was changed.', `notice: ${await noticeText(page)}`);
    assert((await page.locator('header .who-name').textContent()) === 'Ann Marsh', 'the header still shows the old name');
    assert(await form.getByLabel(/Your name/).inputValue() === 'Ann Marsh', 'the field shows the old name');
    // The other browser sees it on its next page too: it is the account's name, not this session's.
    await ann2.page.goto(`${base}/`);
    assert((await ann2.page.locator('header .who-name').textContent()) === 'Ann Marsh', 'the second browser shows the old name');
  });

  await step('a wrong current password is refused with a clear error, and nothing changes', async () => {
    const { page } = ann1;
    await changePassword(page, 'not my password', ANN_NEW_PASSWORD);
    const error = (await page.locator('#account-error').textContent()).trim();
    assert(error === 'The current password is wrong.', `error: ${error}`);
    assert(await page.locator('#account-error').isVisible(), 'the error is not visible');
    assert(await page.locator('#account-notice').count() === 0, 'a success notice shows beside the error');
    assert(await passwordWorks(ANN.email, ANN.password), 'the old password stopped working');
    assert(!(await landsOnLogIn(ann2.page, '/')), 'the second browser was signed out');
  });

  await step('the right current password changes it: the other browser is signed out, the new password logs in', async () => {
    const { page } = ann1;
    await page.goto(`${base}/account`);
    await changePassword(page, ANN.password, ANN_NEW_PASSWORD);
    assert(pathOf(page) === '/account', `after the change: ${page.url()}`);
    assert((await noticeText(page)).startsWith('Your password was changed.'), `notice: ${await noticeText(page)}`);
    assert(await landsOnLogIn(ann2.page, '/'), 'the second browser is still signed in');
    assert(!(await landsOnLogIn(page, '/')), 'the browser that changed it was signed out');
    assert(!(await passwordWorks(ANN.email, ANN.password)), 'the old password still works');
    // The second browser signs in again with the new one: the next step's other session.
    const refused = await logIn(ann2.page, ANN.email, ANN_NEW_PASSWORD);
    assert(refused === null, `the new password is refused: ${refused}`);
  });

  await step('sessions: both listed, "This session" marked; signing out the other closes its editor', async () => {
    const { page } = ann1;
    annDoc = await newDocument(ann1.ctx, 'Ann’s notes');
    const socket = await openEditor(ann2.page, annDoc);
    await page.goto(`${base}/account`);
    const rows = page.locator('#sessions tbody tr');
    assert(await rows.count() === 2, `${await rows.count()} sessions listed`);
    assert(await page.locator('#sessions .this-session').count() === 1, 'not exactly one "This session"');
    assert(await page.locator('#sessions tr.current-session .this-session').textContent() === 'This session', 'the mark is not on the current row');
    // Both browsers have made a request since signing in: each row names the browser and where it was last active.
    for (const text of await rows.allTextContents()) {
      assert(/Chrome on Linux/.test(text) && /just now from 127\.0\.0\.1/.test(text), `a session row says: ${text}`);
    }
    const endOthers = page.locator('#end-other-sessions');
    assert((await endOthers.textContent()).trim() === 'Sign out other sessions (1)', await endOthers.textContent());
    await submit(page, endOthers);
    assert(await noticeText(page) === 'Your other sessions were signed out.', `notice: ${await noticeText(page)}`);
    assert(await rows.count() === 1, `${await rows.count()} sessions after signing out the others`);
    assert(await page.getByText('No other session is signed in.').isVisible(), 'no "No other session" hint');
    await editorSaysSignedOut(ann2.page, socket, 'the other session');
    assert(await landsOnLogIn(ann2.page, `/d/${annDoc}`), 'the other session still opens the document');
    assert(!(await landsOnLogIn(page, '/account')), 'this session was signed out too');
  });

  let token = null;
  await step('an API token is shown once and opens a document socket from a script', async () => {
    const { page } = ann1;
    const form = section(page, 'API tokens');
    await form.getByLabel('New token’s name').fill('backup script');
    await submit(page, form.getByRole('button', { name: 'Create token' }));
    tokenSecret = await page.locator('#new-token-secret').inputValue();
    assert(/^qt_\S{20,}$/.test(tokenSecret), `secret: ${tokenSecret}`);
    assert(await page.locator('#tokens .title', { hasText: 'backup script' }).count() === 1, 'the token is not listed');
    await shot(page, 'account');
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the account page scrolls sideways by ${overflow}px at 390px`);
    await shot(page, 'account-phone');
    await page.setViewportSize(DESKTOP);

    token = tokenSocket(annDoc, tokenSecret);
    await until(() => token.welcomed || token.closed, { what: 'the token socket welcomed' });
    assert(token.welcomed, `the token socket was refused (${token.refusedWith})`);
    assert(await apiMeStatus(tokenSecret) === 200, 'the token is refused by the API');
    await page.goto(`${base}/account`);
    assert(!(await page.content()).includes(tokenSecret), 'the secret is shown a second time');
  });

  await step('revoking the token on the page closes its socket and its API calls get 401', async () => {
    const { page } = ann1;
    await submit(page, page.getByRole('button', { name: 'Revoke “backup script”' }));
    assert(await noticeText(page) === 'The token was revoked.', `notice: ${await noticeText(page)}`);
    assert(await page.locator('#tokens').count() === 0, 'the revoked token is still listed');
    await until(() => token.closed, { timeout: 5000, what: 'the revoked token’s socket to close' });
    assert(await apiMeStatus(tokenSecret) === 401, 'the revoked token still works on the API');
    const again = tokenSocket(annDoc, tokenSecret);
    await until(() => again.closed || again.welcomed, { what: 'a new socket with the revoked token to end' });
    assert(again.refusedWith === 401, `a new socket with the revoked token: ${again.welcomed ? 'welcomed' : again.refusedWith}`);
  });

  // Bob is refused on purpose: /admin is a 404 to him, and his log-in while disabled a 401.
  const bob = await openBrowser('bob', { allow: [/status of 40[14]/] });
  const ada = await openBrowser('ada');
  let bobSocket = null;
  await step('Bob, no administrator, gets the ordinary 404 for /admin', async () => {
    await signUp(bob.page, BOB);
    assert(await bob.page.locator('header .admin-link').count() === 0, 'Bob sees the Admin link');
    const res = await bob.page.goto(`${base}/admin`);
    assert(res.status() === 404, `/admin for Bob: ${res.status()}`);
    assert(await bob.page.getByRole('heading', { name: 'Page not found' }).isVisible(), 'no "Page not found" heading');
    assert(!(await bob.page.content()).includes('Users'), 'the 404 tells about the admin page');
  });

  await step('the administrator finds Bob and disables him: his editor closes, his next page is the log-in page', async () => {
    const bobDoc = await newDocument(bob.ctx, 'Bob’s draft');
    bobSocket = await openEditor(bob.page, bobDoc);
    await signUp(ada.page, ADMIN);
    const { page } = ada;
    await page.locator('header .admin-link').click();
    await page.waitForURL(/\/admin$/);
    assert((await page.locator('#count-users').textContent()) === '3', `users: ${await page.locator('#count-users').textContent()}`);
    await page.locator('#user-search').fill('bob');
    await submit(page, () => page.locator('#user-search').press('Enter'));
    assert(new URL(page.url()).searchParams.get('q') === 'bob', `after searching: ${page.url()}`);
    assert(await page.locator('#users tbody tr').count() === 1, `${await page.locator('#users tbody tr').count()} rows found for "bob"`);
    const row = userRow(page, BOB.email);
    assert(await row.locator('.badge').first().textContent() === 'active', 'Bob is not shown active');
    await submit(page, row.getByRole('button', { name: 'Disable' }));
    assert(await userRow(page, BOB.email).locator('.badge.off').textContent() === 'disabled', 'Bob is not shown disabled');
    await editorSaysSignedOut(bob.page, bobSocket, 'Bob');
    assert(await landsOnLogIn(bob.page, `/d/${bobDoc}`), 'disabled Bob still opens his document');
    const refused = await logIn(bob.page, BOB.email, BOB.password);
    assert(/wrong e-mail or password/i.test(refused ?? ''), `disabled Bob's log-in: ${refused ?? 'let in'}`);
  });

  await step('enabled again, Bob logs in; the admin page lists everyone', async () => {
    const { page } = ada;
    await submit(page, userRow(page, BOB.email).getByRole('button', { name: 'Enable' }));
    assert(await userRow(page, BOB.email).locator('.badge').first().textContent() === 'active', 'Bob is not shown active again');
    // Enable comes back to the search it was pressed in.
    assert(new URL(page.url()).searchParams.get('q') === 'bob', `after enabling: ${page.url()}`);
    assert(await page.locator('#users tbody tr').count() === 1, 'the search for "bob" was lost');
    const refused = await logIn(bob.page, BOB.email, BOB.password);
    assert(refused === null, `enabled Bob's log-in: ${refused}`);
    await page.goto(`${base}/admin`);
    for (const who of [ADMIN, ANN, BOB]) {
      assert(await userRow(page, who.email).count() === 1, `${who.email} is not listed`);
    }
    assert(await userRow(page, ADMIN.email).getByRole('button').count() === 0, 'the admin can disable herself');
    await shot(page, 'admin');
  });

  await step('Bob deletes his account and gives his documents to Ann: she owns them, he is signed out', async () => {
    const { page } = bob;
    await page.goto(`${base}/account`);
    const form = section(page, 'Delete account');
    await form.getByLabel('Give them to another person').check();
    await form.getByLabel('Their e-mail').fill(ANN.email);
    await form.getByLabel(/Your password, to confirm/).fill(BOB.password);
    await shot(page, 'account-delete');
    await submit(page, form.getByRole('button', { name: 'Delete my account' }));
    const said = (await page.locator('#account-deleted').textContent()).replace(/\s+/g, ' ');
    assert(/Your account was deleted/.test(said) && /now belongs to Ann Marsh/.test(said), `after deleting: ${said}`);
    assert(await landsOnLogIn(page, '/'), 'Bob is still signed in');
    await ann1.page.goto(`${base}/`);
    assert(await ann1.page.getByText('Bob’s draft').count() > 0, 'Bob’s document is not on Ann’s dashboard');
    await ada.page.goto(`${base}/admin`);
    assert(await userRow(ada.page, BOB.email).count() === 0, 'the admin page still lists Bob');
  });

  await step('no console errors', async () => {
    assert(errors.length === 0, errors.join('\n'));
  });
} finally {
  await browser.close();
  await server.close();
}
process.exit(report());
