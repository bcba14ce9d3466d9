"""Coverage on real district boundaries: areas measured back on the ellipsoid (pyproj.Geod),
against πr² and the lens formula; circles crossing district and zone borders; which stations
serve; redundant pairs; demand points with a known answer; the query's checks."""

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from stations.core import circles, coverage, gauss_kruger, geo, regions
from stations.core.coverage import CoverageQuery, analyse, make_query
from stations.core.demand import DemandPoint
from stations.core.model import Invalid, Station

from helpers import inside, moved

GEOD = Geod(ellps="WGS84")
R = 1000.0


def station(i: int, lat: float, lon: float, **fields) -> Station:
    where = regions.locate(lat, lon)
    assert where is not None
    fields.setdefault("opening_hours", "24/7")
    return Station(
        code=f"T{i:04d}",
        name=f"驿站{i}",
        lat=lat,
        lon=lon,
        adcode=fields.pop("adcode", where.adcode),
        province=where.province,
        city=where.city,
        district=where.district,
        id=i,
        **fields,
    )


def on_border(a: str, b: str) -> tuple[float, float]:
    """(lat, lon) halfway along the border two districts share."""
    shared = shapely.line_merge(
        shapely.intersection(
            regions.district_geometry(a).boundary, regions.district_geometry(b).boundary
        )
    )
    longest = max(shapely.get_parts(shared), key=lambda line: line.length)
    point = longest.interpolate(0.5, normalized=True)
    return point.y, point.x


def geodesic_km2(geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geometry)[0]) / 1e6


def circle_km2(r: float = R) -> float:
    return math.pi * r * r / 1e6


def lens_m2(d: float, r: float = R) -> float:
    """The area two circles of radius r, d apart, share."""
    return 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)


def by_adcode(result) -> dict:
    return {d.adcode: d for d in result.districts}


# -- areas ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "district, region",
    [
        ("340104", "3401"),  # Hefei, 0.1° from its zone's central meridian (117°E)
        ("630103", "6301"),  # Xining, 36.5°N
        ("441204", "4412"),  # Zhaoqing: 1.75° from 111°E, the zone's stretch at its widest
        ("640104", "6401"),  # Yinchuan, 1.54° from 105°E at 38.5°N
    ],
)
def test_an_isolated_circle_is_pi_r_squared_on_the_ellipsoid(district, region):
    lat, lon = inside(district)
    result = analyse([station(1, lat, lon)], make_query(region, R))
    assert geodesic_km2(result.circles) == pytest.approx(circle_km2(), rel=1e-3)
    assert result.total.covered_km2 == pytest.approx(circle_km2(), rel=1e-3)
    assert by_adcode(result)[district].covered_km2 == pytest.approx(circle_km2(), rel=1e-3)
    # The zone's stretch is taken out: far tighter than the 0.1 % asked.
    assert geodesic_km2(result.circles) == pytest.approx(circle_km2(), rel=1e-4)


def test_far_from_the_central_meridian_the_stretch_is_real_and_removed():
    lat, lon = inside("441204")
    epsg = gauss_kruger.zone(regions.district_geometry("441204").centroid.x)  # as analyse does
    assert abs(lon - (75 + 3 * (epsg - 4534))) > 1.7
    assert gauss_kruger.scale(epsg, [lon], [lat])[0] ** 2 - 1 > 7e-4  # 0.07 % in area


@pytest.mark.parametrize("ratio", [0.3, 0.6, 1.0, 1.2, 1.6])
def test_two_overlapping_circles_against_the_lens_formula(ratio):
    lat, lon = inside("340104")
    other = moved(lat, lon, 90, ratio * R)
    result = analyse(
        [station(1, lat, lon), station(2, *other)], make_query("3401", R, spacing_m=10)
    )
    expected = 2 * math.pi * R * R - lens_m2(ratio * R)
    assert result.total.covered_km2 * 1e6 == pytest.approx(expected, rel=2e-3)
    lens = 2 * math.pi * R * R - geodesic_km2(result.circles) * 1e6
    assert lens == pytest.approx(lens_m2(ratio * R), rel=2e-3)


def test_circles_further_apart_than_two_radii_do_not_merge():
    lat, lon = inside("340104")
    result = analyse(
        [station(1, lat, lon), station(2, *moved(lat, lon, 0, 2.01 * R))], make_query("3401", R)
    )
    assert len(shapely.get_parts(result.circles)) == 2
    assert result.total.covered_km2 == pytest.approx(2 * circle_km2(), rel=1e-3)


def test_a_circle_on_a_district_border_counts_in_both():
    lat, lon = on_border("340104", "340103")
    result = analyse([station(1, lat, lon)], make_query("3401", R))
    rows = by_adcode(result)
    both = rows["340104"].covered_km2 + rows["340103"].covered_km2
    assert rows["340104"].covered_km2 > 0.2 * circle_km2()
    assert rows["340103"].covered_km2 > 0.2 * circle_km2()
    assert both == pytest.approx(circle_km2(), rel=1e-3)
    assert sum(d.covered_km2 for d in result.districts) == pytest.approx(both, rel=1e-9)
    # Asked about one district only, the station still serves it with half a circle.
    alone = analyse([station(1, lat, lon)], make_query("340104", R))
    assert alone.total.covered_km2 == pytest.approx(rows["340104"].covered_km2, rel=1e-9)


def test_a_circle_across_a_zone_seam_counts_in_both_zones():
    # Wuhu's Jinghu district is measured in the 117°E zone, Wanzhi in the 120°E one.
    lat, lon = on_border("340202", "340210")
    zones = {
        gauss_kruger.zone(regions.district_geometry(a).centroid.x) for a in ("340202", "340210")
    }
    assert len(zones) == 2
    result = analyse([station(1, lat, lon)], make_query("3402", R))
    rows = by_adcode(result)
    assert rows["340202"].covered_km2 + rows["340210"].covered_km2 == pytest.approx(
        circle_km2(), rel=1e-3
    )
    assert geodesic_km2(result.circles) == pytest.approx(circle_km2(), rel=1e-3)
    assert len(shapely.get_parts(result.circles)) == 1  # glued along the seam


def test_districts_add_up_to_the_region_and_to_its_union_of_circles():
    rng = np.random.default_rng(5)
    outline = regions.outline("34")
    min_lon, min_lat, max_lon, max_lat = outline.bounds
    stations = []
    while len(stations) < 400:
        lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        # Around a few towns, so that circles overlap and cross borders.
        if outline.contains(shapely.Point(lon, lat)):
            for _ in range(8):
                near = moved(lat, lon, rng.uniform(0, 360), rng.uniform(0, 3000))
                if regions.locate(*near) is not None:
                    stations.append(station(len(stations), *near))
    result = analyse(stations, make_query("34", R))
    assert (
        len(
            {
                gauss_kruger.zone(regions.district_geometry(d.adcode).centroid.x)
                for d in result.districts
            }
        )
        == 3
    )
    total = result.total
    assert total.adcode == "34" and total.name == "安徽省"
    assert total.area_km2 == pytest.approx(sum(d.area_km2 for d in result.districts))
    assert total.covered_km2 == pytest.approx(sum(d.covered_km2 for d in result.districts))
    assert total.stations == sum(d.stations for d in result.districts)
    assert geodesic_km2(result.circles) == pytest.approx(total.covered_km2, rel=1e-4)
    assert shapely.is_valid(result.circles)
    # The province's own area, measured on the ellipsoid.
    assert total.area_km2 == pytest.approx(geodesic_km2(outline), rel=1e-4)
    assert 0 < total.covered_km2 < 400 * circle_km2()


def test_gaps_are_the_rest_of_each_district_largest_first():
    lat, lon = inside("340104")
    result = analyse([station(1, lat, lon)], make_query("340104", R))
    (row,) = result.districts
    assert sum(g.area_km2 for g in result.gaps) == pytest.approx(row.area_km2 - row.covered_km2)
    assert [g.area_km2 for g in result.gaps] == sorted(
        (g.area_km2 for g in result.gaps), reverse=True
    )
    assert all(g.area_km2 >= coverage.SLIVER_KM2 for g in result.gaps)
    (gap,) = result.gaps  # one district with a hole in it
    assert len(gap.geometry.interiors) == 1
    assert gap.adcode == "340104"
    assert shapely.contains(regions.district_geometry("340104").buffer(1e-6), gap.geometry)
    # Drawn in lon/lat, within the 5 m the display simplification allows.
    assert geodesic_km2(gap.geometry) == pytest.approx(gap.area_km2, rel=1e-3)


def test_no_station_no_circles_all_gap():
    result = analyse([], make_query("6301", R))
    assert result.circles.is_empty
    assert result.total.covered_km2 == 0
    assert result.total.name == "西宁市"
    assert {g.adcode for g in result.gaps} == {d.adcode for d in result.districts}
    assert result.districts == sorted(result.districts, key=lambda d: d.adcode)


# -- who serves ------------------------------------------------------------------------------


def test_only_open_stations_serve():
    lat, lon = inside("630103")
    stations = [
        station(1, lat, lon, status="temporarily_closed", closed_until="2027-01-01"),
        station(2, *moved(lat, lon, 90, 500), status="planned"),
        station(3, *moved(lat, lon, 180, 500), status="closed"),
    ]
    query = make_query("6301", R)
    result = analyse(stations, query)
    assert result.serving == [] and result.total.covered_km2 == 0 and result.total.stations == 0
    opened = station(4, *moved(lat, lon, 270, 500))
    result = analyse([*stations, opened], query)
    assert result.serving == [opened]
    assert result.total.stations == 1
    assert result.total.covered_km2 == pytest.approx(circle_km2(), rel=1e-3)


@pytest.mark.parametrize(
    "hours, serves",
    [
        ("24/7", True),
        ("Mo-Su 00:00-24:00", True),
        ("Mo-Fr 08:00-18:00", False),
        ("24/7; PH off", False),
        ('"by appointment"', False),
        ("", False),
    ],
)
def test_only_24h(hours, serves):
    lat, lon = inside("630103")
    s = station(1, lat, lon, opening_hours=hours)
    assert coverage.serves(s, make_query("6301", only_24h=True)) is serves
    assert coverage.serves(s, make_query("6301"))  # without the filter, any hours serve


def test_every_asked_facility_must_be_offered():
    lat, lon = inside("630103")
    both = station(1, lat, lon, facilities=("drinking_water", "toilet"))
    water = station(2, *moved(lat, lon, 90, 3000), facilities=("drinking_water",))
    result = analyse([both, water], make_query("6301", R, facilities=["drinking_water", "toilet"]))
    assert result.serving == [both]
    result = analyse([both, water], make_query("6301", R, facilities=["drinking_water"]))
    assert result.serving == [both, water]


def test_a_neighbours_circle_counts_but_not_its_station():
    # A station in Huainan's Shou county, 400 m from Hefei's border, reaches into Hefei.
    lat, lon = inside("340422")
    nearest = nearest_points(regions.outline("3401").boundary, shapely.Point(lon, lat))[0]
    az, _, _ = GEOD.inv(nearest.x, nearest.y, lon, lat)
    s = station(1, *moved(nearest.y, nearest.x, az, 400))
    assert s.adcode == "340422"
    result = analyse([s], make_query("3401", R))
    assert result.serving == [s]
    assert result.total.stations == 0
    assert 0 < result.total.covered_km2 < circle_km2()
    far = station(2, *moved(nearest.y, nearest.x, az, 1500))
    assert analyse([far], make_query("3401", R)).serving == []


# -- redundancy ----------------------------------------------------------------------------


def test_redundant_pairs_closer_than_the_spacing():
    lat, lon = inside("340104")
    a = station(10, lat, lon)
    b = station(11, *moved(lat, lon, 90, 100))
    c = station(12, *moved(lat, lon, 90, 350))
    result = analyse([c, b, a], make_query("3401", R, spacing_m=300))
    assert [(p.a, p.b) for p in result.redundant] == [(10, 11), (11, 12)]
    assert [round(p.distance_m) for p in result.redundant] == [100, 250]
    assert result.redundant[0].a_name == "驿站10" and result.redundant[0].adcode == "340104"
    assert by_adcode(result)["340104"].redundant_pairs == 2
    assert result.total.redundant_pairs == 2
    assert [
        (p.a, p.b) for p in analyse([a, b, c], make_query("3401", R, spacing_m=120)).redundant
    ] == [(10, 11)]
    assert analyse([a, b, c], make_query("3401", R, spacing_m=90)).redundant == []


def test_a_redundant_pair_across_the_region_border_counts_on_the_inside():
    lat, lon = on_border("340121", "340422")  # Hefei's Changfeng and Huainan's Shou county
    here = moved(lat, lon, 90, 60)
    there = moved(lat, lon, 270, 60)
    ours, theirs = station(1, *here), station(2, *there)
    if not ours.adcode.startswith("3401"):
        ours, theirs = station(1, *there), station(2, *here)
    assert ours.adcode.startswith("3401") and not theirs.adcode.startswith("3401")
    (pair,) = analyse([theirs, ours], make_query("3401", R)).redundant
    assert (pair.a, pair.b, pair.adcode) == (ours.id, theirs.id, ours.adcode)
    # Both outside: not Hefei's business.
    beyond = station(3, *moved(*there, 270, 100))
    assert [(p.a, p.b) for p in analyse([theirs, beyond], make_query("3401", R)).redundant] == []


# -- demand --------------------------------------------------------------------------------


def grid_points(lat: float, lon: float, step: float, half: int, weight: float = 2.0):
    """A square grid of (2 half + 1)² points step metres apart about (lat, lon), each with its
    (i, j); metres to degrees by the local radii of curvature (exact to millimetres here)."""
    a, f = GEOD.a, GEOD.f
    e2 = f * (2 - f)
    phi = math.radians(lat)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    m = n * (1 - e2) / (1 - e2 * math.sin(phi) ** 2)
    for i in range(-half, half + 1):
        for j in range(-half, half + 1):
            yield (
                (i, j),
                DemandPoint(
                    lat + math.degrees(j * step / m),
                    lon + math.degrees(i * step / (n * math.cos(phi))),
                    weight,
                ),
            )


def test_demand_within_the_radius_is_covered():
    lat, lon = inside("340104")
    grid = dict(grid_points(lat, lon, 250, 5))
    # 1,050 m reaches i² + j² <= 17 (4.12 steps; the nearest points outside are at 4.24).
    result = analyse([station(1, lat, lon)], make_query("3401", 1050), list(grid.values()))
    expected = {ij for ij in grid if ij[0] ** 2 + ij[1] ** 2 <= 17}
    assert len(expected) == 57
    got = {ij for ij, p in grid.items() for row in result.demand if row.point is p and row.covered}
    assert got == expected
    assert result.total.demand == pytest.approx(2.0 * 121)
    assert result.total.demand_covered == pytest.approx(2.0 * 57)
    assert sum(d.demand for d in result.districts) == pytest.approx(242)
    assert result.total.demand_share == pytest.approx(57 / 121)


def test_demand_outside_the_region_is_left_out_and_an_adcode_is_trusted():
    lat, lon = inside("340104")
    points = [
        DemandPoint(lat, lon, 5.0),  # located: Shushan
        DemandPoint(*inside("630103"), 7.0),  # located: Xining, not Hefei
        DemandPoint(*moved(lat, lon, 0, 5000), 3.0, adcode="340111"),  # said to be Baohe
        DemandPoint(*inside("340103"), 4.0, adcode="630103"),  # said to be in Xining
    ]
    result = analyse([station(1, lat, lon)], make_query("3401", R), points)
    assert [row.point.weight for row in result.demand] == [5.0, 3.0]
    assert [row.covered for row in result.demand] == [True, False]
    rows = by_adcode(result)
    assert (rows["340104"].demand, rows["340104"].demand_covered) == (5.0, 5.0)
    assert (rows["340111"].demand, rows["340111"].demand_covered) == (3.0, 0.0)
    assert rows["340103"].demand == 0 and rows["340103"].demand_share is None


# -- the query ------------------------------------------------------------------------------


def fields(**kwargs) -> list[str]:
    with pytest.raises(Invalid) as caught:
        make_query(**kwargs)
    return [e.field for e in caught.value.errors]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"region": "3"}, "region"),
        ({"region": "34010"}, "region"),
        ({"region": "３４"}, "region"),
        ({"region": "99"}, "region"),
        ({"region": "349999"}, "region"),
        ({"region": "34", "radius_m": 99}, "radius_m"),
        ({"region": "34", "radius_m": 5001}, "radius_m"),
        ({"region": "34", "radius_m": float("nan")}, "radius_m"),
        ({"region": "34", "preset": "walk30"}, "preset"),
        ({"region": "34", "facilities": ["drinking_water", "jacuzzi"]}, "facilities"),
        ({"region": "34", "spacing_m": 5}, "spacing_m"),
        ({"region": "34", "spacing_m": 5001}, "spacing_m"),
    ],
)
def test_make_query_names_the_bad_field(kwargs, field):
    assert fields(**kwargs) == [field]


def test_make_query_reports_every_bad_field_in_plain_words():
    with pytest.raises(Invalid) as caught:
        make_query("9", 50, facilities=["jacuzzi"], spacing_m=1)
    messages = {e.field: e.message for e in caught.value.errors}
    assert set(messages) == {"region", "radius_m", "facilities", "spacing_m"}
    assert "between 100 and 5,000 metres" in messages["radius_m"]
    assert "between 10 and 5,000 metres" in messages["spacing_m"]
    assert "jacuzzi" in messages["facilities"] and "drinking_water" in messages["facilities"]
    assert "2, 4 or 6 digits" in messages["region"]


def test_make_query_defaults_presets_and_labels():
    assert make_query("3401") == CoverageQuery("3401", 1000.0, False, (), 300.0)
    assert make_query("3401", 2000, preset="walk15").radius_m == 865
    assert make_query("340104", facilities=["饮用水", "toilet", "drinking_water"]).facilities == (
        "drinking_water",
        "toilet",
    )


def test_region_box_holds_every_station_that_can_reach_the_region():
    box = coverage.region_box("6301", 2000)
    min_lon, min_lat, max_lon, max_lat = regions.outline("6301").bounds
    for lat, lon, azimuth in [
        (max_lat, (min_lon + max_lon) / 2, 0),
        (min_lat, (min_lon + max_lon) / 2, 180),
        ((min_lat + max_lat) / 2, max_lon, 90),
        ((min_lat + max_lat) / 2, min_lon, 270),
        (max_lat, max_lon, 45),
    ]:
        lat2, lon2 = moved(lat, lon, azimuth, 2000)
        assert box.min_lat <= lat2 <= box.max_lat and box.min_lon <= lon2 <= box.max_lon
    assert box.max_lat - max_lat < 0.03  # widened, but not wildly


# -- the pieces underneath -------------------------------------------------------------------


def test_the_union_by_components_is_the_union():
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 50_000, (300, 2))
    xy[1] = xy[0]  # two stations at one address
    xy[3] = xy[2] + [2 * R * circles.EQUAL_AREA, 0]  # vertex to vertex: they touch
    radii = R * rng.uniform(1, 1.0003, len(xy))  # the zone's stretch differs a little
    polygons = circles.circles(xy[:, 0], xy[:, 1], radii)
    pieces = circles.union(xy[:, 0], xy[:, 1], polygons, radii)
    one = shapely.union_all(polygons)
    assert 1 < len(pieces) < len(xy)
    assert shapely.area(pieces).sum() == pytest.approx(one.area, rel=1e-12)
    assert shapely.symmetric_difference(circles.collect(pieces), one).area < 1e-6
    a, b = shapely.STRtree(pieces).query(pieces, predicate="intersects")
    assert (a == b).all()  # no two pieces meet: collecting them needs no overlay
    assert shapely.area(polygons) == pytest.approx(math.pi * radii**2, rel=1e-12)


def test_geodesic_pair_searches_agree_with_measuring_every_pair():
    rng = np.random.default_rng(12)
    lat, lon = inside("630103")
    a = np.array([moved(lat, lon, rng.uniform(0, 360), rng.uniform(0, 3000)) for _ in range(150)])
    b = np.array([moved(lat, lon, rng.uniform(0, 360), rng.uniform(0, 3000)) for _ in range(40)])

    def dist(p, q):
        return GEOD.inv(p[1], p[0], q[1], q[0])[2]

    i, j, d = geo.close_pairs(a[:, 0], a[:, 1], 300)
    expected = {
        (x, y) for x in range(len(a)) for y in range(x + 1, len(a)) if dist(a[x], a[y]) < 300
    }
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected and expected
    assert d == pytest.approx([dist(a[x], a[y]) for x, y in zip(i, j, strict=True)])
    i, j = geo.pairs_within(a[:, 0], a[:, 1], b[:, 0], b[:, 1], 500)
    expected = {(x, y) for x in range(len(a)) for y in range(len(b)) if dist(a[x], b[y]) <= 500}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected and expected
    reached = geo.any_within(a[:, 0], a[:, 1], b[:, 0], b[:, 1], 500)
    assert reached.tolist() == [any(dist(p, q) <= 500 for q in b) for p in a]
    assert 0 < reached.sum() < len(a)
