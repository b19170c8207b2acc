// The two suggestion marks of suggestion mode (docs/protocol-notes.md,
// "Suggestion mode"): their names, their value {id, by}, and reading them
// off a Delta's runs. Pure.

export const INSERT = 'suggest-insert';
export const DELETE = 'suggest-delete';

// 16 url-safe characters, as the server's id rule allows (1 to 32 of A-Z a-z 0-9 - _).
export function newSuggestionId() {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}

export function mark(id, by) {
  return { id, by };
}

// The mark `key` of a run's attributes, if set: {id, by}.
export function markOf(attributes, key) {
  const value = attributes?.[key];
  return value && typeof value === 'object' ? value : null;
}

// Every suggestion of a document Delta, in order of first appearance:
// [{id, by, kind: 'insert'|'delete'|'replace', text}].
export function suggestionsOf(doc) {
  const found = new Map();
  for (const op of doc.ops) {
    for (const [key, kind] of [[INSERT, 'insert'], [DELETE, 'delete']]) {
      const m = markOf(op.attributes, key);
      if (!m) continue;
      const s = found.get(m.id) ?? { id: m.id, by: m.by, kinds: new Set(), text: '' };
      s.kinds.add(kind);
      if (typeof op.insert === 'string') s.text += op.insert;
      found.set(m.id, s);
    }
  }
  return [...found.values()].map(({ kinds, ...s }) => ({ ...s, kind: kinds.size > 1 ? 'replace' : [...kinds][0] }));
}
