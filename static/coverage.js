// The coverage map: district outlines, covered area, gaps, demand and suggested sites.
// Everything arrives as GeoJSON already in the base map's datum; text goes in as textContent.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("yz-coverage").textContent);
  var map = window[cfg.map];
  var T = cfg.t;

  function text(parts) {
    var node = document.createElement("span");
    node.textContent = parts.join(" ");
    return node;
  }

  var outlines = L.geoJSON(cfg.outlines, {
    style: { color: "#344054", weight: 1.5, fill: false, dashArray: "4 3" },
    interactive: false,
  }).addTo(map);
  L.geoJSON(cfg.layers.circles, {
    style: { color: "#1a7f37", weight: 1, fillColor: "#32d583", fillOpacity: 0.35 },
    interactive: false,
  }).addTo(map);
  L.geoJSON(cfg.layers.gaps, {
    style: { color: "#b42318", weight: 1, fillColor: "#f97066", fillOpacity: 0.25 },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(text([T.gap, f.properties.district, f.properties.area_km2, T.km2]));
    },
  }).addTo(map);
  // Demand: dots sized by weight, orange where no station reaches, grey where one does.
  var maxWeight = cfg.layers.demand.reduce(function (m, f) { return Math.max(m, f.properties.weight); }, 1);
  L.geoJSON(cfg.layers.demand, {
    pointToLayer: function (f, at) {
      var r = 3 + 9 * Math.sqrt(f.properties.weight / maxWeight);
      return L.circleMarker(at, {
        radius: r, stroke: false,
        fillColor: f.properties.covered ? "#98a2b3" : "#f79009", fillOpacity: 0.7,
      }).bindTooltip(text([T.weight, Math.round(f.properties.weight), f.properties.label || ""]));
    },
  }).addTo(map);
  L.geoJSON(cfg.layers.stations, {
    pointToLayer: function (f, at) {
      return L.circleMarker(at, { radius: 3, color: "#1a7f37", weight: 1, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(text([f.properties.name]));
    },
  }).addTo(map);
  var sites = L.geoJSON(cfg.layers.suggestions, {
    pointToLayer: function (f, at) {
      var icon = L.divIcon({ className: "site-pin", html: "", iconSize: [28, 28] });
      var marker = L.marker(at, { icon: icon, title: "#" + f.properties.rank, keyboard: true });
      marker.on("add", function () { marker.getElement().textContent = String(f.properties.rank); });
      return marker.bindPopup(text(["#" + f.properties.rank, f.properties.district, T.adds, Math.round(f.properties.adds)]));
    },
  }).addTo(map);
  var bounds = outlines.getBounds();
  map.options.zoomSnap = 0.25; // fit a region snugly, not at the next whole zoom level out
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
  window.yzCoverage = { sites: sites.getLayers().length };
})();
