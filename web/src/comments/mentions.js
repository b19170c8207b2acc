// `@` mentions in a comment box, without DOM (the contract in
// docs/protocol-notes.md and the mentions brief): the `@prefix` being typed
// at the caret, the people it matches, and which chosen people a body still
// mentions (their `@Name` left in the text), as the ids to send.

export const MAX_MENTIONS = 20;
const SHOWN = 8;

// {start, query} when the caret ends an `@word` that starts the text or
// follows white space; null otherwise.
export function mentionQuery(text, caret) {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([^\s@]{0,40})$/.exec(before);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

// People whose name, or one of its words, starts with the query (any case).
export function matchPeople(people, query, { exclude = null } = {}) {
  const q = query.toLocaleLowerCase();
  return people
    .filter((p) => p.id !== exclude)
    .filter((p) => {
      const name = (p.name ?? '').toLocaleLowerCase();
      return name.startsWith(q) || name.split(/\s+/).some((w) => w.startsWith(q));
    })
    .slice(0, SHOWN);
}

// The text with `@Name ` in place of the `@query` at `at`, and the caret after it.
export function insertMention(text, at, person) {
  const { start, query } = at;
  const inserted = `@${person.name} `;
  const rest = text.slice(start + 1 + query.length).replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

// The ids of the chosen people whose `@Name` is still in the body, once each.
export function mentionedIds(body, chosen) {
  const ids = [];
  for (const p of chosen) {
    if (!p?.id || ids.includes(p.id)) continue;
    if (body.includes(`@${p.name}`)) ids.push(p.id);
  }
  return ids.slice(0, MAX_MENTIONS);
}
