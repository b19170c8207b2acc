// Shows the find bar's matches without touching the document: formatting
// them would be an op that everyone gets. Where the browser has the CSS
// Custom Highlight API (Chromium, Safari 17.2, Firefox 140) the matches are
// named highlights over the text (::highlight(qe-find) and
// ::highlight(qe-find-current) in editor.css); elsewhere they are boxes laid
// over the editor from Quill's bounds.

import { h } from './dom.js';

const ALL = 'qe-find';
const CURRENT = 'qe-find-current';

export function createMatchPainter(quill) {
  const supported = typeof CSS !== 'undefined' && CSS.highlights && typeof Highlight === 'function';
  return supported ? highlightPainter(quill) : boxPainter(quill);
}

// The text node and offset of a match's start or end, always inside a leaf
// that holds one of the match's own characters. Quill's lines look leaves
// up inclusively: getLeaf(i) is the leaf in which position i is reached, so
// at a format boundary it is the leaf before, ending there.
function textPoint(quill, index, { end = false } = {}) {
  const [leaf, offset] = quill.getLeaf(end ? index : index + 1);
  if (!leaf || leaf.domNode.nodeType !== Node.TEXT_NODE) return null;
  return [leaf.domNode, end ? offset : offset - 1];
}

export function rangeOf(quill, { index, length }) {
  const start = textPoint(quill, index);
  const end = textPoint(quill, index + length, { end: true });
  if (!start || !end) return null;
  const range = document.createRange();
  range.setStart(...start);
  range.setEnd(...end);
  return range;
}

function highlightPainter(quill) {
  function paint(matches, current) {
    const all = new Highlight();
    const now = new Highlight();
    matches.forEach((m, i) => {
      const range = rangeOf(quill, m);
      if (range) (i === current ? now : all).add(range);
    });
    CSS.highlights.set(ALL, all);
    CSS.highlights.set(CURRENT, now);
  }
  function clear() {
    CSS.highlights.delete(ALL);
    CSS.highlights.delete(CURRENT);
  }
  return { paint, clear };
}

// Boxes in quill.container (positioned by the snow theme), drawn again when
// the window's width changes the line breaks.
function boxPainter(quill) {
  const layer = h('div', { class: 'qe-find-boxes', 'aria-hidden': 'true' });
  let last = null;
  function paint(matches, current) {
    last = [matches, current];
    if (!layer.isConnected) quill.container.append(layer);
    layer.replaceChildren(...matches.map((m, i) => {
      const b = quill.getBounds(m.index, m.length);
      const box = h('div', { class: i === current ? 'qe-find-box qe-find-box-current' : 'qe-find-box' });
      Object.assign(box.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
      return box;
    }));
  }
  function clear() {
    last = null;
    layer.remove();
  }
  window.addEventListener('resize', () => last && paint(...last));
  return { paint, clear };
}
