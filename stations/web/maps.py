"""Everything folium: the base map, its tile layer and datum, and self-hosted Leaflet.

folium's defaults load Leaflet, jQuery, Bootstrap and Font Awesome from public CDNs; our pages
load only Leaflet, from our own server, so they work without the public internet except for
tiles, and stay small for riders who pay for data.
"""

from dataclasses import dataclass

import folium
from branca.element import Figure


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
    m.default_js = [("leaflet", leaflet_js)]
    m.default_css = [("leaflet_css", leaflet_css)]
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
    return {
        "header": root.header.render(),
        "html": root.html.render(),
        "script": root.script.render(),
        "name": m.get_name(),
    }
