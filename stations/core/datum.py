"""WGS-84 <-> GCJ-02 <-> BD-09.

GCJ-02 is the obfuscated datum that Chinese law requires of published maps (Amap, Tencent);
BD-09 is Baidu's further offset of it. GCJ-02 applies only in mainland China and its coastal
waters (see in_gcj02_area): outside them, Amap and the others show plain WGS-84, so points there
are never shifted. On land the real boundary in `regions` decides, not a bounding box.

Whether a GCJ-02 point was shifted is a question about its WGS-84 origin, not about the point
as given: the shift (~300 m south, ~550 m east near Shenzhen) carries mainland points within
~1.5 km of Hong Kong or Macao across the border, so a test on the shifted point refuses them
(see to_wgs84).

Forward formulas are the published GCJ-02/BD-09 ones; the inverses are solved by fixed-point
iteration to better than 1e-9 degrees (0.1 mm), since no closed form exists.
"""

from collections.abc import Sequence
from functools import cache
from math import atan2, cos, pi, sin, sqrt

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = pi * 3000.0 / 180.0

DATUMS = ("wgs84", "gcj02", "bd09")


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret


def gcj02_from_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in GCJ-02 for a WGS-84 point, with no check of where the point is."""
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * pi
    magic = 1 - _EE * sin(radlat) ** 2
    sqrtmagic = sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * cos(radlat) * pi)
    return lat + dlat, lon + dlon


def bd09_from_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in BD-09 for a GCJ-02 point."""
    z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * _X_PI)
    theta = atan2(lat, lon) + 0.000003 * cos(lon * _X_PI)
    return z * sin(theta) + 0.006, z * cos(theta) + 0.0065


def _invert(forward, lat: float, lon: float) -> tuple[float, float]:
    """The point p with forward(p) == (lat, lon), by fixed-point iteration.

    forward is the identity plus a shift that varies slowly (well under 1e-3 per degree),
    so each step gains about three digits; four or five steps reach 1e-12 degrees.
    """
    guess_lat, guess_lon = lat, lon
    for _ in range(30):
        f_lat, f_lon = forward(guess_lat, guess_lon)
        err_lat, err_lon = lat - f_lat, lon - f_lon
        guess_lat += err_lat
        guess_lon += err_lon
        if abs(err_lat) < 1e-12 and abs(err_lon) < 1e-12:
            break
    return guess_lat, guess_lon


def wgs84_from_gcj02(lat: float, lon: float) -> tuple[float, float]:
    return _invert(gcj02_from_wgs84, lat, lon)


def gcj02_from_bd09(lat: float, lon: float) -> tuple[float, float]:
    return _invert(bd09_from_gcj02, lat, lon)


def bd09_from_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return bd09_from_gcj02(*gcj02_from_wgs84(lat, lon))


def wgs84_from_bd09(lat: float, lon: float) -> tuple[float, float]:
    return wgs84_from_gcj02(*gcj02_from_bd09(lat, lon))


def shift_to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """WGS-84 for a GCJ-02/BD-09 point the caller knows to be in the mainland."""
    if crs == "gcj02":
        return wgs84_from_gcj02(lat, lon)
    if crs == "bd09":
        return wgs84_from_bd09(lat, lon)
    raise ValueError(f"unknown datum {crs!r}; use one of {', '.join(DATUMS)}")


# China's coastal waters, (lon, lat): a rough outline of the sea that Amap's and Tencent's
# shifted tiles cover, so that a phone on a ferry in the Qiongzhou Strait or off the Yangtze
# mouth reports GCJ-02 like one ashore. The published libraries differ here: coordTransform
# and eviltransform shift everything in a bounding box (Hanoi, Seoul and Taipei included);
# prcoords' JavaScript also has a rough polygon (misc/insane_is_in_china.js) that runs along
# the coast out at sea, leaves Taiwan out and, for Amap/Google, Hong Kong and Macao too. A
# product needs the second kind: a box shifts foreign points and the Taiwanese and Hong Kong
# ones that phones report as plain WGS-84, while land boundaries alone leave sea points a few
# km offshore unshifted (~500 m wrong). So: on land (or within ~2 km of
# it) the district decides; at sea inside this outline, the nearest district decides, which
# leaves the waters nearer Hong Kong, Macao or Taiwan unshifted. The outline keeps off the
# neighbours' coasts (Vietnam, the Koreas, Japan, the Philippines); it closes over mainland
# land, where the district boundary decides first.
_COASTAL_WATERS = (
    (108.4, 21.5),  # Gulf of Tonkin, east of the 2000 boundary line with Vietnam
    (108.4, 20.3),
    (108.3, 18.3),
    (108.6, 17.8),  # south of Hainan
    (110.5, 17.9),
    (112.0, 19.0),
    (112.5, 20.8),  # off Guangdong
    (114.2, 21.6),
    (116.5, 22.3),
    (117.7, 22.9),
    (119.9, 23.0),  # Taiwan Strait (the nearest district splits it)
    (119.9, 25.0),
    (121.2, 25.8),
    (122.5, 27.0),  # East China Sea
    (123.3, 28.5),
    (123.5, 30.5),
    (123.0, 32.5),
    (122.5, 34.0),  # Yellow Sea, west of its middle
    (122.5, 36.5),
    (123.2, 37.4),
    (123.0, 38.6),
    (123.8, 39.6),  # west of the Yalu mouth
    (124.0, 41.5),  # and back over land in Liaoning, Hebei, Hubei, Guangxi
    (118.0, 41.5),
    (112.0, 32.0),
    (108.4, 22.5),
)
_SEA_REACH_DEG = 5.0  # at sea in the outline, the nearest district however far (~500 km)


@cache
def _waters():
    import shapely  # loaded on first use, like the boundaries

    outline = shapely.Polygon(_COASTAL_WATERS)
    shapely.prepare(outline)
    return outline


def in_gcj02_area_many(lats: Sequence[float], lons: Sequence[float]) -> list[bool]:
    """For each WGS-84 point, whether maps show it in GCJ-02: mainland China and its waters."""
    import shapely

    from stations.core import regions  # boundaries load lazily, on first use

    codes = regions.locate_many(lats, lons)
    at_sea = [
        i
        for i, code in enumerate(codes)
        if code is None and shapely.contains_xy(_waters(), lons[i], lats[i])
    ]
    if at_sea:
        nearest = regions.locate_many(
            [lats[i] for i in at_sea], [lons[i] for i in at_sea], reach_deg=_SEA_REACH_DEG
        )
        for i, code in zip(at_sea, nearest, strict=True):
            codes[i] = code
    return [code is not None and regions.mainland_adcode(code) for code in codes]


def in_gcj02_area(lat: float, lon: float) -> bool:
    """Whether maps show this WGS-84 point in GCJ-02: mainland China and its coastal waters."""
    return in_gcj02_area_many([lat], [lon])[0]


def _near_china(lat: float, lon: float) -> bool:
    """Within a degree of China's bounding box (every district and the coastal waters lie
    inside it): the shift is under 0.01 degrees, so no point outside can have an origin in
    the GCJ-02 area, nor be one."""
    from stations.core import regions

    (south, north), (west, east) = regions.LAT_RANGE, regions.LON_RANGE
    return south - 1 <= lat <= north + 1 and west - 1 <= lon <= east + 1


def _unshift_many(lats: Sequence[float], lons: Sequence[float]) -> list[tuple[float, float]]:
    """WGS-84 for GCJ-02 (or BD-09 already turned into GCJ-02) points; see to_wgs84."""
    # Far from China neither the point nor an origin can be in the area, and the inversion
    # must not even be tried: near a pole the shift's cos(lat) divides by almost nothing and
    # the iteration runs off to infinity (sin(inf) raises).
    found = [
        wgs84_from_gcj02(lat, lon) if _near_china(lat, lon) else (lat, lon)
        for lat, lon in zip(lats, lons, strict=True)
    ]
    origin_in = in_gcj02_area_many([c[0] for c in found], [c[1] for c in found])
    # Only where the origin is outside does the point as given need a look of its own.
    rest = [i for i, inside in enumerate(origin_in) if not inside]
    if rest:
        given_in = in_gcj02_area_many([lats[i] for i in rest], [lons[i] for i in rest])
        for i, inside in zip(rest, given_in, strict=True):
            if not inside:
                found[i] = (lats[i], lons[i])
    return found


def to_wgs84_many(
    lats: Sequence[float], lons: Sequence[float], crs: str
) -> list[tuple[float, float]]:
    """to_wgs84 for many points in one datum, their boundary lookups done together."""
    if crs == "wgs84":
        return list(zip(lats, lons, strict=True))
    if crs == "gcj02":
        return _unshift_many(lats, lons)
    if crs == "bd09":
        # BD-09 is offset from GCJ-02 everywhere Baidu uses it; the GCJ-02 step applies only
        # in the mainland and its waters.
        gcj = [gcj02_from_bd09(lat, lon) for lat, lon in zip(lats, lons, strict=True)]
        return _unshift_many([g[0] for g in gcj], [g[1] for g in gcj])
    raise ValueError(f"unknown datum {crs!r}; use one of {', '.join(DATUMS)}")


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """A point given in crs as WGS-84. Outside mainland China and its waters every datum is
    WGS-84.

    A GCJ-02 point is un-shifted when its candidate origin (the inverse of the shift) lies in
    the GCJ-02 area: that is the only origin the maps would have shifted to this point, and
    the one that matters on the mainland side of the Hong Kong and Macao borders, where the
    shifted point itself lies in Hong Kong or Macao. Where both readings fit (a point given
    in the ~600 m strip inside Hong Kong or Macao), the mainland origin wins: our stations,
    and the apps that send GCJ-02, are the mainland's. Where neither fits (the given point is
    in the area, its origin is not: just inside a land border or the outline at sea), the
    point is un-shifted too, as it was before, since the apps' own areas are cruder and
    larger than ours."""
    return to_wgs84_many([lat], [lon], crs)[0]


def from_wgs84(
    lat: float, lon: float, crs: str, *, mainland: bool | None = None
) -> tuple[float, float]:
    """A WGS-84 point expressed in crs (for GCJ-02 base maps and navigation links).

    mainland: whether the point is in mainland China, when the caller already knows (a
    station's adcode tells); otherwise in_gcj02_area decides."""
    if crs == "wgs84":
        return lat, lon
    if mainland is None:
        mainland = in_gcj02_area(lat, lon)
    gcj = gcj02_from_wgs84(lat, lon) if mainland else (lat, lon)
    if crs == "gcj02":
        return gcj
    if crs == "bd09":
        return bd09_from_gcj02(*gcj)
    raise ValueError(f"unknown datum {crs!r}; use one of {', '.join(DATUMS)}")
