// Downloads of the document (PROTOCOL.md §4 GET /api/docs/{id}/content):
// formats, file names from the title. Pure.

export const FORMATS = {
  text: { label: 'Text', ext: 'txt', type: 'text/plain;charset=utf-8' },
  html: { label: 'HTML', ext: 'html', type: 'text/html;charset=utf-8' },
  markdown: { label: 'Markdown', ext: 'md', type: 'text/markdown;charset=utf-8' },
};

// A file name every desktop and phone OS accepts: no path separators,
// reserved or control characters, no leading/trailing dots or spaces, not a
// Windows device name, at most 100 characters before the extension.
export function fileName(title, format) {
  const f = FORMATS[format];
  if (!f) throw new Error(`unknown format ${format}`);
  let base = String(title ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(base)) base = `${base}_`;
  // Cut by code points, never inside a surrogate pair.
  base = Array.from(base).slice(0, 100).join('').trim();
  return `${base || 'Untitled'}.${f.ext}`;
}

export function contentPath(docId, format) {
  return `/api/docs/${encodeURIComponent(docId)}/content?format=${encodeURIComponent(format)}`;
}
