// Key-order-insensitive JSON, so documents compare by content: compose and
// the server may build attribute objects with keys in a different order.
export function stableJSON(v) {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJSON(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export const sameOps = (a, b) => stableJSON(a) === stableJSON(b);
