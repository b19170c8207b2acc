// Behaviour every server-rendered page may use: <time data-local> shows its moment in the reader's own time
// zone and language (the server only knows UTC), and a form with data-confirm asks before it is sent.
(function () {
  'use strict';
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  document.querySelectorAll('time[data-local]').forEach(function (time) {
    var at = new Date(time.getAttribute('datetime'));
    if (isNaN(at.getTime())) return;
    time.title = time.textContent;
    time.textContent = format.format(at);
  });
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
})();
