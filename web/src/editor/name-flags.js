// Names above remote carets: shown when that person types or moves, hidden
// again NAME_MS after their last activity (the CSS fades it out), as Google
// Docs does. Only the timing lives here; show/hide touch the DOM.

export const NAME_MS = 1500; // plus quill-cursors' hideDelayMs before the fade

export function createNameFlags({ show, hide, ms = NAME_MS, setTimeout = globalThis.setTimeout, clearTimeout = globalThis.clearTimeout }) {
  const timers = new Map();
  return {
    // The person behind `id` just did something: name on, timer restarted.
    active(id) {
      if (timers.has(id)) clearTimeout(timers.get(id));
      show(id);
      timers.set(id, setTimeout(() => {
        timers.delete(id);
        hide(id);
      }, ms));
    },
    // Their cursor is gone: no timer may touch it any more.
    forget(id) {
      if (timers.has(id)) clearTimeout(timers.get(id));
      timers.delete(id);
    },
    get showing() {
      return [...timers.keys()];
    },
  };
}
