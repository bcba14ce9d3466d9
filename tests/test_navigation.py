"""The Go choices: every map app gets the station's coordinates in the datum it reads."""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from stations.core import datum, navigation

HEFEI = (31.8206, 117.2272, "340104")  # 蜀山区: mainland, GCJ-02 applies
HONG_KONG = (22.2819, 114.1582, "810101")  # 中西区: WGS-84 everywhere
NAME = "金寨路&工会驿站, 一号"

# What each app reads in the mainland, from its documentation (see core/navigation.py).
READS_IN_MAINLAND = {
    "amap": "wgs84",  # marker URI, told coordinate=wgs84
    "amap_route": "gcj02",  # navigation URI: no datum option
    "apple": "gcj02",  # AutoNavi's data in the mainland
    "baidu": "wgs84",  # told coord_type=wgs84
    "tencent": "gcj02",  # routeplan: Tencent's own coordinates
    "geo": "wgs84",  # RFC 5870
}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def lat_lon(key: str, url: str) -> tuple[float, float]:
    """The point a link opens, as (lat, lon), read the way the app reads it."""
    if key == "amap":
        lon, lat = query(url)["position"].split(",")
    elif key == "amap_route":
        lon, lat, _name = query(url)["to"].split(",", 2)
    elif key == "apple":
        lat, lon = query(url)["daddr"].split(",")
    elif key == "baidu":
        lat, lon = query(url)["location"].split(",")
    elif key == "tencent":
        lat, lon = query(url)["tocoord"].split(",")
    else:
        lat, lon = url.removeprefix("geo:").split("?")[0].split(",")
    return float(lat), float(lon)


@pytest.mark.parametrize("adcode_known", [True, False], ids=["adcode", "boundary"])
@pytest.mark.parametrize("place", [HEFEI, HONG_KONG], ids=["hefei", "hong-kong"])
def test_each_link_carries_the_datum_its_app_reads(place, adcode_known):
    lat, lon, adcode = place
    mainland = place is HEFEI
    links = navigation.links(lat, lon, NAME, "金寨路 1 号", adcode if adcode_known else None)
    assert set(links) == set(READS_IN_MAINLAND)
    for key, reads in READS_IN_MAINLAND.items():
        want = datum.from_wgs84(lat, lon, reads if mainland else "wgs84")
        got = lat_lon(key, links[key])
        assert got == pytest.approx(want, abs=1e-6), key
    if mainland:  # the shift is real here (~500 m): a WGS-84 link to Tencent would miss
        g_lat, g_lon = lat_lon("tencent", links["tencent"])
        assert abs(g_lon - lon) > 0.004 and abs(g_lat - lat) > 0.001


def test_links_that_take_a_datum_option_say_wgs84():
    lat, lon, adcode = HEFEI
    links = navigation.links(lat, lon, NAME, "", adcode)
    assert query(links["amap"])["coordinate"] == "wgs84"
    assert query(links["baidu"])["coord_type"] == "wgs84"
    assert "coord_type" not in query(links["tencent"])  # routeplan takes none: GCJ-02


def test_each_app_opens_a_route_or_the_place_named():
    lat, lon, adcode = HEFEI
    links = navigation.links(lat, lon, NAME, "金寨路 1 号", adcode)
    assert links["amap_route"].startswith("https://uri.amap.com/navigation?")
    assert query(links["amap_route"])["mode"] == "ride"
    assert query(links["amap_route"])["to"].split(",", 2)[2] == NAME
    assert links["apple"].startswith("https://maps.apple.com/?")
    assert query(links["apple"])["q"] == NAME
    assert links["tencent"].startswith("https://apis.map.qq.com/uri/v1/routeplan?")
    assert query(links["tencent"])["type"] == "bike" and query(links["tencent"])["to"] == NAME
    assert query(links["baidu"])["title"] == NAME
    assert query(links["baidu"])["content"] == "金寨路 1 号"
    assert unquote(links["geo"]).endswith(f"({NAME})")
