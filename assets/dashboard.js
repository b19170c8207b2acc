// Quire's dashboard: filters the listed documents as you type (Enter searches every page on the server),
// and asks before destructive actions.
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
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
})();
