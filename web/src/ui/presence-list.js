// Avatars (initials on the person's colour) of everyone here, me first.
// Several tabs of one person show once.

import { h } from './dom.js';
import { initials } from '../ids.js';

export function createPresenceList(el, me) {
  return {
    render(people) {
      const byPerson = new Map();
      for (const { user } of people) {
        const key = user?.id ?? user?.name ?? '?';
        if (key !== me.id && !byPerson.has(key)) byPerson.set(key, user ?? {});
      }
      const items = [{ ...me, you: true }, ...byPerson.values()].map((u) => {
        const name = u.name || 'Someone';
        const label = u.you ? `${name} (you)` : name;
        const li = h('li', { class: 'qe-avatar', title: label, 'aria-label': label }, initials(name));
        li.style.backgroundColor = u.color || '#475569'; // CSSOM: no inline style attribute
        if (u.you) li.classList.add('qe-avatar-you');
        return li;
      });
      el.replaceChildren(...items);
      el.dataset.count = String(items.length);
    },
  };
}
