// The first-party worker of csp-backstop.js: it loads a script with
// importScripts() and calls fetch(), each to a denied tracker host, and
// posts back what each did.
var url = function (b64, path) { return 'https://' + atob(b64) + path; };
var result = {};
try {
  importScripts(url('c25hcC5saWNkbi5jb20=', '/li.lms-analytics/insight.min.js')); // snap.licdn.com
  result.importScripts = 'loaded';
} catch (e) {
  result.importScripts = e.name;
}
fetch(url('YW5hbHl0aWNzLnRpa3Rvay5jb20=', '/i18n/pixel/events.js')) // analytics.tiktok.com
  .then(function () { result.fetch = 'fetched'; }, function (e) { result.fetch = e.name; })
  .then(function () { postMessage(result); });
