// One thread's card in the comments panel: the quoted text, notes (orphaned,
// resolved by whom), the messages (author, time, "(edited)", "mentions you",
// the body or "Message deleted", Edit and Delete on one's own), Resolve or
// Reopen as the role table allows, and the reply box. The card is kept
// across updates, so a reply or an edit being typed survives every event.

import { h } from '../ui/dom.js';
import { canComment, canResolve, canChangeMessage, mentionIds } from './state.js';
import { attachMentions } from './mention-box.js';

// ctx: state (CommentState), me {id}, role(), people(), ask(el, ref, ok),
//   rerender(), activate(id)
export function createThreadCard(id, ctx) {
  const { state, me, people, ask } = ctx;
  const el = h('article', { class: 'qe-thread', 'data-thread': id, tabindex: '-1', 'aria-label': 'Comment thread' });
  const quote = h('blockquote', { class: 'qe-thread-quote' });
  const note = h('p', { class: 'qe-thread-note' });
  const messages = h('ol', { class: 'qe-thread-messages' });
  const tools = h('div', { class: 'qe-thread-tools' });
  const textarea = h('textarea', { class: 'qe-reply-input', rows: 1, placeholder: 'Reply… (@ to mention)', 'aria-label': 'Reply' });
  const reply = h('form', { class: 'qe-reply' }, textarea,
    h('div', { class: 'qe-c-row' }, h('button', { type: 'submit', class: 'qe-c-btn qe-c-primary', text: 'Reply' })));
  const mentions = attachMentions(textarea, { people, meId: me.id });
  const editing = new Map(); // message id -> its edit form's <li>
  el.append(h('div', { class: 'qe-thread-head' }, quote, tools), note, messages, reply);

  submitOnCtrlEnter(textarea, reply);
  reply.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = textarea.value.trim();
    if (!body) return;
    ask(reply, state.reply(id, body, mentions.ids()), () => {
      textarea.value = '';
      mentions.reset();
    });
  });
  el.addEventListener('click', (e) => {
    if (!e.target.closest('button, textarea, a, input')) ctx.activate(id);
  });

  function fill(t, { active }) {
    el.dataset.at = String(t.start);
    el.classList.toggle('qe-thread-resolved', !!t.resolved);
    el.classList.toggle('qe-thread-orphaned', !!t.orphaned);
    el.classList.toggle('qe-thread-active', active);
    quote.textContent = t.quote;
    quote.hidden = !t.quote;
    const notes = [];
    if (t.orphaned) notes.push('The text this comment was on was deleted.');
    if (t.resolved) notes.push(`Resolved${t.resolved_by?.name ? ` by ${t.resolved_by.name}` : ''}.`);
    note.textContent = notes.join(' ');
    note.hidden = notes.length === 0;
    const role = ctx.role();
    messages.replaceChildren(...t.messages.map((m) => editing.get(m.id) ?? messageItem(m, role)));
    const buttons = [];
    if (canResolve(role, t, me.id)) {
      buttons.push(t.resolved
        ? h('button', { type: 'button', class: 'qe-c-btn', text: 'Reopen', onclick: (e) => ask(e.currentTarget, state.reopen(t.id)) })
        : h('button', { type: 'button', class: 'qe-c-btn', text: 'Resolve', onclick: (e) => ask(e.currentTarget, state.resolve(t.id)) }));
    }
    tools.replaceChildren(...buttons);
    tools.hidden = buttons.length === 0;
    reply.hidden = !canComment(role) || !!t.resolved;
  }

  function messageItem(m, role) {
    const head = h('div', { class: 'qe-msg-head' },
      h('span', { class: 'qe-msg-author', text: m.author?.name ?? 'Deleted account' }),
      h('time', { class: 'qe-msg-time', datetime: new Date(m.created_at).toISOString(), text: when(m.created_at) }),
      m.edited_at && !m.deleted ? h('span', { class: 'qe-msg-edited', text: '(edited)' }) : null,
      !m.deleted && me.id && mentionIds(m).includes(me.id) ? h('span', { class: 'qe-msg-you', text: 'mentions you' }) : null);
    const body = m.deleted
      ? h('p', { class: 'qe-msg-body qe-msg-deleted', text: 'Message deleted' })
      : h('p', { class: 'qe-msg-body', text: m.body });
    const li = h('li', { class: 'qe-msg', 'data-message': m.id }, head, body);
    if (canChangeMessage(role, m, me.id)) {
      li.append(h('div', { class: 'qe-msg-actions' },
        h('button', { type: 'button', class: 'qe-c-link', text: 'Edit', 'aria-label': 'Edit your message', onclick: () => startEdit(m) }),
        h('button', {
          type: 'button', class: 'qe-c-link', text: 'Delete', 'aria-label': 'Delete your message',
          onclick: (e) => {
            if (window.confirm('Delete this message?')) ask(e.currentTarget, state.remove(m.id));
          },
        })));
    }
    return li;
  }

  function startEdit(m) {
    const box = h('textarea', { class: 'qe-reply-input', rows: 2, 'aria-label': 'Edit your message' });
    box.value = m.body;
    const form = h('form', { class: 'qe-reply qe-msg-edit' }, box,
      h('div', { class: 'qe-c-row' },
        h('button', { type: 'button', class: 'qe-c-btn', text: 'Cancel', onclick: () => stopEdit(m.id) }),
        h('button', { type: 'submit', class: 'qe-c-btn qe-c-primary', text: 'Save' })));
    const chosen = attachMentions(box, { people, meId: me.id, initial: Array.isArray(m.mentions) ? m.mentions : [] });
    submitOnCtrlEnter(box, form);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = box.value.trim();
      if (body) ask(form, state.edit(m.id, body, chosen.ids()), () => stopEdit(m.id));
    });
    editing.set(m.id, h('li', { class: 'qe-msg', 'data-message': m.id }, form));
    ctx.rerender();
    box.focus();
  }

  function stopEdit(messageId) {
    editing.delete(messageId);
    ctx.rerender();
  }

  return { id, el, fill };
}

export function submitOnCtrlEnter(textarea, form) {
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

// "14:05" today, "3 Dec, 14:05" before.
function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
