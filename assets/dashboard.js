// Quire's dashboard: filters the listed documents as you type (Enter searches every page on the server),
// imports a .md, .txt or .html file as a new document, and runs each row's ⋯ menu.
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
      // The file's name is only the fallback: the server prefers a title the file names itself.
      var name = file.name.replace(/\.[^.]*$/, '');
      file.text().then(function (text) {
        return fetch('/api/docs/import?filename=' + encodeURIComponent(name), {
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
  // Each row's ⋯ menu: one open at a time, closed by a click elsewhere or Escape; Rename focuses its field.
  var menus = document.querySelectorAll('details.row-menu');
  menus.forEach(function (menu) {
    menu.addEventListener('toggle', function () {
      if (!menu.open) return;
      menus.forEach(function (other) { if (other !== menu) other.open = false; });
    });
    var rename = menu.querySelector('details.rename');
    if (rename) {
      rename.addEventListener('toggle', function () {
        var field = rename.querySelector('input[name="title"]');
        if (rename.open && field) { field.focus(); field.select(); }
      });
    }
  });
  document.addEventListener('click', function (event) {
    menus.forEach(function (menu) { if (menu.open && !menu.contains(event.target)) menu.open = false; });
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    menus.forEach(function (menu) {
      if (!menu.open) return;
      menu.open = false;
      menu.querySelector('summary').focus();
    });
  });
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
})();
