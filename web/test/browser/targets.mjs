// Where the browser tests run: the in-process fake hub (default) or the
// real binary at QUIRE_URL, where each person signs up through the JSON API
// and the first one creates the document and shares it with the others.

export async function fakeServer() {
  const { startFakeHub } = await import('./fake-hub.mjs');
  const hub = await startFakeHub();
  const doc = `e2e${Date.now()}`;
  return {
    hub,
    docUrl: (who, role = 'editor') => `${hub.url}/d/${doc}?name=${encodeURIComponent(who)}&role=${role}`,
    content: async () => (await fetch(`${hub.url}/api/docs/${doc}/content?format=delta`)).json(),
    close: () => hub.close(),
    login: async () => {},
  };
}

// Each context signs up through its own request context (it shares the
// cookies); the first creates the document, the others are added by e-mail.
export async function realServer(base) {
  const csrfOf = async (ctx) => {
    const html = await (await ctx.request.get(`${base}/`)).text();
    return html.match(/name="csrf-token" content="([^"]*)"/)?.[1] ?? '';
  };
  let docId = null;
  return {
    hub: null,
    docUrl: () => `${base}/d/${docId}`,
    content: async (ctx) => (await ctx.request.get(`${base}/api/docs/${docId}/content?format=delta`)).json(),
    close: async () => {},
    async login(ctx, who, role) {
      const email = `${who.replace(/\W/g, '').toLowerCase()}${Date.now()}@example.test`;
      const res = await ctx.request.post(`${base}/api/auth/signup`, { data: { email, name: who, password: 'correct horse battery staple' } });
      if (!res.ok()) throw new Error(`signup ${res.status()}: ${await res.text()}`);
      const headers = { 'X-CSRF-Token': await csrfOf(ctx) };
      if (!docId) {
        const doc = await (await ctx.request.post(`${base}/api/docs`, { data: { title: 'E2E' }, headers })).json();
        docId = doc.id;
        this.owner = { ctx, headers };
      } else {
        const r = await this.owner.ctx.request.put(`${base}/api/docs/${docId}/members/${encodeURIComponent(email)}`, { data: { role }, headers: this.owner.headers });
        if (!r.ok()) throw new Error(`share ${r.status()}: ${await r.text()}`);
      }
    },
  };
}


export async function openTarget() {
  const url = process.env.QUIRE_URL;
  return url ? realServer(url.replace(/\/$/, '')) : fakeServer();
}
