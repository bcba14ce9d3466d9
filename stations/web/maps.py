"""Everything folium: the base map, its tile layer and datum, and self-hosted Leaflet.

folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs; our pages
load only Leaflet, from our own server, so they work without the public internet except for
tiles, and stay small for riders who pay for data.

Nothing in the header blocks the first paint: leaflet.js is deferred and leaflet.css applies
once loaded (the map box is sized by our own style sheet, so nothing moves). The map's script
therefore waits for Leaflet: it runs as soon as leaflet.js has run, which is before any later
deferred script and before DOMContentLoaded, and leaves the map in `window[name]` as before.
"""

import json
import re
from dataclasses import dataclass
from html import escape

import folium
from branca.element import Figure
from flask import url_for


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str
    datum: str = "wgs84"  # what the tiles are drawn in: markers must be converted to match
    subdomains: str = "abc"
    max_zoom: int = 18
    labels_url: str | None = None  # a second, transparent layer of place names


PRESETS = {
    "osm": Tiles(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "© OpenStreetMap contributors",
        max_zoom=19,
    ),
    # Tianditu draws in CGCS2000, which matches WGS-84 to well under a metre.
    "tianditu": Tiles(
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "© 天地图 Tianditu",
        subdomains="01234567",
        labels_url="https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
    ),
    "amap": Tiles(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "© 高德地图 AutoNavi",
        datum="gcj02",
        subdomains="1234",
    ),
}


def tiles_from_config(
    name: str, key: str = "", url: str = "", datum: str = "wgs84", attribution: str = ""
) -> Tiles:
    """The tile layer for TILES (a preset name) or TILES_URL (any XYZ template)."""
    if url:
        return Tiles(url, attribution or "Map tiles", datum=datum)
    preset = PRESETS.get(name)
    if preset is None:
        raise ValueError(f"TILES must be one of {', '.join(PRESETS)}, not {name!r}")
    if "{key}" in preset.url:
        if not key:
            raise ValueError(f"TILES={name} needs a key (TIANDITU_KEY)")
        return Tiles(
            preset.url.replace("{key}", key),
            preset.attribution,
            preset.datum,
            preset.subdomains,
            preset.max_zoom,
            preset.labels_url.replace("{key}", key) if preset.labels_url else None,
        )
    return preset


def configured_tiles(config) -> Tiles:
    """The tile layer an app's configuration asks for (TILES, TIANDITU_KEY, TILES_URL, …)."""
    return tiles_from_config(
        config.get("TILES", "osm"),
        config.get("TIANDITU_KEY", ""),
        config.get("TILES_URL", ""),
        config.get("TILES_DATUM", "wgs84"),
        config.get("TILES_ATTRIBUTION", ""),
    )


def station_map(
    centre: tuple[float, float], zoom: int, tiles: Tiles, leaflet_js: str, leaflet_css: str
) -> dict:
    """A folium map split into the parts a page template places: header, html, script, name."""
    m = folium.Map(
        location=list(centre), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=True
    )
    m.default_js = []  # loaded by our own header below, deferred
    m.default_css = []
    for url, name, overlay in ((tiles.url, "base", False), (tiles.labels_url, "labels", True)):
        if url:
            folium.TileLayer(
                tiles=url,
                name=name,
                overlay=overlay,
                control=not overlay,
                attr=tiles.attribution,
                max_zoom=tiles.max_zoom,
                subdomains=tiles.subdomains,
            ).add_to(m)
    root = m.get_root()
    assert isinstance(root, Figure)  # a Map always sits in a Figure of its own
    root.render()
    name = m.get_name()
    return {
        "header": _header(root.header.render(), leaflet_js, leaflet_css),
        "html": root.html.render(),
        "script": _when_leaflet_ready(_metric(root.script.render()), name, leaflet_css),
        "name": name,
    }


def _metric(script: str) -> str:
    """The scale in metres and kilometres only: riders in China read no miles or feet."""
    return script.replace("L.control.scale()", "L.control.scale({imperial: false})")


# folium's own <meta> tags: a second charset, and a viewport that forbids pinch-zoom (the page
# template carries the proper viewport).
_FOLIUM_META = re.compile(r"<meta\s+(?:http-equiv|name=\"viewport\")[^>]*>\s*", re.IGNORECASE)
# folium's inline script setting Leaflet's globals to their defaults (false): not needed, and
# an inline script the Content-Security-Policy would have to allow on every page.
_FOLIUM_INLINE = re.compile(
    r"<script>\s*L_NO_TOUCH = false;\s*L_DISABLE_3D = false;\s*</script>\s*"
)


def _header(rendered: str, leaflet_js: str, leaflet_css: str) -> str:
    """folium's header without its <meta> tags, after our deferred Leaflet.

    leaflet.css loads as print style and switches itself on when loaded: a style sheet in the
    head otherwise holds the first paint for a whole round trip (2 s on Slow 3G).
    """
    rest = _FOLIUM_INLINE.sub("", _FOLIUM_META.sub("", rendered))
    assert "<meta" not in rest, "folium's header has a <meta> this code does not know"
    assert "<script" not in rest, "folium's header has a script this code does not know"
    # No onload attribute (the Content-Security-Policy runs no inline handlers): the map's
    # script switches the style sheet on (see _when_leaflet_ready).
    return (
        f'<script defer src="{escape(leaflet_js)}" data-leaflet></script>\n'
        f'<link rel="stylesheet" href="{escape(leaflet_css)}" media="print" data-leaflet-css>\n'
        + rest.strip()
        + "\n"
    )


def _when_leaflet_ready(body: str, name: str, leaflet_css: str) -> str:
    """folium's map script, run once Leaflet is there: at once if it already is, else when the
    deferred leaflet.js has run (its load event fires before the next deferred script runs), or
    at DOMContentLoaded at the latest. The map is left in window[name]. leaflet.css, loaded as
    print style so as not to hold the first paint, is switched on here once it has loaded.

    Leaflet finds its marker images through leaflet.css, which may not apply yet: they are named
    here, next to the style sheet as the style sheet names them (images/…)."""
    images = leaflet_css.split("?")[0].rsplit("/", 1)[0] + "/images/"
    return f"""(function (run) {{
  var done = false;
  function once() {{ if (!done && window.L) {{ done = true; run(); }} }}
  var leaflet = document.querySelector("script[data-leaflet]");
  if (leaflet) leaflet.addEventListener("load", once);
  document.addEventListener("DOMContentLoaded", once);
  once();
}})(function () {{
if (typeof L.Icon.Default.imagePath !== "string") L.Icon.Default.imagePath = {json.dumps(images)};
{body.strip()}
{name}.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>'); // no flag
window[{json.dumps(name)}] = {name};
}});
(function () {{
  var css = document.querySelector("link[data-leaflet-css]");
  function on() {{ css.media = "all"; }}
  if (css) {{ if (css.sheet) on(); else css.addEventListener("load", on); }}
}})();"""


def page_map(centre: tuple[float, float], zoom: int, tiles: Tiles) -> dict:
    """station_map() with Leaflet from our own server: what every page's map is (in a request)."""
    return station_map(
        centre,
        zoom,
        tiles,
        url_for("assets.vendor", filename="leaflet.js"),
        url_for("assets.vendor", filename="leaflet.css"),
    )
