/* The station page: its marker on the small map, the distance from the rider when the map
   page located them a moment ago, and sharing the station's short link.
   Text goes in with textContent only. */
(function () {
  "use strict";
  var HERE_MAX_AGE_MS = 10 * 60 * 1000; // an older position may be far from where the rider is

  function config() {
    var el = document.getElementById("yz-station");
    return el ? JSON.parse(el.textContent) : null;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function marker(cfg) {
    var map = cfg.map && window[cfg.map];
    if (!map || !window.L) return;
    L.circleMarker(cfg.at, {
      radius: 10, weight: 3, color: "#fff", fillColor: "#344054", fillOpacity: 1 // not the rider's blue, not a state colour
    }).addTo(map);
    // A page that scrolls: one finger scrolls the page, never the small map.
    map.scrollWheelZoom.disable();
    if (L.Browser.touch) map.dragging.disable();
  }

  // Great-circle distance in metres (the sphere is good to 0.5 % at these ranges).
  function metres(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180, R = 6371008.8;
    var dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
    var a = Math.sin(dlat / 2) * Math.sin(dlat / 2) +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dlon / 2) * Math.sin(dlon / 2);
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function here() {
    var raw;
    try {
      raw = window.sessionStorage.getItem("yz:here");
    } catch (e) {
      return null; // storage blocked
    }
    if (!raw) return null;
    try {
      var p = JSON.parse(raw);
      var ok = p && isFinite(p.lat) && isFinite(p.lon) && isFinite(p.at) &&
        Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
      var age = Date.now() - p.at;
      return ok && age >= 0 && age < HERE_MAX_AGE_MS ? p : null;
    } catch (e) {
      return null;
    }
  }

  function distance(cfg) {
    var el = document.getElementById("distance");
    var p = here();
    if (!el || !p) return;
    var d = metres(p.lat, p.lon, cfg.lat, cfg.lon);
    var text;
    if (d < 1000) {
      text = fill(cfg.t.m, { n: Math.max(10, Math.round(d / 10) * 10) });
    } else {
      text = fill(cfg.t.km, { n: d < 10000 ? (d / 1000).toFixed(1) : Math.round(d / 1000) });
    }
    el.textContent = text;
    el.hidden = false;
  }

  function copyByHand(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (e) {
      done = false;
    }
    document.body.removeChild(area);
    return done;
  }

  function share(cfg) {
    var button = document.getElementById("share");
    var status = document.getElementById("share-status");
    if (!button || !status) return;
    button.hidden = false;
    function say(template) {
      status.textContent = fill(template, { url: cfg.url });
    }
    function copy() {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(cfg.url).then(
          function () { say(cfg.t.copied); },
          function () { say(copyByHand(cfg.url) ? cfg.t.copied : cfg.t.copy_failed); }
        );
      } else {
        say(copyByHand(cfg.url) ? cfg.t.copied : cfg.t.copy_failed);
      }
    }
    button.addEventListener("click", function () {
      if (navigator.share) {
        navigator.share({ title: cfg.name, url: cfg.url }).catch(function (e) {
          if (!e || e.name !== "AbortError") copy(); // the rider closing the sheet is no error
        });
      } else {
        copy();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var cfg = config();
    if (!cfg) return;
    marker(cfg);
    distance(cfg);
    share(cfg);
  });
})();
