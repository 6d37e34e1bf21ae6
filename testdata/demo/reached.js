// First-party script of the demo site: shows, on the page itself, which other
// sites reached this visitor. Once the page has loaded it lists the hosts of
// the scripts, frames, images and stylesheets in the document that come from
// another site, and the global names the page's scripts defined (a tag
// snippet that ran leaves its globals behind even where its vendor's host is
// unreachable). It names no site and no vendor: what it shows is whatever
// the proxy let through.
(function () {
  'use strict';

  // Hosts of the loads in the document that are not this site's, with the
  // kinds of element that load from each.
  function otherSites() {
    var found = {};
    var els = document.querySelectorAll('script[src], iframe[src], img[src], link[rel~="stylesheet"][href]');
    Array.prototype.forEach.call(els, function (el) {
      var url;
      try {
        url = new URL(el.getAttribute(el.tagName === 'LINK' ? 'href' : 'src'), location.href);
      } catch (e) {
        return;
      }
      if (!/^https?:$/.test(url.protocol) || url.host === location.host) return;
      var kinds = found[url.hostname] || (found[url.hostname] = {});
      kinds[el.tagName.toLowerCase()] = true;
    });
    return found;
  }

  // The globals the page's scripts added: those of this window that a fresh
  // window of the same kind (an empty frame's) does not have. Indexed names
  // are the page's frames, not globals.
  function pageGlobals() {
    var names = Object.keys(window).filter(function (name) { return !/^[0-9]+$/.test(name); });
    var frame = document.createElement('iframe');
    frame.style.display = 'none';
    document.body.appendChild(frame);
    var fresh = frame.contentWindow;
    var added = names.filter(function (name) { return !(name in fresh); });
    frame.remove();
    return added;
  }

  function item(list, text, host) {
    var li = document.createElement('li');
    li.textContent = text;
    if (host) li.setAttribute('data-host', host);
    list.appendChild(li);
  }

  function show() {
    var box = document.createElement('section');
    box.className = 'reached';
    box.id = 'reached';
    var title = document.createElement('h2');
    title.textContent = 'Other sites this page loads from';
    box.appendChild(title);
    var list = document.createElement('ul');
    var sites = otherSites();
    var hosts = Object.keys(sites).sort();
    hosts.forEach(function (host) {
      item(list, host + ' (' + Object.keys(sites[host]).join(', ') + ')', host);
    });
    if (!hosts.length) item(list, 'none');
    box.appendChild(list);
    var globals = pageGlobals();
    var ran = document.createElement('p');
    ran.textContent = 'Globals the page\u2019s scripts set: ';
    var names = document.createElement('code');
    names.textContent = globals.length ? globals.join(', ') : 'none';
    ran.appendChild(names);
    box.appendChild(ran);
    document.querySelector('main').appendChild(box);
  }

  // After the load event's own listeners (a tag snippet may add its script
  // from one, as Intercom's installer does).
  window.addEventListener('load', function () { setTimeout(show, 0); });
})();
