// "Restored": the history page's restore form lands on the editor with ?restored=1. Say it once, and take the
// query off the address so that a reload or a shared address does not say it again.

export const RESTORED_MESSAGE = 'Restored. The text before it is kept in the version history.';

export function announceRestore(say, { location = window.location, history = window.history } = {}) {
  const url = new URL(location.href);
  if (!url.searchParams.has('restored')) return false;
  url.searchParams.delete('restored');
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  say(RESTORED_MESSAGE);
  return true;
}
