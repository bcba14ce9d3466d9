// Staff maps: drag a station's pin on the edit form, or show a set of stations (dashboard).
// Names go into the page through textContent only.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("yz-staff").textContent);
  var map = window[cfg.map];
  if (cfg.mode === "edit") {
    var lat = document.getElementById("lat"), lon = document.getElementById("lon"), crs = document.getElementById("crs");
    var start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)] : map.getCenter();
    var pin = L.marker(start, { draggable: true, keyboard: true }).addTo(map);
    if (crs.value === "wgs84" && cfg.datum === "gcj02") { /* the first position is WGS-84: keep it */ }
    pin.on("dragend", function () {
      var at = pin.getLatLng();
      lat.value = at.lat.toFixed(7);
      lon.value = at.lng.toFixed(7);
      crs.value = cfg.datum; // a dragged pin is in the base map's datum
    });
  } else if (cfg.mode === "points") {
    var group = L.featureGroup().addTo(map);
    cfg.points.forEach(function (p) {
      var link = document.createElement("a");
      link.href = "/admin/stations/" + encodeURIComponent(p.id);
      link.textContent = p.name;
      L.circleMarker([p.lat, p.lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#b42318", fillOpacity: 0.9 })
        .bindPopup(link).addTo(group);
    });
    // Never closer than street level: one station (or several at one spot) would otherwise
    // fill the map at 20 m scale. No station: the map stays on the region's centre.
    var MAX_ZOOM = 16;
    if (cfg.points.length === 1) {
      map.setView([cfg.points[0].lat, cfg.points[0].lon], MAX_ZOOM);
    } else if (cfg.points.length > 1) {
      map.fitBounds(group.getBounds().pad(0.2), { maxZoom: MAX_ZOOM });
    }
  }
})();
