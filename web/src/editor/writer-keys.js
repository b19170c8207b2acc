// The keys of the writer tools (find, find and replace, the shortcuts help):
// one table that the key handler (ui/writer-tools.js) and the shortcuts help
// (ui/shortcuts-help.js) both read, so the help never names a key that does
// nothing. Ctrl on Windows and Linux, ⌘ on a Mac, as toolbar.js decides.

export const WRITER_KEYS = [
  { action: 'find', name: 'Find', key: 'f' },
  // ⌘H hides the application on a Mac before the page sees it: ⌘⇧H there,
  // as in Google Docs.
  { action: 'replace', name: 'Find and replace', key: 'h', macShift: true },
  { action: 'help', name: 'Keyboard shortcuts (this list)', key: '/' },
];

// The action of a keydown, or null. "/" is Shift+7 on some keyboards, so
// Shift does not matter for it.
export function writerAction(event, { mac = false } = {}) {
  const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  if (!mod || event.altKey) return null;
  const key = event.key?.toLowerCase();
  const entry = WRITER_KEYS.find((k) => k.key === key
    && (k.key === '/' || event.shiftKey === Boolean(mac && k.macShift)));
  return entry?.action ?? null;
}

export function writerKeyText(action, { mac = false } = {}) {
  const entry = WRITER_KEYS.find((k) => k.action === action);
  const key = entry.key.toUpperCase();
  if (!mac) return `Ctrl+${key}`;
  return entry.macShift ? `⌘⇧${key}` : `⌘${key}`;
}
