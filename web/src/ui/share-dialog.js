// The Share dialog (issue 6): the people with access and their roles; for
// those who may share (the owner, and editors when the owner allows it): add
// by e-mail with a role, change a role, remove; for the owner: make someone
// else the owner, share links (created with a role, the URL shown once,
// revoked), and "Editors can share". Everyone else sees the list read-only.
// Everything goes through the JSON API (PROTOCOL.md §4) and the list is
// reloaded after each change, so it always shows what the server holds.

import { h } from './dom.js';
import { makeModal, copyText } from './modal.js';
import {
  SHARE_ROLES, ROLE_LABELS, LINK_LABELS, looksLikeEmail, permissions, sortMembers, memberRow,
  shareErrorMessage, shortDate,
} from './share-model.js';

let seq = 0;

function roleSelect(roles, value, label, extra = {}) {
  const sel = h('select', { 'aria-label': label, ...extra },
    roles.map((r) => h('option', { value: r, text: ROLE_LABELS[r] })));
  sel.value = value;
  return sel;
}

export function createShareDialog({ root, docId, me, api, title = () => '', flash = () => {} }) {
  const uid = `qe-share-${++seq}`;
  const base = `/api/docs/${encodeURIComponent(docId)}`;
  let data = null;
  let busy = false;

  // ---- static parts --------------------------------------------------------
  const heading = h('h2', { id: `${uid}-title`, text: 'Share' });
  const closeX = h('button', { type: 'button', class: 'qe-icon-btn qe-dlg-x', 'aria-label': 'Close', text: '×' });
  const message = h('div', { class: 'qe-share-msg', role: 'alert', 'aria-live': 'assertive' });

  const email = h('input', {
    id: `${uid}-email`, type: 'email', class: 'qe-share-email', placeholder: 'name@example.com',
    autocomplete: 'off', spellcheck: 'false', required: true,
  });
  const newRole = roleSelect(SHARE_ROLES, 'editor', 'Role for the person you add', { class: 'qe-share-newrole' });
  const addBtn = h('button', { type: 'submit', class: 'qe-primary qe-share-add', text: 'Share' });
  const addForm = h('form', { class: 'qe-share-addform', novalidate: true },
    h('label', { for: `${uid}-email`, text: 'Add people by e-mail' }),
    h('div', { class: 'qe-share-addrow' }, email, newRole, addBtn));

  const peopleList = h('ul', { class: 'qe-share-people', 'aria-labelledby': `${uid}-people` });
  const readOnlyNote = h('p', { class: 'qe-share-note', hidden: true });

  const linkList = h('ul', { class: 'qe-share-links', 'aria-label': 'Active links' });
  const linkRole = roleSelect(SHARE_ROLES, 'viewer', 'Role for people who open the new link', { class: 'qe-share-linkrole' });
  const linkCreate = h('button', { type: 'button', class: 'qe-share-linkcreate', text: 'Create link' });
  const newLinkUrl = h('input', { type: 'text', readonly: true, class: 'qe-share-newurl', 'aria-label': 'New link' });
  const newLinkCopy = h('button', { type: 'button', class: 'qe-primary qe-share-copy', text: 'Copy link' });
  const newLinkBox = h('div', { class: 'qe-share-newlink', hidden: true },
    h('p', { class: 'qe-share-once', text: 'Copy this link now: it is shown only once. Anyone who has it can open the document with its role until you revoke it.' }),
    h('div', { class: 'qe-share-copyrow' }, newLinkUrl, newLinkCopy));
  const editorsShare = h('input', { type: 'checkbox', id: `${uid}-editors`, class: 'qe-share-editors' });
  const ownerSection = h('section', { class: 'qe-share-general', 'aria-labelledby': `${uid}-general`, hidden: true },
    h('h3', { id: `${uid}-general`, text: 'General access' }),
    linkList,
    h('div', { class: 'qe-share-linkrow' },
      h('span', { class: 'qe-share-linklabel', text: 'New link:' }), linkRole, linkCreate),
    newLinkBox,
    h('div', { class: 'qe-share-setting' },
      editorsShare,
      h('label', { for: `${uid}-editors`, text: 'Editors can share' }),
      h('span', { class: 'qe-share-hint', text: 'Editors may add and remove people and change their roles.' })));

  const done = h('button', { type: 'button', class: 'qe-primary qe-share-done', text: 'Done' });
  const dialog = h('dialog', { class: 'qe-dialog qe-share-dialog', 'aria-labelledby': `${uid}-title` },
    h('div', { class: 'qe-dlg-head' }, heading, closeX),
    message,
    addForm,
    h('section', { class: 'qe-share-section', 'aria-labelledby': `${uid}-people` },
      h('h3', { id: `${uid}-people`, text: 'People with access' }),
      peopleList,
      readOnlyNote),
    ownerSection,
    h('div', { class: 'qe-dlg-foot' }, done));
  root.append(dialog);
  const modal = makeModal(dialog, { onClose: () => { newLinkBox.hidden = true; newLinkUrl.value = ''; } });

  // ---- messages ------------------------------------------------------------
  function say(text, kind = 'error', extra = null) {
    message.replaceChildren();
    message.dataset.kind = kind;
    if (!text) return;
    message.append(h('p', { text }));
    if (extra) message.append(extra);
  }
  function inviteBox(url) {
    const input = h('input', { type: 'text', readonly: true, value: url, class: 'qe-share-invite', 'aria-label': 'Invitation link' });
    const copy = h('button', { type: 'button', text: 'Copy invitation link' });
    copy.addEventListener('click', async () => {
      copy.textContent = (await copyText(url, input)) ? 'Copied' : 'Select and copy it';
    });
    return h('div', { class: 'qe-share-copyrow' }, input, copy);
  }

  // ---- server calls --------------------------------------------------------
  async function run(fn, { ok, email: who } = {}) {
    if (busy) return false;
    busy = true;
    dialog.setAttribute('aria-busy', 'true');
    try {
      await fn();
      if (ok) say(ok, 'ok');
      await load();
      return true;
    } catch (e) {
      const extra = e.code === 'no_account' && e.details?.invite_url ? inviteBox(e.details.invite_url) : null;
      say(shareErrorMessage(e, who), 'error', extra);
      // What the server holds may have changed under us (e.g. our role).
      await load().catch(() => {});
      return false;
    } finally {
      busy = false;
      dialog.removeAttribute('aria-busy');
    }
  }

  async function load() {
    data = await api.get(`${base}/members`);
    render();
  }

  // ---- rendering -----------------------------------------------------------
  function render() {
    const t = title();
    heading.textContent = t ? `Share “${t}”` : 'Share';
    const perms = permissions(data, me.id);
    dialog.dataset.canShare = String(perms.canShare);
    dialog.dataset.owner = String(perms.isOwner);
    addForm.hidden = !perms.canShare;
    readOnlyNote.hidden = perms.canShare;
    readOnlyNote.textContent = data.editors_can_share
      ? 'Only the owner and editors can change who has access.'
      : 'Only the owner can change who has access.';
    peopleList.replaceChildren(...sortMembers(data.members ?? [], me.id).map((m) => personItem(memberRow(m, me.id, perms))));
    ownerSection.hidden = !perms.canManageLinks;
    editorsShare.checked = !!data.editors_can_share;
    editorsShare.disabled = !perms.canToggleEditorsShare;
    const links = data.links ?? [];
    linkList.replaceChildren(...(links.length
      ? links.map(linkItem)
      : [h('li', { class: 'qe-share-nolinks', text: 'Restricted: only the people above can open this document.' })]));
  }

  function personItem(row) {
    const label = row.you ? `${row.name} (you)` : row.name;
    const who = h('div', { class: 'qe-person-who' },
      h('span', { class: 'qe-person-name', text: label }),
      row.email && row.email !== row.name ? h('span', { class: 'qe-person-email', text: row.email }) : null,
      row.viaLink ? h('span', { class: 'qe-person-via', text: 'joined through a link' }) : null);
    const actions = h('div', { class: 'qe-person-actions' });
    if (row.canChangeRole) {
      const sel = roleSelect(SHARE_ROLES, row.role, `Role of ${row.name}`, { class: 'qe-person-role' });
      sel.addEventListener('change', () => run(
        () => api.put(`${base}/members/${encodeURIComponent(row.id)}`, { role: sel.value }),
        { ok: `${row.name} is now ${ROLE_LABELS[sel.value].toLowerCase()}.` }));
      actions.append(sel);
    } else {
      actions.append(h('span', { class: `qe-person-rolelabel qe-role-${row.role}`, text: row.roleLabel }));
    }
    if (row.canMakeOwner) {
      const make = h('button', { type: 'button', class: 'qe-link-btn qe-person-makeowner', text: 'Make owner' });
      make.addEventListener('click', () => confirmTransfer(li, row, make));
      actions.append(make);
    }
    if (row.canRemove) {
      const rm = h('button', { type: 'button', class: 'qe-icon-btn qe-person-remove', 'aria-label': `Remove ${row.name}`, title: `Remove ${row.name}`, text: '×' });
      rm.addEventListener('click', () => run(
        () => api.del(`${base}/members/${encodeURIComponent(row.id)}`),
        { ok: `${row.name} no longer has access.` }));
      actions.append(rm);
    }
    const li = h('li', { class: 'qe-person', 'data-id': row.id, 'data-role': row.role, 'data-email': row.email }, who, actions);
    return li;
  }

  function confirmTransfer(li, row, opener) {
    li.querySelector('.qe-person-confirm')?.remove();
    const yes = h('button', { type: 'button', class: 'qe-danger-btn', text: `Make ${row.name} the owner` });
    const no = h('button', { type: 'button', text: 'Cancel' });
    const box = h('div', { class: 'qe-person-confirm', role: 'group', 'aria-label': 'Confirm the transfer of ownership' },
      h('p', { text: `${row.name} becomes the owner and you become an editor. Only the new owner can undo this.` }),
      h('div', { class: 'qe-share-copyrow' }, yes, no));
    yes.addEventListener('click', () => run(
      () => api.put(`${base}/members/${encodeURIComponent(row.id)}`, { role: 'owner' }),
      { ok: `${row.name} is now the owner; you are an editor.` }));
    no.addEventListener('click', () => {
      box.remove();
      opener.focus();
    });
    li.append(box);
    no.focus();
  }

  function linkItem(link) {
    const when = shortDate(link.created_at);
    const revoke = h('button', { type: 'button', class: 'qe-link-btn qe-share-revoke', text: 'Revoke', 'aria-label': `Revoke the link: ${LINK_LABELS[link.role] ?? link.role}` });
    revoke.addEventListener('click', () => run(
      () => api.del(`${base}/links/${encodeURIComponent(link.id)}`),
      { ok: 'Link revoked: it no longer opens the document.' }));
    return h('li', { class: 'qe-share-link', 'data-id': link.id, 'data-role': link.role },
      h('div', { class: 'qe-person-who' },
        h('span', { class: 'qe-person-name', text: LINK_LABELS[link.role] ?? link.role }),
        when ? h('span', { class: 'qe-person-email', text: `created ${when}` }) : null),
      revoke);
  }

  // ---- events --------------------------------------------------------------
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const who = email.value.trim();
    if (!looksLikeEmail(who)) {
      say('Enter an e-mail address, like name@example.com.');
      email.setAttribute('aria-invalid', 'true');
      email.focus();
      return;
    }
    email.removeAttribute('aria-invalid');
    const role = newRole.value;
    const ok = await run(() => api.put(`${base}/members/${encodeURIComponent(who)}`, { role }),
      { ok: `Shared with ${who} as ${ROLE_LABELS[role].toLowerCase()}.`, email: who });
    if (ok) email.value = '';
    email.focus();
  });
  linkCreate.addEventListener('click', async () => {
    let created = null;
    const ok = await run(async () => {
      created = await api.post(`${base}/links`, { role: linkRole.value });
    }, { ok: 'Link created.' });
    if (ok && created?.url) {
      newLinkUrl.value = created.url;
      newLinkBox.hidden = false;
      newLinkCopy.textContent = 'Copy link';
      newLinkUrl.focus();
      newLinkUrl.select();
    }
  });
  newLinkCopy.addEventListener('click', async () => {
    newLinkCopy.textContent = (await copyText(newLinkUrl.value, newLinkUrl)) ? 'Copied' : 'Select and copy it';
  });
  editorsShare.addEventListener('change', () => {
    const value = editorsShare.checked;
    run(() => api.patch(base, { editors_can_share: value }),
      { ok: value ? 'Editors can now share this document.' : 'Only you can share this document now.' });
  });
  closeX.addEventListener('click', () => modal.close());
  done.addEventListener('click', () => modal.close());

  return {
    element: dialog,
    async open() {
      say('');
      heading.textContent = title() ? `Share “${title()}”` : 'Share';
      peopleList.replaceChildren(h('li', { class: 'qe-share-loading', text: 'Loading…' }));
      addForm.hidden = true;
      ownerSection.hidden = true;
      readOnlyNote.hidden = true;
      modal.open(closeX);
      try {
        await load();
        (addForm.hidden ? done : email).focus();
      } catch (e) {
        peopleList.replaceChildren();
        say(`Could not load who has access: ${shareErrorMessage(e)}`);
        flash('Could not load sharing settings', 'error');
      }
    },
    close: () => modal.close(),
    reload: () => (modal.isOpen ? load().catch(() => {}) : Promise.resolve()),
    get isOpen() { return modal.isOpen; },
  };
}
