// Links may only point to http, https or mailto (the rule and the
// server's allow-list): no javascript:, data: or other schemes, whether they
// come from the link tooltip or from pasted HTML. Pure so it is unit-tested.

const ALLOWED = /^(https?:\/\/[^/]|mailto:[^\s])/i;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const HOST_PORT = /^[^:/]+:\d+/; // "example.com:8080/x" is not a scheme
const EMAIL = /^[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+$/;
const HOSTLIKE = /^([^\s/:?#]+\.[^\s/:?#]+|localhost)(:\d+)?([/?#]|$)/i;

// The URL to store, or null when it must be refused. A bare "example.com"
// becomes https://example.com and a bare address becomes mailto:.
export function normalizeLink(raw) {
  const url = String(raw ?? '').trim();
  if (!url || url.length > 2048 || /[\s<>"\\]/.test(url)) return null;
  if (ALLOWED.test(url)) return url;
  if (EMAIL.test(url)) return `mailto:${url}`;
  if (HAS_SCHEME.test(url) && !HOST_PORT.test(url)) return null;
  if (HOSTLIKE.test(url)) return `https://${url}`;
  return null;
}
