// The ranges of open comment threads painted over the text, never written
// into it (a format would be an op everyone gets): named highlights
// ::highlight(qe-comment) and ::highlight(qe-comment-active) in editor.css
// where the browser has the CSS Custom Highlight API, else boxes laid over
// the editor from Quill's bounds, as the find bar does.

import { h } from '../ui/dom.js';
import { rangeOf } from '../ui/find-highlights.js';

const ALL = 'qe-comment';
const ACTIVE = 'qe-comment-active';

export function createCommentPainter(quill) {
  const supported = typeof CSS !== 'undefined' && CSS.highlights && typeof Highlight === 'function';
  return supported ? highlightPainter(quill) : boxPainter(quill);
}

// ranges: [{id, start, end}]; active: the id of the focused thread or null.
function highlightPainter(quill) {
  function paint(ranges, active) {
    const all = new Highlight();
    const now = new Highlight();
    for (const r of ranges) {
      const range = rangeOf(quill, { index: r.start, length: r.end - r.start });
      if (range) (r.id === active ? now : all).add(range);
    }
    CSS.highlights.set(ALL, all);
    CSS.highlights.set(ACTIVE, now);
  }
  return { paint };
}

function boxPainter(quill) {
  const layer = h('div', { class: 'qe-comment-boxes', 'aria-hidden': 'true' });
  function paint(ranges, active) {
    if (!layer.isConnected) quill.container.append(layer);
    layer.replaceChildren(...ranges.map((r) => {
      const b = quill.getBounds(r.start, r.end - r.start);
      const box = h('div', { class: r.id === active ? 'qe-comment-box qe-comment-box-active' : 'qe-comment-box' });
      Object.assign(box.style, { left: `${b.left}px`, top: `${b.top}px`, width: `${b.width}px`, height: `${b.height}px` });
      return box;
    }));
  }
  return { paint };
}

// The text index under a point (a click on a highlight), through the
// browser's caret hit test.
export function indexAtPoint(quill, x, y) {
  let node = null;
  let offset = 0;
  if (document.caretPositionFromPoint) {
    const p = document.caretPositionFromPoint(x, y);
    node = p?.offsetNode;
    offset = p?.offset ?? 0;
  } else if (document.caretRangeFromPoint) {
    const r = document.caretRangeFromPoint(x, y);
    node = r?.startContainer;
    offset = r?.startOffset ?? 0;
  }
  if (!node || !quill.root.contains(node)) return null;
  const native = document.createRange();
  native.setStart(node, offset);
  const normalized = quill.selection.normalizeNative(native);
  return normalized ? quill.selection.normalizedToRange(normalized).index : null;
}
