// Paints who wrote what as tinted boxes laid over the editor, never by
// formatting the document (that would be an op everyone gets): one box per
// line fragment of each author's run, from the browser's layout of the text,
// in a layer inside quill.container. Unknown authors are left unpainted.

import { h } from '../ui/dom.js';

// '#rrggbb' with an alpha.
export function tint(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// The text node and offset at a Quill index, inside a leaf holding one of
// the fragment's own characters (as ui/find-highlights.js does).
function textPoint(quill, index, end) {
  const [leaf, offset] = quill.getLeaf(end ? index : index + 1);
  if (!leaf || leaf.domNode.nodeType !== Node.TEXT_NODE) return null;
  return [leaf.domNode, end ? offset : offset - 1];
}

// The client rects of [index, index + length) on one line.
function fragmentRects(quill, index, length) {
  const start = textPoint(quill, index, false);
  const end = textPoint(quill, index + length, true);
  if (start && end) {
    const range = document.createRange();
    range.setStart(...start);
    range.setEnd(...end);
    return [...range.getClientRects()];
  }
  // An embed: Quill's bounds, relative to its container already.
  const b = quill.getBounds(index, length);
  const box = quill.container.getBoundingClientRect();
  return b ? [{ left: b.left + box.left, top: b.top + box.top, width: b.width, height: b.height }] : [];
}

export function createAuthorsOverlay(quill) {
  const layer = h('div', { class: 'qe-author-boxes', 'aria-hidden': 'true' });

  // spans: [[length, author]]; colorOf(author) -> '#rrggbb'.
  function paint(spans, colorOf) {
    if (!layer.isConnected) quill.container.append(layer);
    const origin = quill.container.getBoundingClientRect();
    const text = quill.getText(0, quill.getLength());
    const boxes = [];
    let index = 0;
    for (const [len, author] of spans) {
      if (author) {
        // Line by line: a range across a line break would cover the margin.
        let at = index;
        for (const part of text.slice(index, index + len).split('\n')) {
          if (part.length > 0) {
            for (const r of fragmentRects(quill, at, part.length)) {
              if (r.width <= 0) continue;
              const box = h('div', { class: 'qe-author-box', 'data-author': author });
              Object.assign(box.style, {
                left: `${r.left - origin.left}px`, top: `${r.top - origin.top}px`,
                width: `${r.width}px`, height: `${r.height}px`, background: tint(colorOf(author), 0.28),
              });
              boxes.push(box);
            }
          }
          at += part.length + 1;
        }
      }
      index += len;
    }
    layer.replaceChildren(...boxes);
  }

  function clear() {
    layer.replaceChildren();
    layer.remove();
  }

  return { paint, clear };
}
