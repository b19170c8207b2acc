// The editable title, saved with PATCH /api/docs/{id} {title}: same-origin
// fetch with the session cookie and the CSRF token of the page's meta tag.

const SAVE_DELAY_MS = 800;

export function csrfToken(doc = document) {
  return doc.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
}

// `backToText` gives focus back to the document (Enter or Escape in the title).
export function createTitle({ input, docId, initial, readOnly, flash, backToText = () => input.blur(), fetchImpl = fetch }) {
  let saved = initial;
  let timer = null;
  input.value = initial;
  input.placeholder = 'Untitled';
  setReadOnly(readOnly);
  setDocumentTitle(initial);

  async function save() {
    clearTimeout(timer);
    timer = null;
    const title = input.value.trim();
    if (title === saved || input.readOnly) return;
    try {
      const res = await fetchImpl(`/api/docs/${encodeURIComponent(docId)}`, {
        method: 'PATCH',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
        body: JSON.stringify({ title }),
      });
      if (!res.ok) {
        let message = `HTTP ${res.status}`;
        try {
          message = (await res.json())?.error?.message ?? message;
        } catch {
          // not JSON: keep the status
        }
        throw new Error(message);
      }
      saved = title;
      setDocumentTitle(title);
      input.classList.remove('qe-title-error');
      flash('Title saved');
    } catch (e) {
      input.classList.add('qe-title-error');
      flash(`Could not rename: ${e.message}`, 'error');
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  });
  input.addEventListener('change', save);
  // Enter keeps the title and goes on to the text, as in Google Docs; Escape
  // puts the saved title back first. Leaving the field fires `change`, which
  // saves, so neither key saves itself (that would save twice).
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      backToText();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      input.value = saved;
      backToText();
    }
  });

  function setReadOnly(ro) {
    input.readOnly = ro;
  }

  function setDocumentTitle(t) {
    document.title = `${t || 'Untitled'} · Quire`;
  }

  return { setReadOnly };
}
