from stations.core import regions


def test_locates_a_point_in_its_district():
    found = regions.locate(36.6171, 101.7782)
    assert (found.adcode, found.province, found.city, found.district) == (
        "630103",
        "青海省",
        "西宁市",
        "城中区",
    )


def test_municipality_districts_use_the_municipality_as_city():
    assert regions.region("110101").city == "北京市"


def test_unknown_adcode_has_no_region():
    assert regions.region("999999") is None


def test_hong_kong_macao_taiwan_are_not_mainland():
    assert not regions.in_mainland(22.2783, 114.1747)
    assert not regions.in_mainland(22.1987, 113.5439)
    assert not regions.in_mainland(25.0330, 121.5654)
    assert regions.in_mainland(22.5431, 114.0579)


def test_sea_and_abroad_are_outside_china():
    assert regions.locate(35.6812, 139.7671) is None  # Tokyo
    assert regions.locate(30.0, 125.0) is None  # East China Sea


def test_bulk_locate_matches_single():
    lats, lons = [36.6171, 31.8206, 35.0], [101.7782, 117.2272, 139.0]
    assert regions.locate_many(lats, lons) == ["630103", "340104", None]
