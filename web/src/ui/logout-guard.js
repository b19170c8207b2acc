// Log-out on a page where the editor runs: unsent edits kept in this
// browser belong to the person logging out, and the next person must never
// see or send them. So a log-out form (POST /logout, a plain form of the
// server's templates) first warns when there are unsent edits, then clears
// that person's records and stops the live session from writing them back.
// Listens on the document (capture), so forms added later are covered too.

export const LOGOUT_PATHS = ['/logout'];

export function isLogoutForm(form, base) {
  if (!form || form.tagName !== 'FORM') return false;
  if ((form.getAttribute('method') ?? 'get').toLowerCase() !== 'post') return false;
  try {
    return LOGOUT_PATHS.includes(new URL(form.getAttribute('action') ?? '', base).pathname);
  } catch {
    return false;
  }
}

export function logoutWarning(count) {
  const where = count === 1 ? 'one document' : `${count} documents`;
  return `You have changes in ${where} that are not saved to the server yet. `
    + 'Logging out deletes them from this browser. Log out anyway?';
}

// unsent() -> number of documents with unsent edits (after saving the live
// ones); confirm(text) -> bool; forget() drops them all.
// Returns the submit listener, for tests.
export function createLogoutGuard({ unsent, confirm, forget, base }) {
  return (event) => {
    if (!isLogoutForm(event.target, base())) return;
    const count = unsent();
    if (count > 0 && !confirm(logoutWarning(count))) {
      event.preventDefault();
      return;
    }
    forget();
  };
}

export function installLogoutGuard(doc, opts) {
  const listener = createLogoutGuard(opts);
  doc.addEventListener('submit', listener, true);
  return listener;
}
