// A stand-in for the runtimes of page-speed tools, lazy loaders and consent
// tools (WP Rocket, LiteSpeed Cache, Perfmatters, WP Meteor, Flying Scripts,
// Rocket Loader, NitroPack, Partytown, lazysizes, lozad, cookieconsent,
// Klaro, OneTrust, Cookiebot): on DOMContentLoaded it revives every parked
// load at once, as they do on the first interaction, on scroll or on
// consent. The browser suite loads the parked-*.html pages with it, so that
// what the filter leaves parked is what the browser then loads.
(function () {
  'use strict';

  // HTML's JavaScript MIME type essences, and "module".
  var jsTypes = ['', 'module', 'application/ecmascript', 'application/javascript',
    'application/x-ecmascript', 'application/x-javascript', 'text/ecmascript',
    'text/javascript', 'text/javascript1.0', 'text/javascript1.1', 'text/javascript1.2',
    'text/javascript1.3', 'text/javascript1.4', 'text/javascript1.5', 'text/jscript',
    'text/livescript', 'text/x-ecmascript', 'text/x-javascript'];
  var typeAttrs = ['data-type', 'data-rocket-type', 'data-wpmeteor-type', 'data-perfmatters-type'];
  var srcAttrs = ['src', 'data-src', 'data-rocket-src', 'data-wpmeteor-src', 'data-lazy-src', 'data-litespeed-src'];

  function isJS(type) {
    return jsTypes.indexOf((type || '').trim().toLowerCase()) >= 0;
  }

  function first(el, names) {
    for (var i = 0; i < names.length; i++) {
      var v = el.getAttribute(names[i]);
      if (v !== null && v !== '') {
        return v;
      }
    }
    return null;
  }

  // The type the tool restores: the one it kept aside, when it is one the
  // browser runs (Flying Scripts' data-type="lazy" is a marker, not a type).
  function liveType(el) {
    var t = first(el, typeAttrs);
    return t !== null && isJS(t) ? t : 'text/javascript';
  }

  function reviveScript(el) {
    if (el.hasAttribute('data-revived')) {
      return;
    }
    var src = first(el, srcAttrs);
    var parked = el.hasAttribute('type') && !isJS(el.getAttribute('type'));
    if (!parked && (src === null || el.hasAttribute('src'))) {
      return; // a live script: it has run already
    }
    var live = document.createElement('script');
    live.type = liveType(el);
    live.setAttribute('data-revived', '');
    if (src !== null) {
      live.src = src;
    } else {
      live.text = el.text;
    }
    el.parentNode.insertBefore(live, el.nextSibling);
  }

  function cssURL(v) {
    return /url\(/i.test(v) ? v : 'url("' + v.split(',')[0].trim() + '")';
  }

  function reviveElement(el) {
    var src = first(el, ['data-lazy-src', 'data-src']);
    if (src !== null) {
      el.setAttribute('src', src);
    }
    var srcset = first(el, ['data-lazy-srcset', 'data-srcset']);
    if (srcset !== null) {
      el.setAttribute('srcset', srcset);
    }
    var bg = first(el, ['data-bg', 'data-background-image']);
    if (bg !== null) {
      el.style.backgroundImage = cssURL(bg);
    }
    var bgset = el.getAttribute('data-bgset');
    if (bgset) {
      el.style.backgroundImage = cssURL(bgset.split(/[\s,|]+/)[0]);
    }
  }

  function revive() {
    var scripts = Array.prototype.slice.call(document.getElementsByTagName('script'));
    scripts.forEach(reviveScript);
    var sel = '[data-src]:not(script),[data-lazy-src],[data-srcset]:not(script),[data-lazy-srcset],[data-bg],[data-background-image],[data-bgset]';
    Array.prototype.forEach.call(document.querySelectorAll(sel), reviveElement);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', revive);
  } else {
    revive();
  }
})();
