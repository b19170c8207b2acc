// Renders the status line computed by status.js, plus short-lived notes
// (title saved, images unavailable) that fall back to the session status.

const FLASH_MS = 4000;

export function createStatusLine(el) {
  let current = { text: '', kind: '' };
  let flashTimer = null;
  let flashing = false;

  function paint(text, kind) {
    el.textContent = text;
    el.dataset.kind = kind;
  }

  return {
    set(status) {
      current = status;
      if (!flashing) paint(status.text, status.kind);
    },
    flash(text, kind = 'note') {
      flashing = true;
      paint(text, kind);
      clearTimeout(flashTimer);
      flashTimer = setTimeout(() => {
        flashing = false;
        paint(current.text, current.kind);
      }, FLASH_MS);
    },
    get current() {
      return current;
    },
  };
}
