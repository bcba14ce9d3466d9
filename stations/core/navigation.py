"""Links that open a station in the map apps workers already use (pure).

Each app gets coordinates in the datum it reads, or is told which datum it is given:

- Amap's marker URI takes `coordinate=wgs84`: WGS-84 as stored.
- Amap's navigation URI takes no datum option and reads GCJ-02.
- Baidu's marker URI takes `coord_type=wgs84` (it also accepts gcj02, bd09ll, bd09mc) and
  converts itself: WGS-84 as stored.
- Tencent's route-planning URI (`routeplan`, which rides from the phone's own position when
  no start is given) has no datum option and reads Tencent's own coordinates, GCJ-02.
- Apple Maps draws the mainland from AutoNavi's GCJ-02 data and reads coordinates in a link
  as the map's own: GCJ-02 in the mainland, WGS-84 elsewhere.
- `geo:` (RFC 5870) is WGS-84 by definition.

GCJ-02 differs from WGS-84 only in mainland China: in Hong Kong, Macao and Taiwan (and abroad)
every app reads WGS-84, so the "GCJ-02" links there carry the stored coordinates unchanged.
"""

from urllib.parse import quote, urlencode

from stations.core import datum, regions

SOURCE = "yizhan"
# What each link's coordinates are in, where the point is in mainland China ("wgs84" links
# say so in an option, or are WGS-84 by definition). Outside the mainland every link is WGS-84.
MAINLAND_DATUM = {
    "amap": "wgs84",
    "amap_route": "gcj02",
    "apple": "gcj02",
    "baidu": "wgs84",
    "tencent": "gcj02",
    "geo": "wgs84",
}


def links(
    lat: float, lon: float, name: str, address: str = "", adcode: str | None = None
) -> dict[str, str]:
    """Navigation and map links for a WGS-84 point, by app (keys as in MAINLAND_DATUM).

    adcode: the station's district; it settles whether the point is in the mainland (where
    some apps want GCJ-02) without a point-in-polygon test, which lists of stations cannot
    afford for each one."""
    mainland = regions.mainland_adcode(adcode) if adcode else None
    g_lat, g_lon = datum.from_wgs84(lat, lon, "gcj02", mainland=mainland)
    return {
        "amap": "https://uri.amap.com/marker?"
        + urlencode(
            {
                "position": f"{lon},{lat}",
                "name": name,
                "coordinate": "wgs84",
                "src": SOURCE,
                "callnative": 1,
            }
        ),
        "amap_route": "https://uri.amap.com/navigation?"
        + urlencode(
            {
                "to": f"{g_lon:.6f},{g_lat:.6f},{name}",
                "mode": "ride",
                "src": SOURCE,
                "callnative": 1,
            }
        ),
        "apple": "https://maps.apple.com/?"
        + urlencode({"daddr": f"{g_lat:.6f},{g_lon:.6f}", "q": name}),
        "baidu": "https://api.map.baidu.com/marker?"
        + urlencode(
            {
                "location": f"{lat},{lon}",
                "title": name,
                "content": address or name,
                "coord_type": "wgs84",
                "output": "html",
                "src": SOURCE,
            }
        ),
        "tencent": "https://apis.map.qq.com/uri/v1/routeplan?"
        + urlencode(
            {
                "type": "bike",
                "to": name,
                "tocoord": f"{g_lat:.6f},{g_lon:.6f}",
                "referer": SOURCE,
            }
        ),
        "geo": f"geo:{lat},{lon}?q={lat},{lon}({quote(name)})",
    }
