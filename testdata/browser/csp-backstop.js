// A first-party script of the browser suite's CSP backstop test: it reaches
// a denied tracker host in each way the markup filter cannot see, as a tag
// would at run time. The hosts are decoded at run time so that no static
// reading of the page or this file names them. window.__backstop collects
// what each way reported: the worker's results, and the CSP violations the
// page saw.
(function () {
  var url = function (b64, path) { return 'https://' + atob(b64) + path; };
  var done = window.__backstop = { violations: [] };
  document.addEventListener('securitypolicyviolation', function (e) {
    done.violations.push(e.effectiveDirective + ' ' + e.blockedURI);
  });
  var inject = function () {
    var link = document.createElement('link'); // static.hotjar.com
    link.rel = 'prefetch';
    link.href = url('c3RhdGljLmhvdGphci5jb20=', '/c/hotjar-1.js');
    document.head.appendChild(link);
    var audio = document.createElement('audio'); // www.clarity.ms
    audio.preload = 'auto';
    audio.src = url('d3d3LmNsYXJpdHkubXM=', '/a.mp3');
    document.body.appendChild(audio);
    var video = document.createElement('video'); // bat.bing.com
    video.preload = 'auto';
    video.src = url('YmF0LmJpbmcuY29t', '/v.mp4');
    document.body.appendChild(video);
    // A first-party worker: its own policy comes from its script's
    // response (csp-backstop-worker.js).
    var worker = new Worker('/browser/csp-backstop-worker.js');
    worker.onmessage = function (e) { done.worker = e.data; };
    worker.onerror = function (e) { done.worker = { error: String(e.message) }; };
    // A blob: worker inherits the page's policy. connect.facebook.net
    var src = 'fetch(' + JSON.stringify(url('Y29ubmVjdC5mYWNlYm9vay5uZXQ=', '/en_US/fbevents.js')) + ')' +
      '.then(function () { postMessage("fetched"); }, function (e) { postMessage(e.name); });';
    var blob = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    blob.onmessage = function (e) { done.blobWorker = e.data; };
    blob.onerror = function (e) { done.blobWorker = 'error: ' + e.message; };
    done.injected = true;
  };
  if (document.body) {
    inject();
  } else {
    document.addEventListener('DOMContentLoaded', inject);
  }
})();
