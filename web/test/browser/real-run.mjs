// The frame every Chromium test against the real binary shares: the server's
// address from QUIRE_URL (exit 2 without one), the dependent steps, one
// Chromium, the page errors every step may add to, people signed up in a
// browser context of their own, and the closing "no console errors" step.

import { launch, until, newTestContext, dependentSteps, watchErrors } from './lib.mjs';

export const PASSWORD = 'correct horse battery staple';

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

// The editor has its document (a revision) and every own edit is saved.
export const loaded = (page) => until(() => page.evaluate(() => window.__quire?.client.rev != null), { what: 'editor loaded' });
export const synced = (page) => until(() => page.evaluate(() => window.__quire.client.isSynchronized && !window.__quire.sync.hasUnsaved),
  { what: 'synchronized' });

export async function csrfOf(base, ctx) {
  const html = await (await ctx.request.get(`${base}/`)).text();
  return html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
}

// Starts the run of the test called `name` (as it appears in messages).
export async function realRun(name) {
  const base = (process.env.QUIRE_URL ?? '').replace(/\/$/, '');
  if (!base || base === 'fake') {
    console.log(`${name} needs the real server: set QUIRE_URL`);
    process.exit(2);
  }
  const steps = dependentSteps();
  const browser = await launch();
  const errors = [];

  // A new account, signed in in a browser context of its own, with one page
  // whose errors count against the run (except those matching `allow`).
  async function signUp(who, viewport, { allow = [] } = {}) {
    const ctx = await newTestContext(browser, { viewport });
    const email = `${who.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
    const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name: who, password: PASSWORD } });
    if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
    const page = await ctx.newPage();
    watchErrors(page, who, errors, { allow });
    return { ctx, page, email, csrf: await csrfOf(base, ctx) };
  }

  // The same person in a browser of their own (another device).
  async function logIn(email, viewport) {
    const ctx = await newTestContext(browser, { viewport });
    const res = await ctx.request.post(`${base}/api/auth/login`, { data: { email, password: PASSWORD } });
    if (!res.ok()) throw new Error(`login ${res.status()}: ${await res.text()}`);
    const page = await ctx.newPage();
    watchErrors(page, `${email} (2)`, errors);
    return { ctx, page };
  }

  async function finish() {
    await steps.step('no console errors', async () => {
      assert(errors.length === 0, errors.join('\n'));
    });
    await browser.close();
    process.exit(steps.report());
  }

  return { base, steps, step: steps.step, browser, errors, signUp, logIn, finish };
}
