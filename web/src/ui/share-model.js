// Pure logic of the Share dialog: who may do what, the order of the people
// list, labels, e-mail checks and the messages for the server's errors.

export const ROLES = ['owner', 'editor', 'commenter', 'viewer'];
export const SHARE_ROLES = ['editor', 'commenter', 'viewer']; // what a sharer can give
export const ROLE_LABELS = { owner: 'Owner', editor: 'Editor', commenter: 'Commenter', viewer: 'Viewer' };
export const LINK_LABELS = {
  editor: 'Anyone with the link can edit',
  commenter: 'Anyone with the link can comment',
  viewer: 'Anyone with the link can view',
};

// Loose on purpose: the server is the judge; this only catches typos early.
export function looksLikeEmail(s) {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(s).trim());
}

// What the signed-in person may do in the dialog, from GET …/members.
export function permissions(data, meId) {
  const members = data?.members ?? [];
  const owner = members.find((m) => m.role === 'owner');
  const isOwner = !!owner && owner.id === meId;
  const canShare = !!data?.can_share;
  return {
    isOwner,
    canShare,
    canManageLinks: isOwner,
    canToggleEditorsShare: isOwner,
    canTransfer: isOwner,
  };
}

// Owner first, then me, then by name (e-mail when unnamed), stable.
export function sortMembers(members, meId) {
  const rank = (m) => (m.role === 'owner' ? 0 : m.id === meId ? 1 : 2);
  const key = (m) => (m.name || m.email || '').toLocaleLowerCase();
  return [...members].sort((a, b) => rank(a) - rank(b) || key(a).localeCompare(key(b)));
}

// What each row of the people list shows and allows.
export function memberRow(m, meId, perms) {
  const you = m.id === meId;
  const isOwnerRow = m.role === 'owner';
  const editable = perms.canShare && !isOwnerRow;
  return {
    id: m.id,
    name: m.name || m.email || 'Someone',
    email: m.email || '',
    you,
    role: m.role,
    roleLabel: ROLE_LABELS[m.role] ?? m.role,
    viaLink: !!m.via_link,
    canChangeRole: editable,
    canRemove: editable,
    canMakeOwner: perms.canTransfer && !isOwnerRow,
  };
}

// A person-facing message for a failed share / role change / removal.
export function shareErrorMessage(err, email = '') {
  if (!err) return '';
  switch (err.code) {
    case 'no_account':
      return err.details?.invite_url
        ? `${email || 'This person'} has no account here yet. Send them the invitation link below, then share again once they have signed up.`
        : err.message || `${email || 'This person'} has no account here yet.`;
    case 'forbidden':
      return err.message ? `Not allowed: ${err.message}.` : 'You are not allowed to do that.';
    case 'owner':
      return err.message || 'The owner cannot be changed here.';
    case 'not_found':
      return 'Not found: the document or the person may have been removed. Close and reopen the dialog.';
    case 'network':
      return err.message;
    default:
      return err.message || 'Something went wrong.';
  }
}

// "2026-11-26T07:39:24Z" or seconds since the epoch → "26 Nov 2026"; '' when unknown.
export function shortDate(value, locale = undefined) {
  if (value == null || value === '') return '';
  const d = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
}
