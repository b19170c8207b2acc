// Avatars (initials on the person's colour) of everyone here, me first, side
// by side; several tabs of one person show once. Past MAX_AVATARS a "+N"
// chip stands for the rest. Hovering the avatars, or clicking them (for
// touch and keyboards), lists everyone's name.

import { h } from './dom.js';
import { initials } from '../ids.js';
import { UNKNOWN_COLOR } from '../colors.js';

const MAX_AVATARS = 4;

// people: [{client, user}] -> distinct persons, me first. Pure.
export function personsHere(people, me) {
  const byPerson = new Map();
  for (const { user } of people) {
    const key = user?.id ?? user?.name ?? '?';
    if (key !== me.id && !byPerson.has(key)) byPerson.set(key, user ?? {});
  }
  return [{ ...me, you: true }, ...byPerson.values()];
}

export function createPresenceList(el, me) {
  // The avatars live in a button (it opens the list); the list is a sibling
  // popover so the button's accessible name stays short.
  // Its name is a hidden sentence, not an aria-label: the initials on the
  // avatars are pictures of people, and a label that left out text shown
  // on the button would fail WCAG 2.5.3 (label in name).
  const spoken = h('span', { class: 'qe-visually-hidden' });
  const button = h('button', { type: 'button', class: 'qe-presence-btn', 'aria-expanded': 'false', 'aria-haspopup': 'true' }, spoken);
  const names = h('ul', { class: 'qe-people-names' });
  const pop = h('div', { class: 'qe-people-pop', role: 'group', 'aria-label': 'People in this document' },
    h('p', { class: 'qe-people-head' }), names);
  pop.hidden = true;
  const wrap = h('div', { class: 'qe-presence-wrap' }, button, pop);
  el.replaceWith(wrap);
  button.append(el);
  let pinned = false;

  const setOpen = (open) => {
    pop.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  };
  button.addEventListener('click', () => {
    pinned = !pinned || pop.hidden;
    setOpen(pinned);
  });
  wrap.addEventListener('mouseenter', () => setOpen(true));
  wrap.addEventListener('mouseleave', () => {
    if (!pinned) setOpen(false);
  });
  document.addEventListener('click', (e) => {
    if (pinned && !wrap.contains(e.target)) {
      pinned = false;
      setOpen(false);
    }
  });
  wrap.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !pop.hidden) {
      pinned = false;
      setOpen(false);
      button.focus();
    }
  });

  return {
    // colorOf(user): the colour this page gives that person (colors.js).
    render(people, colorOf = (u) => u?.color || UNKNOWN_COLOR) {
      const persons = personsHere(people, me);
      const label = (u) => (u.you ? `${u.name || 'Someone'} (you)` : u.name || 'Someone');
      const shown = persons.length > MAX_AVATARS + 1 ? persons.slice(0, MAX_AVATARS) : persons;
      const items = shown.map((u) => {
        const li = h('span', { class: 'qe-avatar', title: label(u), 'aria-hidden': 'true' }, initials(u.name || 'Someone'));
        li.style.backgroundColor = colorOf(u); // CSSOM: no inline style attribute
        if (u.you) li.classList.add('qe-avatar-you');
        return li;
      });
      if (shown.length < persons.length) {
        items.push(h('span', { class: 'qe-avatar qe-avatar-more', 'aria-hidden': 'true' }, `+${persons.length - shown.length}`));
      }
      el.replaceChildren(...items);
      el.dataset.count = String(shown.length);
      const count = persons.length === 1 ? 'Only you are here' : `${persons.length} people here`;
      spoken.textContent = `${count}: ${persons.map(label).join(', ')}`;
      pop.querySelector('.qe-people-head').textContent = count;
      names.replaceChildren(...persons.map((u) => {
        const dot = h('span', { class: 'qe-people-dot', 'aria-hidden': 'true' });
        dot.style.backgroundColor = colorOf(u);
        return h('li', { class: 'qe-people-name' }, dot, label(u));
      }));
    },
  };
}
