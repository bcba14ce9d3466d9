// The service worker (served at /sw.js, which sets YZ_VERSION above this line): the map page
// and the fingerprinted files it uses, kept in Cache Storage, so that a repeat visit paints
// without waiting a round trip and a rider without signal still gets the page.
//
// It answers only these requests; everything else (the API, station pages, the list, staff
// pages, every form post) goes to the network as if it were not here, and is never stored:
// - a visit to / : the kept page at once, and the network's in the background for next time
//   (stale-while-revalidate). The API is not kept: stations and warnings must be live, and
//   without signal the page says that stations could not be loaded.
// - a visit to /?… (a shared view): the network, or the kept / when there is none.
// - a visit to any page with ?lang= (the language switch): the kept / is dropped and a copy of /
//   asked for before the switch is never kept; /?lang=… itself comes from the network and is kept.
// - /static/…?v=… and /vendor/…?v=… (fingerprinted): from the cache, else the network, kept only
//   when the server vouches that the content has that fingerprint (it says "immutable").
// A new deploy changes some fingerprint, hence this file: the new worker fetches the page and
// its files afresh (reusing files whose fingerprint it already holds) and drops the old cache.
"use strict";

var PREFIX = "yizhan-";
var CACHE = PREFIX + (self.YZ_VERSION || "dev");
var SHELL = "/";
var generation = 0; // bumped at each language switch; older fetches of / are not kept

function cacheControl(response) {
  return (response.headers.get("Cache-Control") || "").toLowerCase();
}

function fingerprinted(url) {
  return url.origin === self.location.origin && url.searchParams.has("v") &&
    (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0);
}

function vouched(response) {
  return response.ok && response.type === "basic" && cacheControl(response).indexOf("immutable") !== -1;
}

function assetsIn(html) {
  var found = [], re = /(?:src|href)="(\/(?:static|vendor)\/[^"?#]+\?v=[0-9a-f]+)"/g, m;
  while ((m = re.exec(html))) if (found.indexOf(m[1]) === -1) found.push(m[1]);
  return found;
}

// Keep a network answer for / unless it is personal (a signed-in member of staff, a flashed
// message: the server says no-store), an error, or was asked for before a language switch.
function keepShell(cache, response, asked) {
  if (asked !== generation || response.status !== 200 || response.type !== "basic") return Promise.resolve();
  var cc = cacheControl(response);
  if (cc.indexOf("no-store") !== -1 || cc.indexOf("private") !== -1) return cache.delete(SHELL);
  return cache.put(SHELL, response);
}

function ownCache() {
  // An old worker finishing a fetch after a new one took over must not recreate its cache.
  return caches.has(CACHE).then(function (exists) { return exists ? caches.open(CACHE) : null; });
}

function keepAsset(cache, url) {
  return caches.match(url).then(function (hit) { // same fingerprint, same bytes: reuse
    if (hit) return cache.put(url, hit);
    return fetch(url).then(function (response) {
      if (vouched(response)) return cache.put(url, response);
    });
  });
}

self.addEventListener("install", function (event) {
  var asked = generation;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return fetch(SHELL).then(function (response) {
      return response.clone().text().then(function (html) {
        return Promise.all(assetsIn(html).map(function (url) { return keepAsset(cache, url); }));
      }).then(function () { return keepShell(cache, response, asked); });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function keptShell() {
  return caches.open(CACHE).then(function (cache) { return cache.match(SHELL, { ignoreVary: true }); });
}

function shellFromNetwork(event, request) {
  var asked = generation;
  var network = fetch(request);
  event.waitUntil(network.then(function (response) {
    var copy = response.clone();
    return ownCache().then(function (cache) { if (cache) return keepShell(cache, copy, asked); });
  }).catch(function () {}));
  return network;
}

function staleWhileRevalidate(event) {
  return keptShell().then(function (kept) {
    var network = shellFromNetwork(event, event.request);
    return kept || network;
  });
}

function networkElseShell(event) {
  return fetch(event.request).catch(function (error) {
    return keptShell().then(function (kept) { if (kept) return kept; throw error; });
  });
}

// The language switch on / : the answer sets the language cookie; it is kept as the page when
// it is plain /?lang=… (what / now says), and nothing asked for before the switch is kept.
function switchLanguage(event, url) {
  var asked = ++generation;
  return caches.open(CACHE).then(function (cache) {
    return cache.delete(SHELL).then(function () {
      return fetch(event.request).then(function (response) {
        var onlyLang = Array.from(url.searchParams.keys()).every(function (k) { return k === "lang"; });
        if (onlyLang) event.waitUntil(keepShell(cache, response.clone(), asked));
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    var switching = url.searchParams.has("lang") && url.pathname.indexOf("/embed") !== 0;
    if (url.pathname === SHELL) {
      event.respondWith(switching ? switchLanguage(event, url)
        : url.search ? networkElseShell(event) : staleWhileRevalidate(event));
    } else if (switching) { // another page switches the language: / will be asked afresh
      generation += 1;
      event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.delete(SHELL); }));
    }
    return;
  }
  if (fingerprinted(url)) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (vouched(response)) event.waitUntil(cache.put(request, response.clone()));
          return response;
        });
      });
    }));
  }
});
