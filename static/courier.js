// The courier map: stations for the visible area, and the nearest ones to the rider.
// Station text only ever enters the page through textContent, never as HTML.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("yz-config").textContent);
  var map = window[cfg.map];
  var T = cfg.t;
  var layer = L.layerGroup().addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  var here = null; // the rider, WGS-84 {lat, lon}
  var hereMarker = null;
  var wanted = { facilities: cfg.facilities || [], openNow: !!cfg.openNow };
  var statusEl = document.getElementById("status");
  var resultsEl = document.getElementById("results");
  function say(text) { if (statusEl) statusEl.textContent = text; } // the embed may have no list

  // GCJ-02 tiles (Amap) need GCJ-02 markers; the API speaks WGS-84 only. Stations are all in
  // the mainland, where the shift applies.
  function shift(lat, lon) {
    if (cfg.datum !== "gcj02") return [lat, lon];
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    var x = lon - 105.0, y = lat - 35.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * PI, magic = 1 - ee * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sq) * PI);
    dLon = (dLon * 180.0) / (a / sq * Math.cos(rad) * PI);
    return [lat + dLat, lon + dLon];
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function filterQuery() {
    var q = "";
    if (wanted.facilities.length) q += "&facilities=" + encodeURIComponent(wanted.facilities.join(","));
    if (wanted.openNow) q += "&open_now=1";
    return q + "&lang=" + cfg.lang;
  }

  function stateText(open, status) {
    if (status && status !== "open") return T[status] || T.closed;
    return open === true || open === 1 ? T.open : open === false || open === 0 ? T.closed : T.unknown;
  }

  function stateClass(open, status) {
    if (status && status !== "open") return "closed";
    return open === true || open === 1 ? "open" : open === false || open === 0 ? "closed" : "unknown";
  }

  // -- stations in view ------------------------------------------------------------------------
  var viewRequest = 0;
  function loadView() {
    var b = map.getBounds();
    // GCJ-02 tiles: the view is in GCJ-02, while the API wants WGS-84. The shift is under 1 km,
    // so pad the box rather than invert it.
    var pad = cfg.datum === "gcj02" ? 0.01 : 0;
    var bbox = [b.getWest() - pad, b.getSouth() - pad, b.getEast() + pad, b.getNorth() + pad]
      .map(function (v) { return v.toFixed(5); }).join(",");
    var mine = ++viewRequest;
    fetch(cfg.api.map + "?bbox=" + bbox + filterQuery())
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { if (mine === viewRequest) drawView(data); })
      .catch(function () { say(T.error); });
  }

  function popupFor(id, name, open) {
    var box = el("div", "popup");
    var link = el("a", "popup-name", name);
    link.href = "/stations/" + encodeURIComponent(id) + "?lang=" + cfg.lang;
    if (cfg.embed) link.target = "_blank"; // inside a partner's page: open ours in a new tab
    box.appendChild(link);
    box.appendChild(el("div", "badge " + stateClass(open), stateText(open)));
    return box;
  }

  function drawView(data) {
    layer.clearLayers();
    data.markers.forEach(function (m) {
      var pos = shift(m[1], m[2]);
      var cls = stateClass(m[4]);
      var marker = L.circleMarker(pos, {
        radius: 9, weight: 2, color: "#fff", fillOpacity: 0.95,
        fillColor: cls === "open" ? "#1a7f37" : cls === "closed" ? "#b42318" : "#667085",
      });
      marker.bindPopup(popupFor(m[0], m[3], m[4]));
      marker.bindTooltip(el("span", null, m[3]));
      marker.addTo(layer);
    });
    data.clusters.forEach(function (c) {
      var icon = L.divIcon({ className: "cluster", html: "", iconSize: [40, 40] });
      var marker = L.marker(shift(c[0], c[1]), { icon: icon, title: T.clusters });
      marker.on("add", function () { marker.getElement().textContent = String(c[2]); });
      marker.on("click", function () { map.setView(marker.getLatLng(), map.getZoom() + 2); });
      marker.addTo(layer);
    });
  }

  // -- the nearest list ------------------------------------------------------------------------
  function distanceText(m) {
    return m < 1000 ? m + " m" : (m / 1000).toFixed(m < 10000 ? 1 : 0) + " km";
  }

  function freshness(verifiedAt) {
    if (!verifiedAt) return T.never_verified;
    var days = Math.floor((Date.now() - Date.parse(verifiedAt)) / 86400000);
    return days <= 0 ? T.verified_today : T.verified_days.replace("{n}", days);
  }

  function drawList(data) {
    resultsEl.textContent = "";
    if (!resultsEl) return;
    if (!data.features.length) { say(T.none); return; }
    say(data.nearest_anyway ? T.anyway : "");
    data.features.forEach(function (f) {
      var p = f.properties;
      var li = el("li", "result");
      var top = el("div", "row1");
      var name = el("a", "name", p.name);
      name.href = "/stations/" + encodeURIComponent(p.id) + "?lang=" + cfg.lang;
      if (cfg.embed) name.target = "_blank";
      top.appendChild(name);
      top.appendChild(el("span", "distance", distanceText(p.distance_m)));
      li.appendChild(top);
      var meta = el("div", "meta");
      meta.appendChild(el("span", "badge " + stateClass(p.open_now, p.status), stateText(p.open_now, p.status)));
      meta.appendChild(el("span", "fresh", freshness(p.verified_at)));
      li.appendChild(meta);
      var icons = el("div", "icons");
      p.facilities.forEach(function (key) {
        var i = el("span", "icon", cfg.icons[key] || "•");
        i.title = cfg.labels[key] || key;
        i.setAttribute("aria-label", cfg.labels[key] || key);
        icons.appendChild(i);
      });
      li.appendChild(icons);
      if (p.warnings.length) li.appendChild(el("div", "warning small", "⚠️ " + T.warning));
      var go = el("a", "go", T.go + " ➜");
      go.href = p.navigation.amap_route;
      li.appendChild(go);
      resultsEl.appendChild(li);
    });
  }

  function loadNearest() {
    if (!here) return;
    fetch(cfg.api.nearest + "?lat=" + here.lat.toFixed(6) + "&lon=" + here.lon.toFixed(6) + "&k=5&radius_m=5000" + filterQuery())
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(drawList)
      .catch(function () { say(T.error); });
  }

  var locateButton = document.getElementById("locate");
  if (locateButton) locateButton.addEventListener("click", function () {
    if (!navigator.geolocation) { say(T.denied); return; }
    say(T.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      here = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      var at = shift(here.lat, here.lon);
      if (hereMarker) hereMarker.remove();
      hereMarker = L.circleMarker(at, { radius: 7, color: "#fff", weight: 3, fillColor: "#1570ef", fillOpacity: 1 }).addTo(map);
      map.setView(at, 15, { animate: false }); // straight there: cheap phones stutter on animations
      loadNearest();
    }, function () { say(T.denied); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  Array.prototype.forEach.call(document.querySelectorAll(".chip"), function (chip) {
    chip.addEventListener("click", function () {
      var on = chip.getAttribute("aria-pressed") !== "true";
      chip.setAttribute("aria-pressed", on ? "true" : "false");
      if (chip.hasAttribute("data-open-now")) {
        wanted.openNow = on;
      } else {
        var key = chip.getAttribute("data-facility");
        wanted.facilities = wanted.facilities.filter(function (k) { return k !== key; });
        if (on) wanted.facilities.push(key);
      }
      loadView();
      loadNearest();
    });
  });

  var timer = null;
  map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(loadView, 150); });
  loadView();
})();
