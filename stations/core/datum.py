"""WGS-84 <-> GCJ-02 <-> BD-09.

GCJ-02 is the obfuscated datum that Chinese law requires of published maps (Amap, Tencent);
BD-09 is Baidu's further offset of it. Both apply only inside mainland China: outside it, Amap
and the others show plain WGS-84, so points there are never shifted. Whether a point is in the
mainland is decided by the real boundary in `regions`, not by a bounding box.

Forward formulas are the published GCJ-02/BD-09 ones; the inverses are solved by fixed-point
iteration to better than 1e-9 degrees (0.1 mm), since no closed form exists.
"""

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


def _shifted(lat: float, lon: float) -> bool:
    from stations.core.regions import in_mainland  # boundaries load lazily, on first use

    return in_mainland(lat, lon)


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """A point given in crs as WGS-84. Outside mainland China every datum is WGS-84."""
    if crs == "wgs84":
        return lat, lon
    if crs == "gcj02":
        return wgs84_from_gcj02(lat, lon) if _shifted(lat, lon) else (lat, lon)
    if crs == "bd09":
        # BD-09 is offset from GCJ-02 everywhere Baidu uses it; the GCJ-02 step applies only
        # in the mainland.
        gcj = gcj02_from_bd09(lat, lon)
        return wgs84_from_gcj02(*gcj) if _shifted(*gcj) else gcj
    raise ValueError(f"unknown datum {crs!r}; use one of {', '.join(DATUMS)}")


def from_wgs84(
    lat: float, lon: float, crs: str, *, mainland: bool | None = None
) -> tuple[float, float]:
    """A WGS-84 point expressed in crs (for GCJ-02 base maps and navigation links).

    mainland: whether the point is in mainland China, when the caller already knows (a
    station's adcode tells); otherwise the boundary decides."""
    if crs == "wgs84":
        return lat, lon
    if mainland is None:
        mainland = _shifted(lat, lon)
    gcj = gcj02_from_wgs84(lat, lon) if mainland else (lat, lon)
    if crs == "gcj02":
        return gcj
    if crs == "bd09":
        return bd09_from_gcj02(*gcj)
    raise ValueError(f"unknown datum {crs!r}; use one of {', '.join(DATUMS)}")
