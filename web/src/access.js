// What the page says when the person's access changes while it is open
// (demoted, removed, the document gone): the banner's words. Pure.
//
// kind: readonly  the role changed to one that cannot edit (viewer, commenter)
//       removed   the owner removed them, they left, or their link was revoked
//       gone      the server no longer shows them the document (deleted,
//                 trashed, or removed while this page was offline)

const ROLE_NAMES = { commenter: 'a commenter', viewer: 'a viewer' };

export function accessNotice(kind, role) {
  switch (kind) {
    case 'readonly':
      return {
        kind,
        title: 'You can now only view this document.',
        status: 'Read-only',
        detail: `The owner made you ${ROLE_NAMES[role] ?? 'a viewer'}. You see others' changes as they happen, but you cannot edit.`,
        unsent: 'You can now only view this document, so your unsent changes were not saved. Copy what you need from here.',
      };
    case 'removed':
      return {
        kind,
        title: 'You no longer have access to this document.',
        status: 'You no longer have access to this document.',
        detail: 'It is no longer shared with you. What is on screen stays until you leave, but nothing more can be saved.',
        unsent: 'You no longer have access to this document, so your unsent changes were not saved. Copy what you need from here.',
      };
    default:
      return {
        kind: 'gone',
        title: 'You no longer have access to this document.',
        status: 'This document was deleted or is no longer shared with you.',
        detail: 'It was deleted, moved to the trash, or is no longer shared with you. Nothing more can be saved.',
        unsent: 'This document is no longer available to you, so your unsent changes were not saved. Copy what you need from here.',
      };
  }
}
