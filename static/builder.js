// The snippet builder: every change rebuilds the embed address, the preview and the code.
// The region picker loads each level (province → city → district) when it is opened; names
// only ever enter the page as option text, never as HTML.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("yz-builder").textContent);
  var form = document.getElementById("builder");
  form.addEventListener("submit", function (e) { e.preventDefault(); }); // nothing to send
  var snippet = document.getElementById("snippet");
  var preview = document.getElementById("preview");
  var regionNote = document.getElementById("region-note");
  var switchNote = document.getElementById("switch-note");
  var province = form.province, city = form.city, district = form.district, typed = form.region;
  var known = {}; // adcode prefix -> {name, stations}
  var levels = {}; // parent prefix -> promise of {level, items}
  var bad = {}; // prefixes the server does not know

  Array.prototype.forEach.call(province.options, function (o) {
    if (o.value) known[o.value] = { name: o.getAttribute("data-name"), stations: +o.getAttribute("data-stations") };
  });

  // A region's next level, with its own name and number of stations; each asked once.
  function children(parent) {
    if (!levels[parent]) {
      levels[parent] = fetch(S.regions + "?parent=" + encodeURIComponent(parent))
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (parent) known[parent] = { name: data.name, stations: data.stations };
          data.items.forEach(function (it) { known[it.code] = { name: it.name, stations: it.stations }; });
          return data;
        }, function (err) { bad[parent] = true; throw err; });
    }
    return levels[parent];
  }

  function reset(select) {
    select.textContent = "";
    select.appendChild(new Option(S.any, ""));
    select.disabled = true;
  }

  function fill(select, items) {
    reset(select);
    items.forEach(function (it) {
      select.appendChild(new Option(S.count.replace("{name}", it.name).replace("{n}", it.stations), it.code));
    });
    select.disabled = false;
  }

  // Show a province's next level: its cities, or a municipality's districts.
  function openProvince(code) {
    reset(city);
    reset(district);
    if (!code) return Promise.resolve();
    return children(code).then(function (data) {
      if (province.value !== code) return;
      fill(data.level === "city" ? city : district, data.items);
    });
  }

  function openCity(code) {
    reset(district);
    if (code.length !== 4) return Promise.resolve(); // a county-level city has no districts
    return children(code).then(function (data) {
      if (city.value === code) fill(district, data.items);
    });
  }

  function chosen() {
    return district.value || city.value || province.value;
  }

  province.addEventListener("change", function () {
    typed.value = province.value;
    openProvince(province.value).then(build);
    build();
  });
  city.addEventListener("change", function () {
    typed.value = chosen();
    openCity(city.value).then(build);
    build();
  });
  district.addEventListener("change", function () {
    typed.value = chosen();
    build();
  });

  function hasOption(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }

  // A typed adcode prefix moves the pickers to it, level by level.
  typed.addEventListener("input", function () {
    build();
    var code = typed.value.trim();
    if (!/^[0-9]{2}([0-9]{2}){0,2}$/.test(code) && code !== "") return;
    var p = code.slice(0, 2);
    province.value = hasOption(province, p) ? p : "";
    openProvince(province.value).then(function () {
      if (code.length < 4 || typed.value.trim() !== code) return;
      if (!district.disabled && hasOption(district, code)) { district.value = code; return; } // municipality
      var c = hasOption(city, code) ? code : code.slice(0, 4);
      if (!hasOption(city, c)) return;
      city.value = c;
      return openCity(c).then(function () {
        if (code.length === 6 && hasOption(district, code)) district.value = code;
      });
    }).then(build, build);
  });

  function describeRegion(code) {
    if (!code) return S.everywhere;
    var info = known[code];
    if (!info) {
      if (bad[code]) return S.unknown.replace("{code}", code);
      children(code).then(build, build); // its name and count, then say them
      return S.loading;
    }
    if (!info.stations) return S.empty.replace("{region}", info.name);
    return S.stations.replace("{region}", info.name).replace("{n}", info.stations);
  }

  function escapeAttr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  function clamp(value, low, high, fallback) {
    var n = parseInt(value, 10);
    return Math.min(high, Math.max(low, isNaN(n) ? fallback : n));
  }

  function build() {
    var q = [];
    var region = typed.value.trim();
    var valid = /^[0-9]{2}([0-9]{2}){0,2}$/.test(region);
    if (valid) q.push("region=" + region);
    regionNote.textContent = describeRegion(valid ? region : "");
    var wanted = Array.prototype.filter.call(form.querySelectorAll('input[name="facilities"]'), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    if (wanted.length) q.push("facilities=" + wanted.join(","));
    // The list is of the stations nearest the visitor: without "locate me" it could never fill.
    form.list.disabled = !form.locate.checked;
    if (form.list.disabled) form.list.checked = false;
    var notes = [];
    if (!form.locate.checked) notes.push(S.list_needs_locate);
    if (form.open_now.checked) q.push("open_now=1");
    if (form.locate.checked) q.push("locate=1");
    if (form.list.checked) q.push("list=1");
    var lang = form.lang.value === "en" ? "en" : "zh";
    q.push("lang=" + lang);
    var url = S.base + "?" + q.join("&");
    var width = clamp(form.width.value, 240, 1600, 480);
    var height = clamp(form.height.value, 240, 1600, 600);
    if (form.list.checked && height < S.min_list_height) {
      height = S.min_list_height;
      notes.push(S.list_height.replace("{px}", height));
    }
    switchNote.textContent = notes.join(" ");
    // Responsive: as wide as the partner's column (a phone's full width), up to the maximum.
    var style = "display:block;width:100%;max-width:" + width + "px;height:" + height + "px;border:0";
    snippet.value = '<iframe src="' + escapeAttr(url) + '" title="' + escapeAttr(S.title[lang]) +
      '" width="100%" height="' + height + '" style="' + style + '" allow="geolocation" loading="lazy"></iframe>';
    if (preview.getAttribute("src") !== url) preview.setAttribute("src", url);
    preview.setAttribute("style", style + ";border:1px solid #e4e7ec");
  }

  form.addEventListener("input", function (e) { if (e.target !== typed) build(); });
  form.addEventListener("change", function (e) {
    if (e.target === form.height || e.target === form.width) {
      var min = form.list.checked ? S.min_list_height : 240;
      form.height.value = clamp(form.height.value, min, 1600, 600);
      form.width.value = clamp(form.width.value, 240, 1600, 480);
    }
    build();
  });
  document.getElementById("copy").addEventListener("click", function () {
    snippet.select();
    var done = function () { document.getElementById("copied").textContent = S.copied; };
    if (navigator.clipboard) navigator.clipboard.writeText(snippet.value).then(done, function () { document.execCommand("copy"); done(); });
    else { document.execCommand("copy"); done(); }
  });
  if (typed.value) typed.dispatchEvent(new Event("input")); // a value the browser restored
  build();
})();
