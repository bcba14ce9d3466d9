// The snippet builder: every change rebuilds the embed address, the preview and the code.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("yz-builder").textContent);
  var form = document.getElementById("builder");
  var snippet = document.getElementById("snippet");
  var preview = document.getElementById("preview");

  function escapeAttr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  function build() {
    var q = [];
    var region = form.region.value.trim();
    if (/^[0-9]{2}([0-9]{2}){0,2}$/.test(region)) q.push("region=" + region);
    var wanted = Array.prototype.filter.call(form.querySelectorAll('input[name="facilities"]'), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    if (wanted.length) q.push("facilities=" + wanted.join(","));
    ["open_now", "list", "locate"].forEach(function (name) { if (form[name].checked) q.push(name + "=1"); });
    q.push("lang=" + (form.lang.value === "en" ? "en" : "zh"));
    var url = cfg.base + "?" + q.join("&");
    var width = Math.min(1600, Math.max(240, parseInt(form.width.value, 10) || 360));
    var height = Math.min(1600, Math.max(240, parseInt(form.height.value, 10) || 600));
    snippet.value = '<iframe src="' + escapeAttr(url) + '" title="' + escapeAttr(cfg.title) + '" width="' + width +
      '" height="' + height + '" allow="geolocation" loading="lazy" style="border:0"></iframe>';
    if (preview.getAttribute("src") !== url) preview.setAttribute("src", url);
    preview.width = width;
    preview.height = height;
  }

  form.addEventListener("input", build);
  form.addEventListener("change", build);
  document.getElementById("copy").addEventListener("click", function () {
    snippet.select();
    var done = function () { document.getElementById("copied").textContent = cfg.copied; };
    if (navigator.clipboard) navigator.clipboard.writeText(snippet.value).then(done, function () { document.execCommand("copy"); done(); });
    else { document.execCommand("copy"); done(); }
  });
  build();
})();
