// The link popover (issue 19, item 7), in place of Quill's snow tooltip,
// which sat half outside the page at the left edge, used its own font and
// put the selected text in the URL box. Two modes, as in Google Docs:
//   preview: a caret in a link shows the URL (opens in a new tab), Edit and
//            Remove;
//   edit:    Ctrl+K or the toolbar's link button: a "Text" field (the
//            selection, or the link's text) and a "Link" field (empty for a
//            new link, else its URL), applied as one change with source
//            'user', so it is sent, undone and transformed like typing.
// Both stay inside the window (popover-place.js). URLs go through
// normalizeLink: javascript: and other schemes are refused, not linked.

import { h } from '../ui/dom.js';
import { normalizeLink } from './links.js';
import { linkAt, linkDelta } from './link-edits.js';
import { placePopover } from './popover-place.js';

const REFUSED = 'Only http, https and mailto links are allowed.';
const editors = new WeakMap();

// Ctrl+K (Cmd+K): bound in the Quill config so it runs before the snow
// theme's own Ctrl+K, which would open the old tooltip or drop the link.
export function linkEditorBindings() {
  return {
    'quire link editor': {
      key: 'k',
      shortKey: true,
      handler() {
        editors.get(this.quill)?.edit();
        return false;
      },
    },
  };
}

let seq = 0;

export function installLinkEditor(quill) {
  retireSnowTooltip(quill);
  const ids = `qe-link-${++seq}`;
  const view = buildPreview();
  const form = buildForm(ids);
  const pop = h('div', { class: 'qe-link-pop', role: 'dialog', 'aria-label': 'Link', hidden: true }, view.el, form.el);
  // Inside the page's root, so it has the page's colours and font.
  (quill.container.closest('.qe-root') ?? document.body).append(pop);

  // What the popover is about: {index, length, text, url} in the document.
  let target = null;

  function show(mode) {
    pop.dataset.mode = mode;
    view.el.hidden = mode !== 'preview';
    form.el.hidden = mode !== 'edit';
    pop.hidden = false;
    place();
    document.addEventListener('pointerdown', outside, true);
  }
  function hide() {
    if (pop.hidden) return;
    pop.hidden = true;
    target = null;
    document.removeEventListener('pointerdown', outside, true);
  }
  function outside(e) {
    if (!pop.contains(e.target)) hide();
  }
  // Below (or above) the text, measured after it is shown so its real size counts.
  function place() {
    if (!target) return;
    const bounds = quill.getBounds(target.index, target.length);
    if (!bounds) return;
    const box = quill.container.getBoundingClientRect();
    const anchor = { left: box.left + bounds.left, top: box.top + bounds.top, bottom: box.top + bounds.bottom };
    const size = { width: pop.offsetWidth, height: pop.offsetHeight };
    const at = placePopover(anchor, size, { width: document.documentElement.clientWidth, height: window.innerHeight });
    moveTo(at);
  }

  // Absolute, so it scrolls with the text; whatever its containing block,
  // one measurement corrects its offset to the viewport position wanted.
  function moveTo(at) {
    pop.style.left = `${at.left + window.scrollX}px`;
    pop.style.top = `${at.top + window.scrollY}px`;
    const got = pop.getBoundingClientRect();
    pop.style.left = `${at.left + window.scrollX + (at.left - got.left)}px`;
    pop.style.top = `${at.top + window.scrollY + (at.top - got.top)}px`;
  }

  function preview(link) {
    target = link;
    view.url.textContent = link.url;
    view.url.href = link.url;
    view.edit.hidden = view.remove.hidden = !quill.isEnabled();
    show('preview');
  }

  // Ctrl+K or the toolbar: the link under the caret, else the selection.
  function edit() {
    if (!quill.isEnabled()) return;
    const range = quill.getSelection(true);
    const link = range.length === 0 ? linkInLine(range.index) : null;
    if (link) target = link;
    else {
      const format = quill.getFormat(range);
      target = { ...range, text: quill.getText(range), url: typeof format.link === 'string' ? format.link : '' };
    }
    openForm();
  }
  function openForm() {
    // A selection over several paragraphs cannot become one line of text:
    // only the link is set on it.
    const multiline = target.text.includes('\n');
    form.textRow.hidden = multiline;
    form.text.value = multiline ? '' : target.text;
    form.url.value = target.url;
    form.error.textContent = '';
    show('edit');
    // Text to type first only when there is none yet.
    (target.text ? form.url : form.text).focus();
  }

  function apply() {
    const url = normalizeLink(form.url.value);
    if (!url) {
      form.error.textContent = REFUSED;
      form.url.setAttribute('aria-invalid', 'true');
      form.url.focus();
      return;
    }
    form.url.removeAttribute('aria-invalid');
    const edited = target;
    const { index, length } = edited;
    const text = form.text.value.replace(/[\r\n]+/g, ' ');
    const multiline = form.textRow.hidden;
    hide();
    if (multiline) {
      // Quill's formatText keeps the link off the line ends between paragraphs.
      quill.formatText(index, length, 'link', url, 'user');
    } else {
      const formats = inlineFormats(quill.getFormat(index, length));
      quill.updateContents(linkDelta({ ...edited, formats }, { text, url }), 'user');
    }
    const end = index + (multiline ? length : (text || url).length);
    quill.focus();
    quill.setSelection(end, 0, 'api');
  }

  function remove() {
    const { index, length } = target;
    hide();
    quill.formatText(index, length, 'link', false, 'user');
    quill.focus();
    quill.setSelection(index + length, 0, 'api');
  }

  function cancel() {
    const range = target;
    hide();
    quill.focus();
    if (range) quill.setSelection(range.index, range.length, 'api');
  }

  // The link's run in the caret's line (a link never crosses a line end).
  function linkInLine(index) {
    const [line, offset] = quill.getLine(index);
    if (!line) return null;
    const start = index - offset;
    const link = linkAt(quill.getContents(start, line.length()).ops, offset);
    return link && { ...link, index: link.index + start };
  }

  view.edit.addEventListener('click', () => openForm());
  view.remove.addEventListener('click', () => remove());
  form.el.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  form.cancel.addEventListener('click', () => cancel());
  pop.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    cancel();
  });

  quill.on('selection-change', (range, _old, source) => {
    if (!range || source !== 'user') return; // null: focus went elsewhere, maybe into the popover
    const link = range.length === 0 ? linkInLine(range.index) : null;
    if (link) preview(link);
    else hide();
  });
  // Someone else's edit moves the text the popover is about.
  quill.on('text-change', (delta, _old, source) => {
    if (!target || source === 'user') return;
    const start = delta.transformPosition(target.index);
    const end = delta.transformPosition(target.index + target.length);
    target = { ...target, index: start, length: end - start };
    place();
  });
  window.addEventListener('resize', () => place());

  quill.getModule('toolbar')?.addHandler('link', () => edit());
  const api = { edit, hide, element: pop };
  editors.set(quill, api);
  return api;
}

// Quill builds the snow tooltip and keeps listening for carets in links; it
// must never show itself (this popover does that job now).
function retireSnowTooltip(quill) {
  const tooltip = quill.theme?.tooltip;
  if (!tooltip) return;
  tooltip.show = () => {};
  tooltip.root.classList.add('ql-hidden');
}

function inlineFormats(all) {
  const out = {};
  for (const name of ['bold', 'italic', 'underline', 'strike', 'code']) if (all[name] === true) out[name] = true;
  return out;
}

function buildPreview() {
  const url = h('a', { class: 'qe-link-url', target: '_blank', rel: 'noopener noreferrer' });
  const edit = h('button', { type: 'button', class: 'qe-link-btn', text: 'Edit' });
  const remove = h('button', { type: 'button', class: 'qe-link-btn', text: 'Remove' });
  return { el: h('div', { class: 'qe-link-view' }, url, edit, remove), url, edit, remove };
}

function buildForm(ids) {
  const text = h('input', { id: `${ids}-text`, type: 'text', class: 'qe-link-text', autocomplete: 'off' });
  const url = h('input', {
    id: `${ids}-url`, type: 'text', class: 'qe-link-input', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'Paste or type a link', 'aria-describedby': `${ids}-error`,
  });
  const error = h('p', { id: `${ids}-error`, class: 'qe-link-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'qe-link-btn', text: 'Cancel' });
  const textRow = h('div', { class: 'qe-link-row' }, h('label', { for: text.id, text: 'Text' }), text);
  const el = h('form', { class: 'qe-link-form', novalidate: true },
    textRow,
    h('div', { class: 'qe-link-row' }, h('label', { for: url.id, text: 'Link' }), url),
    error,
    h('div', { class: 'qe-link-foot' }, cancel, h('button', { type: 'submit', class: 'qe-link-apply', text: 'Apply' })));
  return { el, text, url, error, cancel, textRow };
}
