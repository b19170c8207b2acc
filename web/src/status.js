// The status line as a pure function of the session state, so every
// combination is unit-tested and the DOM code only renders the result.
//
// input: {
//   conn: 'connecting' | 'open' | 'closed' | 'fatal',
//   synced: bool      welcomed and caught up
//   pending: bool     local edits not yet confirmed by the server
//   readOnly: bool
//   notice: string    a transient or error message (highest priority)
//   fatalText: string the reason when conn is 'fatal'
//   loaded: bool      a document was ever shown (else "Connecting…")
// }
// output: { text, kind } with kind in saved|saving|offline|reconnecting|readonly|error

export function statusLine(s) {
  if (s.conn === 'fatal') return { text: s.fatalText || 'Disconnected. Reload the page.', kind: 'error' };
  if (s.notice) return { text: s.notice, kind: 'error' };
  const up = s.conn === 'open' && s.synced;
  if (s.readOnly) return { text: up ? 'Read-only' : 'Read-only · Reconnecting…', kind: 'readonly' };
  if (!up && s.pending) return { text: 'Offline, your changes will sync', kind: 'offline' };
  if (!up) return { text: s.loaded ? 'Reconnecting…' : 'Connecting…', kind: 'reconnecting' };
  if (s.pending) return { text: 'Saving…', kind: 'saving' };
  return { text: 'Saved', kind: 'saved' };
}
