// The outline (issue 16): a side list of the document's headings (levels 1
// to 3, indented by level) that follows every change, other people's too. A
// click puts the caret at the start of that heading and brings it into view.
// Shown or hidden with the status bar's Outline button; the choice is kept
// in localStorage. At phone width it starts hidden and, when shown, lies
// over the text instead of narrowing it (editor.css), and a click on a
// heading hides it again.

import { h } from './dom.js';
import { headingsOf, sameHeadings } from '../editor/outline.js';

const KEY = 'quire.outline';
const PHONE = '(max-width: 700px)';

let seq = 0;

export function createOutline({ root, parent, toggle, quill, storage }) {
  const uid = `qe-outline-${++seq}`;
  const list = h('ol', { class: 'qe-outline-list' });
  const empty = h('p', { class: 'qe-outline-empty', text: 'Headings you add appear here' });
  const hide = h('button', { type: 'button', class: 'qe-outline-close', 'aria-label': 'Hide outline', title: 'Hide outline', text: '×', onclick: () => setShown(false, { focus: true }) });
  const panel = h('nav', { class: 'qe-outline', id: uid, 'aria-labelledby': `${uid}-h` },
    h('div', { class: 'qe-outline-head' }, h('h2', { id: `${uid}-h`, text: 'Outline' }), hide),
    list, empty);
  parent.append(panel);
  toggle.setAttribute('aria-controls', uid);
  toggle.addEventListener('click', () => setShown(!isShown(), { focus: false }));

  const phone = () => window.matchMedia?.(PHONE).matches ?? false;
  let shown = false;
  let headings = [];

  function isShown() {
    return shown;
  }

  function setShown(on, { focus = false, remember = true } = {}) {
    shown = on;
    root.classList.toggle('qe-outline-open', on);
    panel.hidden = !on;
    toggle.setAttribute('aria-expanded', String(on));
    // A phone's choice is for the moment: it should not hide the outline on a desktop.
    if (remember && !phone()) {
      try {
        storage?.setItem(KEY, on ? 'shown' : 'hidden');
      } catch {
        // storage full or refused: the choice lasts for this page only
      }
    }
    if (on && phone()) list.querySelector('button')?.focus();
    else if (focus) toggle.focus();
  }

  function render() {
    const next = headingsOf(quill.getContents().ops);
    if (sameHeadings(next, headings) && list.childElementCount === next.length) return;
    headings = next;
    list.replaceChildren(...headings.map((hd) => h('li', { class: `qe-outline-item qe-outline-l${hd.level}` },
      h('button', { type: 'button', 'data-index': hd.index, title: hd.text, text: hd.text, onclick: () => jump(hd) }))));
    empty.hidden = headings.length > 0;
  }

  // The caret to the heading's start; the heading to the top of the window
  // (scroll-margin-top in editor.css keeps it clear of the sticky bars).
  function jump(heading) {
    quill.setSelection(heading.index, 0, 'user');
    const [line] = quill.getLine(heading.index);
    line?.domNode?.scrollIntoView?.({ block: 'start' });
    if (phone()) setShown(false, { remember: false });
  }

  let stored = null;
  try {
    stored = storage?.getItem(KEY);
  } catch {
    stored = null;
  }
  setShown(phone() ? false : stored !== 'hidden', { remember: false });
  render();
  quill.on('text-change', render);

  return { render, setShown, panel, get shown() { return shown; }, get headings() { return headings; } };
}
