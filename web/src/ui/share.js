// The Share button's hook. Two ways to take it over:
//   listen for the cancelable "quire:share" event on #quire-editor
//   (detail = ctx: {docId, role, button}) and call preventDefault();
//   or, in code holding the page's parts (main.js, the tests' build with
//   window.__quire), share.setHandler((ctx) => { … }).
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
