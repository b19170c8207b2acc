// The Share button's hook. Two ways to take it over:
//   window.__quire.share.setHandler((ctx) => { … })   ctx: {docId, role, button}
//   or listen for the cancelable "quire:share" event on #quire-editor
//   (detail = ctx) and call preventDefault().
// main.js installs the Share dialog (share-dialog.js) as the default handler.

export function createShare({ root, button, docId, role, flash }) {
  let handler = null;
  const ctx = { docId, role, button };
  button.addEventListener('click', () => {
    const ev = new CustomEvent('quire:share', { bubbles: true, cancelable: true, detail: ctx });
    if (!root.dispatchEvent(ev)) return;
    if (handler) handler(ctx);
    else flash('Sharing is not available yet.');
  });
  return {
    setHandler(fn) {
      handler = fn;
    },
    button,
  };
}
