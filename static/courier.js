// The courier map (and the partner embed, cfg.embed): stations for the visible area, the
// nearest ones to the rider, a city picker and search for riders without location.
// Station text only ever enters the page through textContent, never as HTML.
// Every page element is optional: the embed may have no list, no status line, no locate button.
// The view (centre, zoom, filters, selected station, where the nearest list was asked from)
// lives in the address bar, so reload, back and a shared link open the same view.
(function () {
  "use strict";
  var started = false;
  function start() {
    if (started) return;
    started = true;
    main();
  }
  // Deferred: the map's own script also waits for DOMContentLoaded and is registered first.
  if (document.readyState === "complete") start();
  else {
    document.addEventListener("DOMContentLoaded", start);
    window.addEventListener("load", start);
  }

  function main() {
    var cfgNode = document.getElementById("yz-config");
    if (!cfgNode) return;
    var cfg = JSON.parse(cfgNode.textContent);
    var map = window[cfg.map];
    if (!map) return;
    var T = cfg.t;
    var api = cfg.api || {};
    var stationApi = api.station || "/api/v1/stations/";
    var stationPage = cfg.page || "/stations/";
    var byId = function (id) { return document.getElementById(id); };
    var statusEl = byId("status");
    var resultsEl = byId("results");
    var locateButton = byId("locate");
    var finder = byId("finder");
    var searchForm = byId("search");
    var searchInput = byId("q");
    var searchResults = byId("search-results");
    var citySelect = byId("city");
    var chipsWrap = byId("chips-wrap");
    var chipButtons = Array.prototype.slice.call(document.querySelectorAll(".chip"));
    // The server's clock less the phone's, from the last answer that said its time: "today"
    // and "tomorrow" are the server's (China time; tests pin it), whatever the phone's clock says.
    var clockOffset = 0;

    var state = {
      facilities: (cfg.facilities || []).slice(),
      openNow: !!cfg.openNow,
      station: cfg.station || null,
      near: cfg.near ? { lat: cfg.near[0], lon: cfg.near[1] } : null,
    };
    var here = state.near ? { lat: state.near.lat, lon: state.near.lon } : null; // WGS-84
    var hereMarker = null;
    var records = {}; // station id -> {id, name, lat, lon, open, props, marker, box}
    var nearestIds = {}; // the listed stations keep their markers whatever the view loads
    var cities = null; // adcode -> city, once loaded

    // Markers are drawn small but answer taps 12 px around them: a 44 px target. One canvas for
    // every circle: a second one on top would swallow the taps meant for the first.
    var renderer = L.canvas({ padding: 0.5, tolerance: 12 });
    var stationLayer = L.layerGroup().addTo(map);
    var clusterLayer = L.layerGroup().addTo(map);

    // -- small helpers ---------------------------------------------------------------------
    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    }
    function fill(template, values) {
      return String(template).replace(/\{(\w+)\}/g, function (all, key) {
        return values[key] !== undefined ? String(values[key]) : all;
      });
    }
    function say(text) { if (statusEl) statusEl.textContent = text || ""; }
    var noticeEl = null;
    function clearNotice() { if (noticeEl) { noticeEl.remove(); noticeEl = null; } }
    function notice(label, action) {
      clearNotice();
      if (!statusEl || !statusEl.parentNode) return;
      noticeEl = el("button", "status-action", label);
      noticeEl.type = "button";
      noticeEl.addEventListener("click", function () { clearNotice(); action(); });
      statusEl.parentNode.insertBefore(noticeEl, statusEl.nextSibling);
    }
    function fetchJson(url) {
      return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      });
    }
    function linkOut(a) {
      if (cfg.embed) { a.target = "_blank"; a.rel = "noopener"; } // inside a partner's page
    }
    function fixed(v) { return String(Math.round(v * 1e5) / 1e5); }

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
    function unshift(lat, lon) { // the map's GCJ-02 centre back to WGS-84 (metres off at most)
      if (cfg.datum !== "gcj02") return [lat, lon];
      var s = shift(lat, lon);
      return [2 * lat - s[0], 2 * lon - s[1]];
    }
    function boundsOf(bbox) { // [west, south, east, north], WGS-84
      return L.latLngBounds(shift(bbox[1], bbox[0]), shift(bbox[3], bbox[2]));
    }

    function metres(a, b) {
      var R = 6371008.8, rad = Math.PI / 180;
      var dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
      var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
        Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
      return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
    }
    // The rule of stations/core/words.py: 350 米, 1.2 公里 (1.0 公里, never 1000 米), 12 公里.
    function distanceText(m) {
      var metres = Math.floor(Math.max(0, m) + 0.5);
      if (metres < 1000) return fill(T.metres, { n: metres });
      var tenths = Math.floor(m / 100 + 0.5);
      if (tenths < 100) return fill(T.km, { n: Math.floor(tenths / 10) + "." + (tenths % 10) });
      return fill(T.km, { n: Math.floor(m / 1000 + 0.5) });
    }

    // -- opening state in words --------------------------------------------------------------
    function chinaDay(ms) { return new Date(ms + 8 * 3600000).toISOString().slice(0, 10); }
    function dayNumber(isoDate) { return Date.UTC(+isoDate.slice(0, 4), +isoDate.slice(5, 7) - 1, +isoDate.slice(8, 10)) / 86400000; }
    function dateText(isoDate) { return fill(T.date, { m: +isoDate.slice(5, 7), d: +isoDate.slice(8, 10) }); }
    function opensText(iso) { // "2026-11-21T07:00+08:00", China time as the API gives it
      var day = iso.slice(0, 10), time = iso.slice(11, 16);
      var ahead = dayNumber(day) - dayNumber(chinaDay(Date.now() + clockOffset));
      if (ahead <= 0) return fill(T.opens_today, { time: time });
      if (ahead === 1) return fill(T.opens_tomorrow, { time: time });
      if (ahead < 7) {
        var weekday = (new Date(day + "T00:00:00Z").getUTCDay() + 6) % 7; // Monday first
        return fill(T.opens_day, { day: T.weekdays[weekday], time: time });
      }
      return fill(T.opens_day, { day: dateText(day), time: time });
    }
    function live(rec) { // open | closed | unknown | paused
      var p = rec.props;
      if (p) {
        if (p.status && p.status !== "open") return "paused";
        return p.open_now === true ? "open" : p.open_now === false ? "closed" : "unknown";
      }
      return rec.open === 1 || rec.open === true ? "open" : rec.open === 0 || rec.open === false ? "closed" : "unknown";
    }
    function stateLine(rec) {
      var kind = live(rec), p = rec.props || {}, word, when = "";
      if (kind === "paused") {
        word = T[p.status] || T.temporarily_closed;
        if (p.closed_until) when = fill(T.closed_until, { date: dateText(p.closed_until) });
      } else if (kind === "open") {
        word = T.open;
        if (p.closes_at) when = fill(T.closes_at, { time: p.closes_at.slice(11, 16) });
      } else if (kind === "closed") {
        word = T.closed;
        if (p.opens_next) when = opensText(p.opens_next);
      } else {
        word = T.unknown;
        when = T.check_on_site; // hours we cannot read for certain: the station itself decides
      }
      var line = el("div", "hours-state");
      line.appendChild(el("span", "badge " + (kind === "paused" ? "closed" : kind), word));
      if (when) {
        line.appendChild(document.createTextNode(" · "));
        line.appendChild(el("span", "when", when));
      }
      return line;
    }
    function distanceOf(rec) {
      if (rec.props && typeof rec.props.distance_m === "number" && nearestIds[rec.id]) return rec.props.distance_m;
      return here ? metres(here, rec) : null;
    }

    // -- what a station offers, and the way there --------------------------------------------
    function facilityList(keys) {
      var list = el("ul", "feature-list");
      list.setAttribute("aria-label", T.facilities);
      keys.forEach(function (key) {
        var item = el("li");
        var icon = el("span", null, cfg.icons[key] || "•");
        icon.setAttribute("aria-hidden", "true");
        item.appendChild(icon);
        item.appendChild(document.createTextNode(" " + (cfg.labels[key] || key)));
        list.appendChild(item);
      });
      return list;
    }
    function goActions(rec, onToggle) {
      var nav = rec.props && rec.props.navigation;
      var row = el("div", "actions");
      if (!nav) return row;
      var kind = live(rec), usable = kind === "open" || kind === "unknown";
      // Only a station one can use now gets the prominent button; a closed one a quiet route link.
      var go = el("a", usable ? "go" : "go quiet", usable ? T.go + " ➜" : T.route);
      go.href = nav.amap_route;
      linkOut(go);
      row.appendChild(go);
      var more = el("details", "go-more");
      more.appendChild(el("summary", null, T.other_apps + " ▾"));
      var menu = el("ul");
      ["amap_route", "apple", "baidu", "tencent", "geo"].forEach(function (key) {
        if (!nav[key]) return;
        var li = el("li"), a = el("a", null, T.apps[key] || key);
        a.href = nav[key];
        linkOut(a);
        li.appendChild(a);
        menu.appendChild(li);
      });
      more.appendChild(menu);
      if (onToggle) more.addEventListener("toggle", onToggle);
      row.appendChild(more);
      return row;
    }
    function freshness(verifiedAt) {
      if (!verifiedAt) return T.never_verified;
      var days = Math.floor((Date.now() - Date.parse(verifiedAt)) / 86400000);
      return days <= 0 ? T.verified_today : fill(T.verified_days, { n: days });
    }

    // -- markers, keyed by station id: updated in place, never all cleared and redrawn ---------
    function markerStyle(rec) {
      var kind = live(rec), selected = rec.id === state.station;
      // Closed stations are hollow rings, so the state shows by shape as well as colour.
      var hollow = kind === "closed" || kind === "paused";
      return {
        renderer: renderer,
        radius: selected ? 13 : 10,
        weight: selected ? 4 : hollow ? 4 : 2,
        color: selected ? "#101828" : hollow ? "#b42318" : "#fff",
        fillColor: hollow ? "#fff" : kind === "open" ? "#1a7f37" : "#667085",
        fillOpacity: 0.95,
      };
    }
    function restyle(rec) {
      var style = markerStyle(rec);
      rec.marker.setStyle(style);
      rec.marker.setRadius(style.radius);
      if (rec.id === state.station) rec.marker.bringToFront();
    }
    function renderPopup(rec) {
      var box = rec.box;
      box.textContent = "";
      var link = el("a", "popup-name", rec.name);
      link.href = stationPage + encodeURIComponent(rec.id) + "?lang=" + cfg.lang;
      linkOut(link);
      box.appendChild(link);
      box.appendChild(stateLine(rec));
      var d = distanceOf(rec);
      if (d !== null) box.appendChild(el("div", "distance", distanceText(d)));
      var p = rec.props;
      if (p) {
        if (p.facilities && p.facilities.length) box.appendChild(facilityList(p.facilities));
        if (p.warnings && p.warnings.length) box.appendChild(el("div", "warning small", "⚠️ " + T.warning));
        box.appendChild(goActions(rec, function () { // the menu made the popup taller: keep it in view
          var popup = rec.marker.getPopup();
          popup.update();
          if (popup._adjustPan) popup._adjustPan();
        }));
      }
      var popup = rec.marker.getPopup();
      if (popup && popup.isOpen()) popup.update();
    }
    function ensureRecord(id, lat, lon, name, open) {
      var rec = records[id];
      if (rec) return rec;
      rec = { id: id, name: name, lat: lat, lon: lon, open: open, props: null };
      rec.box = el("div", "popup");
      rec.marker = L.circleMarker(shift(lat, lon), markerStyle(rec));
      // Clear of the zoom buttons (top left) and the scale (bottom left); on a short phone map a
      // long popup (the other-maps menu open) scrolls inside itself rather than under the list.
      rec.marker.bindPopup(rec.box, {
        maxWidth: 280, minWidth: 200, autoPanPaddingTopLeft: [64, 16], autoPanPaddingBottomRight: [16, 40],
      });
      rec.marker.bindTooltip(el("span", null, name), { direction: "top", offset: [0, -10] });
      rec.marker.on("popupopen", function () {
        rec.marker.closeTooltip();
        if (state.station !== id) select(id, "marker");
        details(rec);
      });
      rec.marker.on("popupclose", function () { if (state.station === id) deselect(); });
      records[id] = rec;
      renderPopup(rec);
      rec.marker.addTo(stationLayer);
      return rec;
    }
    function withProps(rec, props) {
      rec.props = props;
      rec.name = props.name;
      rec.open = props.open_now;
      restyle(rec);
      renderPopup(rec);
    }
    function details(rec) { // the full station for a marker that came from the light map view
      if (rec.props || rec.loading) return;
      rec.loading = true;
      fetchJson(stationApi + encodeURIComponent(rec.id) + "?lang=" + cfg.lang)
        .then(function (f) { if (!rec.props) withProps(rec, f.properties); })
        .catch(function () {})
        .then(function () { rec.loading = false; });
    }
    function pinned(id) { return id === state.station || !!nearestIds[id]; }
    // No tooltip over an open popup: hovering another marker while one is open shows none.
    map.on("tooltipopen", function (e) {
      var open = false;
      map.eachLayer(function (layer) { if (layer instanceof L.Popup) open = true; });
      if (open) map.closeTooltip(e.tooltip);
    });

    // -- stations in view ----------------------------------------------------------------------
    function filterQuery() {
      var q = "";
      if (state.facilities.length) q += "&facilities=" + encodeURIComponent(state.facilities.join(","));
      if (state.openNow) q += "&open_now=1";
      return q + "&lang=" + cfg.lang;
    }
    var viewRequest = 0;
    function loadView() {
      var b = map.getBounds();
      // GCJ-02 tiles: the view is in GCJ-02, while the API wants WGS-84. The shift is under
      // 1 km, so pad the box rather than invert it.
      var pad = cfg.datum === "gcj02" ? 0.01 : 0;
      var bbox = [
        Math.max(-180, b.getWest() - pad), Math.max(-90, b.getSouth() - pad),
        Math.min(180, b.getEast() + pad), Math.min(90, b.getNorth() + pad),
      ].map(function (v) { return v.toFixed(5); }).join(",");
      var mine = ++viewRequest;
      return fetchJson(api.map + "?bbox=" + bbox + filterQuery())
        .then(function (data) { if (mine === viewRequest) drawView(data); })
        .catch(function () { if (mine === viewRequest) say(T.error); });
    }
    function drawView(data) {
      var seen = {};
      data.markers.forEach(function (m) { // [id, lat, lon, name, open 1/0/null]
        seen[m[0]] = true;
        var rec = records[m[0]];
        if (!rec) ensureRecord(m[0], m[1], m[2], m[3], m[4]);
        else if (!rec.props && rec.open !== m[4]) { rec.open = m[4]; restyle(rec); renderPopup(rec); }
      });
      Object.keys(records).forEach(function (key) {
        var rec = records[key];
        if (seen[rec.id] || pinned(rec.id)) return;
        stationLayer.removeLayer(rec.marker);
        delete records[key];
      });
      if (hereMarker) hereMarker.bringToFront(); // the rider's dot is never hidden under a station
      clusterLayer.clearLayers();
      data.clusters.forEach(function (c) {
        var icon = L.divIcon({ className: "cluster", html: "", iconSize: [44, 44] });
        var marker = L.marker(shift(c[0], c[1]), { icon: icon, title: T.clusters, keyboard: false });
        marker.on("add", function () { marker.getElement().textContent = String(c[2]); });
        marker.on("click", function () { map.setView(marker.getLatLng(), Math.min(map.getMaxZoom(), map.getZoom() + 2)); });
        marker.addTo(clusterLayer);
      });
    }

    // -- selection: a list item and its marker, both ways --------------------------------------
    function listItem(id) {
      return resultsEl ? resultsEl.querySelector('.result[data-id="' + String(id) + '"]') : null;
    }
    function highlight(scroll) {
      if (!resultsEl) return;
      Array.prototype.forEach.call(resultsEl.children, function (li) {
        var on = Number(li.getAttribute("data-id")) === state.station;
        li.classList.toggle("selected", on);
        if (on) li.setAttribute("aria-current", "true");
        else li.removeAttribute("aria-current");
        var show = li.querySelector(".show");
        if (show) show.setAttribute("aria-pressed", on ? "true" : "false");
        if (on && scroll) li.scrollIntoView({ block: "nearest" });
      });
    }
    function select(id, source) {
      var before = state.station;
      state.station = id;
      if (before && records[before]) restyle(records[before]);
      var rec = records[id];
      if (rec) {
        restyle(rec);
        if (source !== "marker" && !rec.marker.isPopupOpen()) {
          var popup = rec.marker.getPopup();
          popup.options.autoPan = source !== "restore"; // a restored view stays exactly where it was
          rec.marker.openPopup();
          popup.options.autoPan = true;
        }
      }
      highlight(source === "marker");
      if (before !== id && source !== "restore") writeUrl(true);
    }
    function deselect() {
      var before = state.station;
      state.station = null;
      if (before && records[before]) restyle(records[before]);
      highlight(false);
      writeUrl(false);
    }
    function selectStation(id, source) { // a station perhaps not drawn yet (a link, a search)
      if (records[id]) { select(id, source); return Promise.resolve(records[id]); }
      return fetchJson(stationApi + encodeURIComponent(id) + "?lang=" + cfg.lang).then(function (f) {
        var c = f.geometry.coordinates;
        var rec = ensureRecord(f.properties.id, c[1], c[0], f.properties.name, f.properties.open_now);
        withProps(rec, f.properties);
        select(rec.id, source);
        return rec;
      });
    }

    // -- the nearest list ------------------------------------------------------------------------
    function drawList(features) {
      if (!resultsEl) return;
      resultsEl.textContent = "";
      features.forEach(function (f) {
        var p = f.properties, rec = records[p.id];
        var li = el("li", "result");
        li.setAttribute("data-id", String(p.id));
        var top = el("div", "row1");
        var name = el("a", "name", p.name);
        name.href = stationPage + encodeURIComponent(p.id) + "?lang=" + cfg.lang;
        linkOut(name);
        top.appendChild(name);
        top.appendChild(el("span", "distance", distanceText(p.distance_m)));
        li.appendChild(top);
        var meta = el("div", "meta");
        meta.appendChild(stateLine(rec));
        meta.appendChild(el("span", "fresh", freshness(p.verified_at)));
        li.appendChild(meta);
        if (p.facilities.length) li.appendChild(facilityList(p.facilities));
        if (p.warnings.length) li.appendChild(el("div", "warning small", "⚠️ " + T.warning));
        var actions = goActions(rec);
        var show = el("button", "show", T.show_on_map);
        show.type = "button";
        show.setAttribute("aria-pressed", "false");
        show.addEventListener("click", function () { select(p.id, "list"); });
        actions.appendChild(show);
        li.appendChild(actions);
        li.addEventListener("click", function (e) { // the card itself selects too
          if (e.target.closest && e.target.closest("a, button, summary, details")) return;
          select(p.id, "list");
        });
        resultsEl.appendChild(li);
      });
      highlight(false);
    }

    // The phone layout gives the map less height while a list is shown (style.css: .listing).
    function listing(on) {
      if (cfg.embed || document.body.classList.contains("listing") === on) return;
      document.body.classList.toggle("listing", on);
      map.invalidateSize({ animate: false });
    }
    function drawHere() {
      if (!here) return;
      var at = shift(here.lat, here.lon);
      if (hereMarker) hereMarker.setLatLng(at);
      else hereMarker = L.circleMarker(at, { renderer: renderer, radius: 8, color: "#fff", weight: 3, fillColor: "#1570ef", fillOpacity: 1, interactive: false }).addTo(map);
    }
    function fitNearest(features) {
      var points = [shift(here.lat, here.lon)];
      features.forEach(function (f) { points.push(shift(f.geometry.coordinates[1], f.geometry.coordinates[0])); });
      if (points.length === 1) map.setView(points[0], 12, { animate: false });
      else map.fitBounds(L.latLngBounds(points), { padding: [36, 36], maxZoom: 16, animate: false });
    }
    var nearestRequest = 0;
    function loadNearest(opts) {
      if (!here) return Promise.resolve();
      var mine = ++nearestRequest;
      var url = api.nearest + "?lat=" + here.lat.toFixed(6) + "&lon=" + here.lon.toFixed(6) +
        "&k=5&radius_m=5000&sort=useful" + filterQuery();
      return fetchJson(url)
        .then(function (data) { if (mine === nearestRequest) showNearest(data, opts || {}); })
        .catch(function () { if (mine === nearestRequest) say(T.error); });
    }
    function hasFilters() { return state.facilities.length > 0 || state.openNow; }
    function showNearest(data, opts) {
      clearNotice();
      var said = data.generated_at ? Date.parse(data.generated_at) : NaN;
      if (!isNaN(said)) clockOffset = said - Date.now();
      nearestIds = {};
      var features = data.features;
      features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var rec = ensureRecord(f.properties.id, c[1], c[0], f.properties.name, f.properties.open_now);
        nearestIds[rec.id] = true;
        withProps(rec, f.properties);
      });
      drawList(features);
      listing(true);
      if (hereMarker) hereMarker.bringToFront();
      if (!features.length) {
        var max = (data.query && data.query.anyway_max_m) || 50000;
        if (data.reason === "none_nearby") {
          say(fill(T.none_nearby, { km: Math.round(max / 1000) }));
          var city = data.nearest_city;
          if (city) {
            var label = city.distance_m ? fill(T.go_city_far, { city: city.name, n: city.stations, distance: distanceText(city.distance_m) }) : fill(T.go_city, { city: city.name, n: city.stations });
            notice(label, function () { showCity(city, true); });
          }
        } else if (data.reason === "none_match" || hasFilters()) {
          say(T.none_match);
          if (hasFilters()) notice(T.clear_filters, clearFilters);
        } else say(T.none);
      } else say(data.nearest_anyway ? T.anyway : fill(T.results, { n: features.length }));
      if (opts.fit) fitNearest(features);
      if (!resultsEl && opts.fit && features.length) { // no list (embed): show the nearest one
        select(features[0].properties.id, "list");
      }
    }

    // -- where the rider is ----------------------------------------------------------------------
    function denied() {
      if (finder) {
        say(T.denied);
        finder.classList.add("attention");
        loadCities();
      } else say(T.denied_map);
    }
    function located(pos) {
      here = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      state.near = { lat: Number(fixed(here.lat)), lon: Number(fixed(here.lon)) };
      try { // the station page shows the distance from here
        sessionStorage.setItem("yz:here", JSON.stringify({ lat: here.lat, lon: here.lon, at: Date.now() }));
      } catch (e) { /* private mode: no distance there, nothing else lost */ }
      if (finder) finder.classList.remove("attention");
      writeUrl(true); // a step of its own: back returns to the map as it was before
      drawHere();
      map.setView(shift(here.lat, here.lon), 15, { animate: false }); // at once, the list follows
      return loadNearest({ fit: true });
    }
    if (locateButton) locateButton.addEventListener("click", function () {
      if (!navigator.geolocation) { denied(); return; }
      say(T.locating);
      navigator.geolocation.getCurrentPosition(located, denied, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });

    // -- filters -----------------------------------------------------------------------------------
    function syncChips() {
      chipButtons.forEach(function (chip) {
        var on = chip.hasAttribute("data-open-now") ? state.openNow : state.facilities.indexOf(chip.getAttribute("data-facility")) >= 0;
        chip.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }
    function filtersChanged() {
      loadView();
      if (here && state.near) loadNearest({ fit: true });
      writeUrl(false);
    }
    function clearFilters() {
      state.facilities = [];
      state.openNow = false;
      syncChips();
      filtersChanged();
    }
    chipButtons.forEach(function (chip) {
      chip.addEventListener("click", function () {
        var on = chip.getAttribute("aria-pressed") !== "true";
        if (chip.hasAttribute("data-open-now")) state.openNow = on;
        else {
          var key = chip.getAttribute("data-facility");
          state.facilities = state.facilities.filter(function (k) { return k !== key; });
          if (on) state.facilities.push(key);
        }
        syncChips();
        filtersChanged();
      });
    });
    // More chips than fit: an arrow over a fading edge on the side that hides some.
    if (chipsWrap) (function () {
      var row = chipsWrap.querySelector(".chips");
      var prev = chipsWrap.querySelector(".chips-arrow.prev");
      var next = chipsWrap.querySelector(".chips-arrow.next");
      if (!row || !prev || !next) return;
      function update() {
        var max = row.scrollWidth - row.clientWidth;
        prev.hidden = row.scrollLeft <= 2;
        next.hidden = row.scrollLeft >= max - 2;
      }
      prev.addEventListener("click", function () { row.scrollBy({ left: -row.clientWidth * 0.7, behavior: "smooth" }); });
      next.addEventListener("click", function () { row.scrollBy({ left: row.clientWidth * 0.7, behavior: "smooth" }); });
      row.addEventListener("scroll", update, { passive: true });
      window.addEventListener("resize", update);
      if (window.ResizeObserver) { // the row, or a chip once its font has loaded
        var watch = new ResizeObserver(update);
        watch.observe(row);
        Array.prototype.forEach.call(row.children, function (chip) { watch.observe(chip); });
      }
      update();
    })();

    // -- cities and search, for riders without location ---------------------------------------
    var citiesLoading = null;
    function loadCities() {
      if (citiesLoading || !api.cities || !citySelect) return citiesLoading;
      citiesLoading = fetchJson(api.cities + "?lang=" + cfg.lang).then(function (data) {
        cities = {};
        var group = null, province = null;
        data.cities.forEach(function (c) {
          cities[c.adcode] = c;
          if (c.province !== province) {
            province = c.province;
            group = el("optgroup");
            group.label = province;
            citySelect.appendChild(group);
          }
          var option = el("option", null, c.name + " · " + fill(T.search_city, { n: c.stations }));
          option.value = c.adcode;
          group.appendChild(option);
        });
      }).catch(function () { citiesLoading = null; });
      return citiesLoading;
    }
    function showCity(city, push) {
      map.fitBounds(boundsOf(city.bbox), { padding: [24, 24], maxZoom: 15, animate: false });
      say(fill(T.city_shown, { city: city.name, n: city.stations }));
      if (finder) finder.classList.remove("attention");
      if (citySelect && citySelect.querySelector('option[value="' + city.adcode + '"]')) citySelect.value = city.adcode;
      writeUrl(!!push);
    }
    if (citySelect) {
      ["focus", "pointerdown", "touchstart"].forEach(function (type) {
        citySelect.addEventListener(type, loadCities, { passive: true });
      });
      citySelect.addEventListener("change", function () {
        var city = cities && cities[citySelect.value];
        if (city) showCity(city, true);
      });
    }
    function hideSearch() { if (searchResults) { searchResults.hidden = true; searchResults.textContent = ""; } }
    function searchRow(label, sub, action) {
      var li = el("li"), button = el("button", null);
      button.type = "button";
      button.appendChild(el("span", "main", label));
      if (sub) { button.appendChild(document.createTextNode(" ")); button.appendChild(el("span", "sub", sub)); }
      button.addEventListener("click", function () { hideSearch(); action(); });
      li.appendChild(button);
      return li;
    }
    var searchRequest = 0;
    function runSearch(q) {
      if (!searchResults || !api.search) return;
      if (!q) { hideSearch(); return; }
      var mine = ++searchRequest;
      var url = api.search + "?q=" + encodeURIComponent(q) + "&limit=8&lang=" + cfg.lang;
      if (here) url += "&lat=" + here.lat.toFixed(5) + "&lon=" + here.lon.toFixed(5);
      fetchJson(url).then(function (data) {
        if (mine !== searchRequest) return;
        searchResults.textContent = "";
        data.cities.forEach(function (c) {
          searchResults.appendChild(searchRow(c.name, c.province + " · " + fill(T.search_city, { n: c.stations }), function () { showCity(c, true); }));
        });
        data.stations.forEach(function (s) {
          var where = [s.city, s.district].filter(Boolean).join(" ");
          searchResults.appendChild(searchRow(s.name, where, function () {
            var rec = ensureRecord(s.id, s.lat, s.lon, s.name, null);
            map.setView(shift(s.lat, s.lon), Math.max(map.getZoom(), 16), { animate: false });
            select(rec.id, "list");
            // The map left the city picked before: neither the picker nor the line says it still.
            if (citySelect) citySelect.value = "";
            say(fill(T.search_station_shown, { name: s.name, where: where }));
          }));
        });
        if (!data.cities.length && !data.stations.length) searchResults.appendChild(el("li", "none", fill(T.search_none, { q: q })));
        searchResults.hidden = false;
      }).catch(function () { if (mine === searchRequest) say(T.error); });
    }
    if (searchForm && searchInput) {
      var composing = false, searchTimer = null;
      searchForm.addEventListener("submit", function (e) {
        e.preventDefault();
        clearTimeout(searchTimer);
        runSearch(searchInput.value.trim());
      });
      searchInput.addEventListener("compositionstart", function () { composing = true; });
      searchInput.addEventListener("compositionend", function () { composing = false; });
      searchInput.addEventListener("input", function () {
        clearTimeout(searchTimer);
        if (composing) return; // a Chinese input method is still choosing characters
        searchTimer = setTimeout(function () { runSearch(searchInput.value.trim()); }, 350);
      });
      searchInput.addEventListener("keydown", function (e) { if (e.key === "Escape") hideSearch(); });
    }

    // -- the view in the address bar -----------------------------------------------------------
    function viewQuery() {
      var keep = new URLSearchParams(location.search), parts = [];
      ["center", "centre", "zoom", "facilities", "open_now", "station", "near"].forEach(function (k) { keep.delete(k); });
      keep.forEach(function (value, key) { parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value)); });
      var c = map.getCenter(), w = unshift(c.lat, c.lng);
      parts.push("center=" + fixed(w[0]) + "," + fixed(w[1]), "zoom=" + map.getZoom());
      if (state.facilities.length) parts.push("facilities=" + state.facilities.map(encodeURIComponent).join(","));
      if (state.openNow) parts.push("open_now=1");
      if (state.station) parts.push("station=" + state.station);
      if (state.near) parts.push("near=" + fixed(state.near.lat) + "," + fixed(state.near.lon));
      return "?" + parts.join("&");
    }
    var applying = false;
    function writeUrl(push) {
      if (!cfg.urlState || applying || !window.history || !history.replaceState) return;
      var url = location.pathname + viewQuery() + location.hash;
      if (url === location.pathname + location.search + location.hash) return;
      if (push) history.pushState({ yz: 1 }, "", url);
      else history.replaceState({ yz: 1 }, "", url);
    }
    function pair(text) {
      var m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || "");
      return m ? { lat: Number(m[1]), lon: Number(m[2]) } : null;
    }
    function applyUrl() { // back and forward within the page
      var q = new URLSearchParams(location.search);
      applying = true;
      try {
        state.facilities = (q.get("facilities") || "").split(",").filter(function (k) { return cfg.labels[k]; });
        state.openNow = q.get("open_now") === "1";
        syncChips();
        var centre = pair(q.get("center") || q.get("centre")), zoom = Number(q.get("zoom"));
        if (centre && zoom) map.setView(shift(centre.lat, centre.lon), zoom, { animate: false });
        var near = pair(q.get("near"));
        state.near = near;
        if (near) {
          here = { lat: near.lat, lon: near.lon };
          drawHere();
          loadNearest({ fit: !centre });
        } else {
          nearestIds = {};
          if (resultsEl) resultsEl.textContent = "";
          clearNotice();
          say(cfg.embed ? "" : T.start);
          listing(false);
        }
        var station = Number(q.get("station")) || null;
        if (station) selectStation(station, "restore").catch(function () {});
        else if (state.station) { state.station = null; map.closePopup(); highlight(false); }
        loadView();
      } finally {
        applying = false;
      }
    }
    window.addEventListener("popstate", applyUrl);

    // -- start -------------------------------------------------------------------------------------
    if (cfg.fit) { // the embed's region, fitted to its stations
      map.fitBounds(L.latLngBounds(shift(cfg.fit[0][0], cfg.fit[0][1]), shift(cfg.fit[1][0], cfg.fit[1][1])), { padding: [12, 12], animate: false });
    }
    map.on("popupopen", function (e) { // the map's height changes as the list comes and goes
      var most = Math.max(160, map.getSize().y - 72);
      if (e.popup.options.maxHeight !== most) { e.popup.options.maxHeight = most; e.popup.update(); }
    });
    var moveTimer = null;
    map.on("moveend", function () {
      clearTimeout(moveTimer);
      moveTimer = setTimeout(function () { loadView(); writeUrl(false); }, 150);
    });
    loadView();
    var hasCentre = /[?&](center|centre)=/.test(location.search);
    if (cfg.urlState && (cfg.search || "") !== location.search) {
      applyUrl(); // drawn for another address (the offline copy of "/"): the address decides
    } else if (here) { // a reload, back from a station page or a shared link: the same list again
      drawHere();
      loadNearest({ fit: !hasCentre }).then(function () {
        if (state.station) selectStation(state.station, "restore").catch(function () {});
      });
    } else if (state.station) {
      selectStation(state.station, "restore").catch(function () {});
    } else if (!cfg.embed) say(T.start);
    if (!cfg.embed) loadCities();
    // Taps made before this script ran (a slow first visit) were kept by the page: act on them.
    var early = window.yzEarly || [];
    window.yzEarly = null;
    if (early.indexOf("search") >= 0 && searchInput) runSearch(searchInput.value.trim());
    if (early.indexOf("locate") >= 0 && locateButton) locateButton.click();
  }
})();
