// Same-origin JSON calls to the server's API (PROTOCOL.md §4): the session
// cookie, the CSRF token of the page's <meta name="csrf-token"> on writes,
// and JSON errors {"error": {"code", "message", …}} turned into ApiError.
// No DOM apart from the token lookup; fetch is injectable for the tests.

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details; // the other fields of the error object (invite_url…)
  }
}

export function csrfToken(doc = globalThis.document) {
  return doc?.querySelector?.('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
}

// The error of a failed response: the server's JSON error when there is one,
// else the HTTP status (a proxy's HTML page, a dropped connection…).
export async function errorOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  const err = body && typeof body === 'object' ? body.error : null;
  if (err && typeof err === 'object') {
    const { code, message, ...details } = err;
    return new ApiError(res.status, String(code ?? 'http'), String(message ?? `HTTP ${res.status}`), details);
  }
  return new ApiError(res.status, 'http', `the server answered HTTP ${res.status}`);
}

export function createApi({ fetchImpl = (...a) => fetch(...a), token = () => csrfToken() } = {}) {
  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = token();
    let res;
    try {
      res = await fetchImpl(path, {
        method,
        credentials: 'same-origin',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }
  const json = async (res) => (res.status === 204 ? null : res.json());
  return {
    call,
    get: async (path) => json(await call('GET', path)),
    put: async (path, body) => json(await call('PUT', path, body)),
    post: async (path, body) => json(await call('POST', path, body)),
    patch: async (path, body) => json(await call('PATCH', path, body)),
    del: async (path) => json(await call('DELETE', path)),
  };
}
