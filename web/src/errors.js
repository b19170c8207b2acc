// PROTOCOL.md's error table, as data: what each code means for the person
// and what the client does about it. Pure, so the table is unit-tested.
//
// action:
//   reload     the socket is closed and retrying cannot help; ask to reload
//   login      the session ended; send the person to the login page
//   readonly   drop pending edits, resync from a snapshot, stay read-only
//   resync     drop pending edits, resync from a snapshot, show unsent text
//   resume     reconnect with hello{rev} (the server gives a snapshot if needed)
//   stale      the op in flight was refused as a duplicate of an older seq:
//              resume, whose catch-up carries it if it was committed (the
//              ack); refused again, our seq counter is behind the server's
//              for this id, so continue under a fresh one (sync.js)
//   retry      back off, resend the same seq

export const ERRORS = {
  bad_message: { action: 'reload', text: 'The server did not understand this page. Reload to continue.' },
  unsupported_proto: { action: 'reload', text: 'Quire was updated. Reload the page to keep editing.' },
  unauthorized: { action: 'login', text: 'You are signed out. Sign in again to keep editing.' },
  forbidden: { action: 'readonly', text: 'You can only view this document. Your unsent changes were not saved.' },
  bad_op: { action: 'resync', text: 'A change could not be saved, so the document was reloaded. Your unsent text is shown so you can copy it.' },
  too_large: { action: 'resync', text: 'That change was too large to save (size limit reached). Your unsent text is shown so you can copy it.' },
  rev_in_future: { action: 'resume', text: 'Out of step with the server; catching up…' },
  rev_too_old: { action: 'resume', text: 'Out of step with the server; catching up…' },
  stale_seq: { action: 'stale', text: 'Out of step with the server; catching up…' },
  rate_limited: { action: 'retry', text: 'Typing faster than the server accepts; saving shortly…' },
  internal: { action: 'retry', text: 'The server could not save just now; retrying…' },
};

export function describeError(code, msg) {
  const known = ERRORS[code];
  if (known) return { code, ...known };
  // Unknown codes from a newer server: trust its `fatal` flag upstream.
  return { code, action: 'resume', text: msg ? `Server error: ${msg}` : `Server error (${code}).` };
}
