// Quire's dashboard: filters the listed documents as you type (Enter searches every page on the server),
// asks before destructive actions, and imports a .md, .txt or .html file as a new document.
(function () {
  'use strict';
  var filter = document.getElementById('filter');
  var table = document.getElementById('docs');
  var noMatch = document.getElementById('no-match');
  if (filter && table) {
    filter.addEventListener('input', function () {
      var needle = filter.value.trim().toLowerCase();
      var shown = 0;
      table.querySelectorAll('tbody tr').forEach(function (row) {
        var match = row.getAttribute('data-title').indexOf(needle) !== -1;
        row.hidden = !match;
        if (match) shown += 1;
      });
      if (noMatch) noMatch.hidden = shown !== 0;
    });
  }
  // Import: send the chosen file's text with its type; the server creates the document and we open it.
  var importFile = document.getElementById('import-file');
  var importError = document.getElementById('import-error');
  if (importFile) {
    importFile.addEventListener('change', function () {
      var file = importFile.files && importFile.files[0];
      if (!file) return;
      var type = importType(file.name);
      if (!type) return showImportError('Choose a .md, .txt or .html file.');
      var csrf = document.querySelector('meta[name="csrf-token"]');
      var title = file.name.replace(/\.[^.]*$/, '');
      file.text().then(function (text) {
        return fetch('/api/docs/import?title=' + encodeURIComponent(title), {
          method: 'POST',
          headers: { 'Content-Type': type + '; charset=utf-8', 'X-CSRF-Token': csrf ? csrf.content : '' },
          body: text,
          credentials: 'same-origin'
        });
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error((body.error && body.error.message) || 'The import failed.');
          window.location.href = '/d/' + encodeURIComponent(body.id);
        });
      }).catch(function (err) {
        showImportError(err.message || 'The import failed.');
      });
    });
  }
  function importType(name) {
    var ext = name.toLowerCase().split('.').pop();
    if (ext === 'md' || ext === 'markdown') return 'text/markdown';
    if (ext === 'txt') return 'text/plain';
    if (ext === 'html' || ext === 'htm') return 'text/html';
    return null;
  }
  function showImportError(message) {
    if (!importError) return;
    importError.textContent = message;
    importError.hidden = false;
  }
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
})();
