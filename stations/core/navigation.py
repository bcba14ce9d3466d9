"""Links that open a station in the map apps workers already use (pure).

Amap's marker URI and Baidu's and Tencent's take a datum option, so they get WGS-84 as stored.
Amap's navigation URI takes none and reads GCJ-02, so it gets converted coordinates.
"""

from urllib.parse import quote, urlencode

from stations.core import datum, regions

SOURCE = "yizhan"


def links(
    lat: float, lon: float, name: str, address: str = "", adcode: str | None = None
) -> dict[str, str]:
    """Navigation and map links for a WGS-84 point, by app.

    adcode: the station's district; it settles whether the point is in the mainland (where
    Amap wants GCJ-02) without a point-in-polygon test, which lists of stations cannot afford
    for each one."""
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
        "tencent": "https://apis.map.qq.com/uri/v1/marker?"
        + urlencode(
            {
                "marker": f"coord:{lat},{lon};title:{name};addr:{address or name}",
                "coord_type": 1,
                "referer": SOURCE,
            }
        ),
        "geo": f"geo:{lat},{lon}?q={lat},{lon}({quote(name)})",
    }
