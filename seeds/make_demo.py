"""Generate seeds/demo_stations.geojson and seeds/demo_demand.geojson: FICTITIOUS demo
stations and worker demand in four real cities.

Every station here is invented. The points are drawn around each city's centre and kept only
where they fall inside one of the city's urban districts (real boundaries), so they sit in
plausible places; names, addresses, managers and phone numbers are made up. The demand is
invented too: weighted points (workers), denser near the centre, with clusters around a few
outlying work areas far from most demo stations, each inside one of the city's districts. Run
from the project root to regenerate (deterministic; the demand has a random generator of its
own, so the stations do not change when it does):

    python seeds/make_demo.py
"""

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import shapely  # noqa: E402

from stations.core import datum, regions  # noqa: E402

OUT = ROOT / "seeds" / "demo_stations.geojson"
DEMAND_OUT = ROOT / "seeds" / "demo_demand.geojson"
VERIFIED_BY = date(2026, 11, 1)

CITIES = [
    # code prefix, centre (lat, lon), spread (deg), districts, count, streets
    (
        "XN",
        (36.620, 101.775),
        0.035,
        ["630102", "630103", "630104", "630105"],
        85,
        [
            "长江路",
            "西大街",
            "东大街",
            "五四大街",
            "胜利路",
            "昆仑路",
            "八一路",
            "七一路",
            "海湖路",
            "黄河路",
            "柴达木路",
            "南山路",
            "冷湖路",
            "同仁路",
            "祁连路",
        ],
    ),
    (
        "HF",
        (31.835, 117.255),
        0.06,
        ["340102", "340103", "340104", "340111"],
        110,
        [
            "长江中路",
            "金寨路",
            "徽州大道",
            "马鞍山路",
            "黄山路",
            "望江路",
            "芜湖路",
            "宿州路",
            "淮河路",
            "合作化路",
            "潜山路",
            "繁华大道",
            "包河大道",
            "胜利路",
            "蒙城路",
        ],
    ),
    (
        "QD",
        (36.105, 120.420),
        0.06,
        ["370202", "370203", "370212", "370213"],
        105,
        [
            "香港中路",
            "山东路",
            "延安路",
            "台东一路",
            "辽阳西路",
            "福州路",
            "南京路",
            "重庆路",
            "黑龙江路",
            "海尔路",
            "李村路",
            "银川路",
            "劲松七路",
            "株洲路",
            "宁夏路",
        ],
    ),
    (
        "ZZ",
        (34.770, 113.660),
        0.06,
        ["410102", "410103", "410104", "410105", "410108"],
        120,
        [
            "花园路",
            "金水路",
            "中原路",
            "建设路",
            "文化路",
            "农业路",
            "大学路",
            "紫荆山路",
            "经三路",
            "郑汴路",
            "航海路",
            "嵩山路",
            "陇海路",
            "未来路",
            "桐柏路",
        ],
    ),
]

HOSTS = [  # host type, weight, name templates
    ("gas_station", 18, ["中国石化{street}加油站", "中国石油{street}加油站"]),
    (
        "bank",
        20,
        [
            "工商银行{street}支行",
            "建设银行{street}支行",
            "农业银行{street}支行",
            "邮储银行{street}营业所",
        ],
    ),
    (
        "logistics",
        14,
        [
            "顺丰速运{street}营业部",
            "中通快递{street}网点",
            "京东物流{street}站",
            "美团{street}配送站",
        ],
    ),
    ("community", 24, ["{street}社区党群服务中心", "{street}街道职工服务中心"]),
    ("park", 8, ["{street}街心公园", "{street}滨河公园"]),
    ("mall", 8, ["{street}购物中心", "{street}百货大楼"]),
    ("transit", 6, ["{street}公交首末站", "{street}公交枢纽站"]),
    ("other", 2, ["{street}环卫作息点"]),
]
BRANDS = [
    ("工会驿站", 40),
    ("户外劳动者服务站点", 25),
    ("爱心驿站", 15),
    ("骑手驿站", 10),
    ("劳动者港湾", 10),
]
HOURS = {
    "gas_station": ["Mo-Su 07:00-22:00", "Mo-Su 06:30-21:30"],
    "bank": ["Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00; PH off", "Mo-Fr 09:00-17:00; PH off"],
    "logistics": ["Mo-Su 08:00-20:00", "Mo-Sa 08:00-21:00"],
    "community": ["Mo-Fr 08:30-17:30; PH off", "Mo-Su 08:00-20:00"],
    "park": ["Mo-Su 06:00-22:00"],
    "mall": ["Mo-Su 10:00-22:00"],
    "transit": ["Mo-Su 05:30-23:00", "Mo-Su 22:00-06:00"],
    "other": ["Mo-Su 05:00-19:00"],
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = [
    "建华",
    "秀英",
    "海峰",
    "丽娟",
    "志强",
    "桂兰",
    "文明",
    "春燕",
    "国庆",
    "玉梅",
    "伟",
    "敏",
    "静",
    "军",
]


# Demand per city: prefix -> (city adcode, points, outlying work areas (lat, lon)). The areas
# are rough places where many outdoor workers gather (logistics parks, development zones).
DEMAND = {
    "XN": ("6301", 300, [(36.680, 101.735), (36.600, 101.870), (36.500, 101.570)]),
    "HF": (
        "3401",
        300,
        [(31.905, 117.380), (31.770, 117.195), (31.720, 117.160), (31.885, 117.470)],
    ),
    "QD": (
        "3702",
        300,
        [(36.305, 120.395), (35.965, 120.195), (36.390, 120.450), (36.165, 120.430)],
    ),
    "ZZ": (
        "4101",
        300,
        [(34.530, 113.850), (34.755, 113.760), (34.810, 113.550), (34.720, 113.980)],
    ),
}


def pick(rng, weighted):
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def facilities(rng, host, city):
    chance = {
        "drinking_water": 0.95,
        "hot_water": 0.6,
        "microwave": 0.75,
        "toilet": 0.7,
        "rest_seating": 1.0,
        "air_conditioning": 0.7,
        "heating": 0.9 if city == "XN" else 0.45,
        "phone_charging": 0.9,
        "ebike_charging": 0.7 if host == "logistics" else 0.2,
        "battery_swap": 0.3 if host == "logistics" else 0.04,
        "first_aid_kit": 0.7,
        "wifi": 0.6,
        "reading_corner": 0.4,
        "mother_baby_room": 0.4 if host == "mall" else 0.04,
        "aed": 0.25 if host in ("transit", "mall") else 0.03,
    }
    return [k for k, p in chance.items() if rng.random() < p]


def main():
    rng = random.Random(20261101)
    features = []
    for prefix, (c_lat, c_lon), spread, districts, count, streets in CITIES:
        shapes = {code: regions.district_geometry(code) for code in districts}
        n = 0
        while n < count:
            lat = round(rng.gauss(c_lat, spread), 6)
            lon = round(rng.gauss(c_lon, spread * 1.2), 6)
            inside = [code for code, g in shapes.items() if shapely.contains_xy(g, lon, lat)]
            if not inside:
                continue
            n += 1
            region = regions.region(inside[0])
            host = pick(rng, [(h, w) for h, w, _ in HOSTS])
            street = rng.choice(streets)
            place = rng.choice(next(t for h, _, t in HOSTS if h == host)).format(street=street)
            brand = pick(rng, BRANDS)
            hours = "24/7" if rng.random() < 0.065 else rng.choice(HOURS[host])
            status = pick(
                rng, [("open", 85), ("temporarily_closed", 4), ("planned", 6), ("closed", 5)]
            )
            source = pick(rng, [("wgs84", 6), ("gcj02", 3), ("bd09", 1)])
            s_lat, s_lon = datum.from_wgs84(lat, lon, source)
            days_ago = rng.randint(0, 400)
            props = {
                "code": f"DEMO-{prefix}-{n:04d}",
                "name": f"{place}{brand}",
                "address": f"{region.province}{region.city}{region.district}{street}{rng.randint(1, 399)}号",
                "adcode": region.adcode,
                "host_type": host,
                "brand": brand,
                "coord_source": source,
                "source_lat": round(s_lat, 7),
                "source_lon": round(s_lon, 7),
                "opening_hours": hours,
                "facilities": facilities(rng, host, prefix),
                "entry_method": pick(
                    rng,
                    [
                        ("open_door", 45),
                        ("staffed", 35),
                        ("qr_scan", 10),
                        ("face_id", 5),
                        ("ask_key", 5),
                    ],
                ),
                "status": status,
                "closed_until": "2027-01-15" if status == "temporarily_closed" else None,
                "manager_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "manager_phone": f"1380013{rng.randint(0, 9999):04d}",
                "verified_at": (VERIFIED_BY - timedelta(days=days_ago)).isoformat()
                + "T10:00:00+08:00",
            }
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": props,
                }
            )
    doc = {
        "type": "FeatureCollection",
        "name": "Yizhan demo stations — FICTITIOUS / 演示数据（虚构）",
        "description": (
            "FICTITIOUS DEMO DATA. Every station, name, address, manager and phone number here is "
            "invented for demonstration; the locations are random points inside real districts. "
            "本文件为虚构的演示数据，站点、名称、地址、管理员及电话均为编造，仅供演示。"
        ),
        "features": features,
    }
    write(OUT, doc)
    print(f"wrote {len(features)} fictitious stations to {OUT.relative_to(ROOT)}")
    demand = demand_features()
    write(
        DEMAND_OUT,
        {
            "type": "FeatureCollection",
            "name": "Yizhan demo demand — FICTITIOUS / 演示需求（虚构）",
            "description": (
                "FICTITIOUS DEMO DATA. Every point and weight here is invented for demonstrating "
                "coverage planning: no survey, order log or census lies behind it. The points are "
                "random places inside real districts. 本文件为虚构的演示需求数据，点位与权重均为编造，"
                "仅供演示覆盖规划。"
            ),
            "features": demand,
        },
    )
    print(f"wrote {len(demand)} fictitious demand points to {DEMAND_OUT.relative_to(ROOT)}")


def demand_features():
    """Weighted worker demand per city: half near the centre, most of the rest around outlying
    work areas, a tenth scattered wide; only points inside the city's districts are kept."""
    rng = random.Random(20261102)  # its own: the stations' draws stay as they were
    features = []
    for prefix, (c_lat, c_lon), spread, *_ in CITIES:
        city, count, areas = DEMAND[prefix]
        shapes = {r.adcode: regions.district_geometry(r.adcode) for r in regions.districts_of(city)}
        n = 0
        while n < count:
            draw = rng.random()
            if draw < 0.5:
                lat, lon, weight = rng.gauss(c_lat, spread), rng.gauss(c_lon, spread * 1.2), (5, 60)
            elif draw < 0.9:
                a_lat, a_lon = rng.choice(areas)
                lat, lon, weight = rng.gauss(a_lat, 0.02), rng.gauss(a_lon, 0.025), (20, 150)
            else:
                lat, lon = rng.gauss(c_lat, spread * 3), rng.gauss(c_lon, spread * 3.6)
                weight = (3, 30)
            lat, lon = round(lat, 5), round(lon, 5)
            inside = [code for code, g in shapes.items() if shapely.contains_xy(g, lon, lat)]
            if not inside:
                continue
            n += 1
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "weight": rng.randint(*weight),
                        "label": f"虚构需求点 {prefix}-{n:04d}",
                        "adcode": inside[0],
                        "fictitious": True,
                    },
                }
            )
    return features


def write(path, doc):
    """GeoJSON with one feature per line: diffs stay readable."""
    head = json.dumps(
        {k: v for k, v in doc.items() if k != "features"}, ensure_ascii=False, indent=1
    )
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in doc["features"])
    path.write_text(head[:-2] + ',\n "features": [\n' + lines + "\n]}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
