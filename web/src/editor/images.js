// Images in the editor (issue 16): files from the toolbar, a paste or a drop
// are uploaded to POST /api/docs/{id}/images with a progress bar, and the
// image goes into the document once the server has it, at the place the
// caret was, moved along by everyone's edits meanwhile. Pasted images from
// another Quire document are uploaded again here (the server keeps one copy);
// images from other sites are not fetched. A click on an image opens a menu
// for its size and alt text.

import Delta from 'quill-delta';
import { h } from '../ui/dom.js';
import { csrfToken, errorOf } from '../api.js';

const ACCEPTED = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
export const SIZES = [
  { label: 'Small', width: '240' },
  { label: 'Medium', width: '480' },
  { label: 'Large', width: '720' },
  { label: 'Original size', width: null },
];

// The path the server serves this document's images at.
export const ownImage = (docId, src) => {
  const m = /^(?:https?:\/\/[^/]+)?\/api\/docs\/([A-Za-z0-9_-]+)\/images\/([0-9a-f]{64})$/.exec(src ?? '');
  return m ? { docId: m[1], hash: m[2], path: `/api/docs/${m[1]}/images/${m[2]}`, here: m[1] === docId } : null;
};

// Uploads one file; `onProgress(fraction)`. Resolves to the server's answer.
export function uploadImage(docId, file, { onProgress = () => {}, token = csrfToken() } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/docs/${encodeURIComponent(docId)}/images`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(JSON.parse(xhr.responseText));
      reject(await errorOf(new Response(xhr.responseText, { status: xhr.status })));
    };
    xhr.onerror = () => reject(new Error('the connection failed'));
    xhr.send(file);
  });
}

// A position in the document that follows everyone's edits until it is used.
function trackedIndex(quill, index) {
  const spot = { index };
  const follow = (delta) => { spot.index = delta.transformPosition(spot.index); };
  quill.on('text-change', follow);
  spot.release = () => quill.off('text-change', follow);
  return spot;
}

// The progress bar under the toolbar while uploads run.
function createProgress(parent) {
  const bar = h('progress', { max: 1, value: 0 });
  const label = h('span', { class: 'qe-upload-label' });
  const box = h('div', { class: 'qe-upload', role: 'status', 'aria-live': 'polite', hidden: true }, label, bar);
  parent.append(box);
  let running = 0;
  return {
    start(name) {
      running += 1;
      box.hidden = false;
      label.textContent = `Uploading ${name}…`;
      bar.value = 0;
    },
    progress(fraction) { bar.value = fraction; },
    done() {
      running -= 1;
      if (running <= 0) box.hidden = true;
    },
  };
}

export function installImages(quill, { docId, canEdit, flash, progressParent }) {
  const progress = createProgress(progressParent ?? quill.container.parentElement);

  async function uploadAt(index, file) {
    if (!canEdit()) return;
    if (!ACCEPTED.includes(file.type)) {
      flash(`${file.name || 'That file'} is not a PNG, JPEG, GIF or WebP image`, 'error');
      return;
    }
    const spot = trackedIndex(quill, index);
    progress.start(file.name || 'image');
    try {
      const { url } = await uploadImage(docId, file, { onProgress: (f) => progress.progress(f) });
      const at = Math.min(spot.index, quill.getLength() - 1);
      quill.updateContents(new Delta().retain(at).insert({ image: url }), 'user');
      quill.setSelection(at + 1, 0, 'silent');
    } catch (err) {
      flash(`Could not upload the image: ${err.message}`, 'error');
    } finally {
      spot.release();
      progress.done();
    }
  }

  async function uploadAll(index, files) {
    for (const file of files) await uploadAt(index, file);
  }

  // Toolbar (Quill's file picker), drop and pasted files all arrive here.
  const uploader = quill.getModule('uploader');
  if (uploader) uploader.options.handler = (range, files) => { uploadAll(range.index, [...files]); };

  // An <img> in pasted HTML: this document's images stay as they are; another
  // Quire document's (or a data: URL) is copied here; another site's is not fetched.
  function pastedImage(node, delta) {
    const src = node.getAttribute('src') ?? '';
    const own = ownImage(docId, src);
    if (own?.here) return new Delta().insert({ image: own.path });
    if (own || src.startsWith('data:image/')) {
      const index = quill.getSelection()?.index ?? quill.getLength() - 1;
      fetch(own ? own.path : src, { credentials: 'same-origin' })
        .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`))))
        .then((blob) => uploadAt(index, new File([blob], 'pasted image', { type: blob.type })))
        .catch((err) => flash(`Could not copy the image: ${err.message}`, 'error'));
      return new Delta();
    }
    if (src) flash('Images from other sites are not copied: save the file and upload it', 'error');
    return delta.length() ? new Delta() : delta;
  }
  quill.clipboard.addMatcher('IMG', pastedImage);

  installImageMenu(quill, { canEdit });
}

// Click an image: a small menu with its sizes and its alt text.
function installImageMenu(quill, { canEdit }) {
  const menu = h('div', { class: 'qe-image-menu', role: 'toolbar', 'aria-label': 'Image', hidden: true });
  quill.container.append(menu);
  let target = null;

  const close = () => { menu.hidden = true; target = null; };
  const indexOf = (img) => quill.getIndex(quill.constructor.find(img));
  const format = (name, value) => {
    if (!target) return;
    quill.formatText(indexOf(target), 1, name, value, 'user');
  };

  for (const size of SIZES) {
    menu.append(h('button', {
      type: 'button', text: size.label, 'data-width': size.width ?? '',
      onclick: () => { format('width', size.width ?? false); close(); },
    }));
  }
  menu.append(h('button', {
    type: 'button', text: 'Alt text…', class: 'qe-image-alt',
    onclick: () => {
      const current = target?.getAttribute('alt') ?? '';
      const alt = window.prompt('Describe the image for people who cannot see it', current);
      if (alt !== null) format('alt', alt.trim() || false);
      close();
    },
  }));

  quill.root.addEventListener('click', (e) => {
    const img = e.target.closest?.('img');
    if (!img || !canEdit()) return close();
    target = img;
    menu.hidden = false;
    menu.style.top = `${img.offsetTop + img.offsetHeight + 4}px`;
    menu.style.left = `${img.offsetLeft}px`;
  });
  quill.root.addEventListener('keydown', close);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  quill.on('text-change', () => { if (target && !target.isConnected) close(); });
}
