// The `@` completion of one comment box: typing `@` and a prefix lists the
// document's people (GET /api/docs/{id}/people, asked once per page and
// shared), arrow keys and Enter or a click choose, Escape closes. What is
// chosen goes in as `@Name`; ids() gives the ids to send as `mentions`.

import { h } from '../ui/dom.js';
import { mentionQuery, matchPeople, insertMention, mentionedIds } from './mentions.js';

let seq = 0;

// people(): a promise of [{id, name}] (the page's one request).
export function attachMentions(textarea, { people, meId, initial = [] }) {
  const uid = `qe-mention-${++seq}`;
  const list = h('ul', { class: 'qe-mention-list', id: uid, role: 'listbox', 'aria-label': 'People to mention', hidden: true });
  textarea.after(list);
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', uid);
  const chosen = [...initial];
  let at = null;
  let options = [];
  let active = 0;

  function close() {
    at = null;
    options = [];
    list.hidden = true;
    list.replaceChildren();
    delete textarea.dataset.mentionsOpen;
    textarea.removeAttribute('aria-activedescendant');
  }

  function show() {
    list.replaceChildren(...options.map((p, i) => h('li', {
      id: `${uid}-${i}`, role: 'option', class: 'qe-mention-option', 'aria-selected': String(i === active), text: p.name,
      onmousedown: (e) => {
        e.preventDefault(); // keep the focus in the box
        choose(p);
      },
    })));
    list.hidden = options.length === 0;
    // (aria-expanded is not allowed on a textbox; the list's visibility says it.)
    if (list.hidden) delete textarea.dataset.mentionsOpen;
    else textarea.dataset.mentionsOpen = '';
    if (!list.hidden) textarea.setAttribute('aria-activedescendant', `${uid}-${active}`);
  }

  async function update() {
    const q = mentionQuery(textarea.value, textarea.selectionStart);
    if (!q) return close();
    const everyone = await people();
    // The text may have moved on while the list loaded.
    const now = mentionQuery(textarea.value, textarea.selectionStart);
    if (!now || now.start !== q.start) return;
    at = now;
    options = matchPeople(everyone, now.query, { exclude: meId });
    active = Math.min(active, Math.max(0, options.length - 1));
    show();
  }

  function choose(person) {
    if (!at) return;
    const { text, caret } = insertMention(textarea.value, at, person);
    textarea.value = text;
    textarea.setSelectionRange(caret, caret);
    if (!chosen.some((p) => p.id === person.id)) chosen.push(person);
    close();
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }

  textarea.addEventListener('input', () => {
    active = 0;
    update();
  });
  textarea.addEventListener('blur', () => close());
  textarea.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      show();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      choose(options[active]);
    } else if (e.key === 'Escape') {
      close();
    } else {
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation(); // not a submit, nor a closed composer
  });

  return {
    ids: () => mentionedIds(textarea.value, chosen),
    reset() {
      chosen.length = 0;
      close();
    },
  };
}
