import pytest

from stations.core import standards


def test_all_profiles_load_bilingual():
    profiles = standards.profiles()
    assert {k: len(p.items) for k, p in profiles.items()} == {
        "liuyou_a": 6,
        "liuyou_b": 6,
        "bayou": 8,
        "siyou": 4,
        "qigeyi_guizhou": 7,
        "qigeyi_haikou": 7,
        "bageyi_sanya": 8,
    }
    for p in profiles.values():
        assert p.zh and p.en and all(i.zh and i.en for i in p.items)


def test_both_liuyou_wordings_are_kept_exactly():
    p = standards.profiles()
    assert [i.zh for i in p["liuyou_a"].items] == [
        "有统一的标识名称",
        "有合理的站点布局",
        "有健全的服务设施",
        "有完善的服务功能",
        "有规范的管理制度",
        "有地图可查",
    ]
    assert [i.zh for i in p["liuyou_b"].items] == [
        "有统一标识",
        "有固定场所",
        "有完备设施",
        "有管理制度",
        "有人员管理",
        "有地图可查",
    ]


def test_the_online_map_item_is_satisfied_by_the_registry():
    for key in ("liuyou_a", "liuyou_b", "bayou"):
        assert [i.key for i in standards.profiles()[key].items if i.from_registry] == ["online_map"]


def test_equipment_items_point_at_real_facilities():
    sanya = standards.profiles()["bageyi_sanya"]
    assert {i.facility for i in sanya.items} - {None} == {
        "rest_seating",
        "drinking_water",
        "microwave",
        "first_aid_kit",
        "air_conditioning",
        "reading_corner",
        "toilet",
    }


def test_a_bad_profile_file_is_refused():
    doc = {
        "profiles": [
            {
                "key": "x",
                "zh": "x",
                "en": "x",
                "kind": "equipment",
                "pass_rule": "all",
                "items": [{"key": "a", "zh": "甲", "en": "", "facility": None}],
            }
        ]
    }
    with pytest.raises(ValueError, match="both zh and en"):
        standards.parse_profiles(doc)
