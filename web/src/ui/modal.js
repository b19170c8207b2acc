// A modal <dialog> with the behaviour every Quire dialog needs: Esc closes
// (the native cancel event), Tab and Shift+Tab stay inside, focus goes back
// to what opened it, and a click on the backdrop closes it.

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((el) => !el.closest('[hidden]') && el.getClientRects().length > 0);
}

export function makeModal(dialog, { onClose } = {}) {
  let opener = null;
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const els = focusables(dialog);
    if (!els.length) return;
    const first = els[0];
    const last = els[els.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  // The <dialog> element itself is the backdrop's hit target.
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) close();
  });
  dialog.addEventListener('close', () => {
    onClose?.();
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  });

  function open(focusEl) {
    opener = document.activeElement;
    if (!dialog.open) {
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
    }
    (focusEl ?? focusables(dialog)[0])?.focus();
  }
  function close() {
    if (!dialog.open) return;
    if (typeof dialog.close === 'function') dialog.close();
    else {
      dialog.removeAttribute('open');
      dialog.dispatchEvent(new Event('close'));
    }
  }
  return { open, close, get isOpen() { return dialog.open; } };
}

export async function copyText(text, fallbackInput) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallbackInput) return false;
    fallbackInput.focus();
    fallbackInput.select();
    try {
      return document.execCommand?.('copy') ?? false;
    } catch {
      return false;
    }
  }
}
