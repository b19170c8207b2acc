// Plumbing for the page tests (layout.mjs, pages-feel.mjs, a11y.mjs): checks that each stand
// alone and are counted, and people signed up through the API with their own browser context.

export const PASSWORD = 'correct horse battery staple';

export function serverUrl(testName) {
  const base = (process.env.QUIRE_URL ?? '').replace(/\/$/, '');
  if (!base || base === 'fake') {
    console.log(`${testName} needs the real server: set QUIRE_URL`);
    process.exit(2);
  }
  return base;
}

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

// `check(name, fn)` runs one check, printing ok / not ok (a failure does not skip the others); `finish()`
// prints "N passed, M failed" and exits 1 on any failure.
export function checks() {
  const results = [];
  async function check(name, fn) {
    try {
      await fn();
      results.push(true);
      console.log(`ok - ${name}`);
    } catch (e) {
      results.push(false);
      console.log(`not ok - ${name}\n  ${String(e.stack ?? e).split('\n').join('\n  ')}`);
    }
  }
  function finish() {
    const passed = results.filter(Boolean).length;
    console.log(`${passed} passed, ${results.length - passed} failed`);
    process.exit(passed === results.length ? 0 : 1);
  }
  return { check, finish };
}

// A new account with a page of its own; `api` sends the session's CSRF token. `newContext` makes the browser
// context (lib.mjs's newTestContext serves the tests' build of the editor).
export async function person(browser, base, name, viewport, { newContext = (b, opts) => b.newContext(opts) } = {}) {
  const ctx = await newContext(browser, { viewport });
  const email = `${name.replace(/\W/g, '').toLowerCase()}${Date.now()}${Math.floor(Math.random() * 1e6)}@example.test`;
  const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name, password: PASSWORD } });
  if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
  const page = await ctx.newPage();
  const html = await (await ctx.request.get(`${base}/`)).text();
  const csrf = html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
  const api = (method, url, data, headers = {}) =>
    ctx.request.fetch(`${base}${url}`, { method, data, headers: { 'X-CSRF-Token': csrf, ...headers } });
  return { ctx, page, name, email, csrf, api };
}

export async function importDoc(who, title, markdown) {
  const res = await who.api('POST', `/api/docs/import?title=${encodeURIComponent(title)}`, markdown, {
    'Content-Type': 'text/markdown; charset=utf-8',
  });
  if (!res.ok()) throw new Error(`import ${res.status()}: ${await res.text()}`);
  return (await res.json()).id;
}
