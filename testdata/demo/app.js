// First-party script of the demo site: strictly necessary, never filtered.
document.addEventListener('DOMContentLoaded', function () {
  var el = document.querySelector('.consent-state');
  if (!el) return;
  var m = document.cookie.match(/(?:^|;\s*)consent=([^;]*)/);
  el.insertAdjacentText('beforeend', ' Your consent cookie: ' + (m ? '"' + m[1] + '"' : 'none (only necessary)') + '.');
});
