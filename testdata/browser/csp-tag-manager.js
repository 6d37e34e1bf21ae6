// A tag manager's container served first party (the browser suite's CSP
// backstop test): it injects the Meta pixel at run time. The host is decoded
// at run time so that no static reading of the page or this file names it;
// only the Content-Security-Policy can stop the request.
(function () {
  var host = atob('Y29ubmVjdC5mYWNlYm9vay5uZXQ='); // connect.facebook.net
  var s = document.createElement('script');
  s.async = true;
  s.src = 'https://' + host + '/en_US/fbevents.js';
  document.head.appendChild(s);
  window.__tagManagerRan = true;
})();
