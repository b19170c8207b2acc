#!/usr/bin/env node
// For scripts/test-web: on a fresh server at QUIRE_URL, sign a bot up, make
// an API token and a document, and print them as shell assignments for
// server-convergence.mjs (QUIRE_TOKEN=… QUIRE_DOC=…).

const base = process.env.QUIRE_URL.replace(/\/$/, '');
const jar = new Map();
async function call(method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
    redirect: 'manual',
  });
  for (const c of res.headers.getSetCookie?.() ?? []) {
    const [kv] = c.split(';');
    const i = kv.indexOf('=');
    jar.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return res;
}

const email = `bot${Date.now()}@example.test`;
let res = await call('POST', '/api/auth/signup', { email, name: 'Convergence Bot', password: 'correct horse battery staple' });
if (!res.ok) throw new Error(`signup: ${res.status} ${await res.text()}`);
const page = await (await call('GET', '/')).text();
const csrf = page.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
res = await call('POST', '/api/tokens', { name: 'convergence' }, { 'X-CSRF-Token': csrf });
if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
const { token } = await res.json();
res = await call('POST', '/api/docs', { title: 'Convergence' }, { 'X-CSRF-Token': csrf });
if (!res.ok) throw new Error(`doc: ${res.status} ${await res.text()}`);
const { id } = await res.json();
console.log(`QUIRE_TOKEN=${token}\nQUIRE_DOC=${id}`);
