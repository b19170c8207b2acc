// Renders the status line computed by status.js: whether the text is saved,
// offline, read-only. Action messages (title saved, downloads) are toasts
// (ui/toast.js) and never replace it.

export function createStatusLine(el) {
  let current = { text: '', kind: '' };

  return {
    set(status) {
      current = status;
      el.textContent = status.text;
      el.dataset.kind = status.kind;
    },
    get current() {
      return current;
    },
  };
}
