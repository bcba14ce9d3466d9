"""The partner's face: /embed for an <iframe>, /embed/list for pages without JavaScript, and the
builder that writes the <iframe> code.

URL switches are validated and a bad value is simply ignored (the embed still shows a map);
nothing from the URL reaches the page except through these checks and Jinja's escaping. The
embed sets no cookie and holds no staff link or form.

A region (region=63, 6301 or 630102) opens fitted to its published stations: the page passes
their extent as config["fit"] ([[south, west], [north, east]], WGS-84) for the map script to fit,
and opens at a centre and zoom that already show them all in a small frame. A region without
stations opens on its outline, and says so.
"""

import math
import re
from collections import Counter
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from stations.core import datum, navigation, nearby, present, regions, words
from stations.core.vocab import FACILITIES
from stations.web import cities_cache, maps, params
from stations.web.context import get_read_store, map_centre, now
from stations.web.i18n import requested_language
from stations.web.pages import ICONS, map_strings

PREFIX = "/embed"
bp = Blueprint("embed", __name__, url_prefix=PREFIX)
_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{1,8})?$")
_REGION = re.compile(r"^\d{2}(\d{2}){0,2}$")
# The smallest map an embed shows (a 360×600 frame with the list on): the zoom chosen on the
# server shows every station of a region in it, before the map script fits the real frame.
SMALL_MAP_PX = (330, 250)
MIN_SPAN_DEG = 0.01  # a region with one station opens at street level, not at zoom 18
MARGIN = 0.08  # of the span, on each side: markers on the edge stay whole
MIN_LIST_HEIGHT = 420  # px: a frame this tall shows the map, the locate button and one station
# Navigation and map links of core.navigation.links, in the order a rider is offered them.
NAV_ORDER = ("amap_route", "amap", "baidu", "tencent", "apple", "geo")


def options(args) -> dict[str, Any]:
    """Validated embed switches; anything malformed falls back to the default."""
    out: dict[str, Any] = {
        "centre": None,
        "zoom": 13,
        "zoom_given": False,
        "region": None,
        "facilities": [],
        "open_now": False,
        "lang": "zh",
        "list": False,
        "locate": False,
        "tiles": None,
    }
    centre = args.get("center", args.get("centre", "")).split(",")
    if len(centre) == 2 and all(_NUMBER.match(c.strip()) for c in centre):
        lat, lon = (float(c) for c in centre)
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            out["centre"] = (lat, lon)
    zoom = params.whole_number(args.get("zoom"), 3, 18)  # '²' or 5,000 digits: ignored
    if zoom is not None:
        out["zoom"], out["zoom_given"] = zoom, True
    region = args.get("region", "")
    if region.isascii() and _REGION.match(region) and regions.districts_of(region):
        out["region"] = region
    out["facilities"] = [
        k
        for k in (FACILITIES.parse(v) for v in re.split(r"[,，、]", args.get("facilities", "")))
        if k
    ]
    out["open_now"] = args.get("open_now") in ("1", "true")
    out["lang"] = "en" if args.get("lang") == "en" else "zh"
    out["locate"] = args.get("locate") == "1"
    # The list holds the stations nearest the visitor, so it needs the locate button: without
    # it the list would stay empty for good (the builder says so and refuses the combination).
    out["list"] = args.get("list") == "1" and out["locate"]
    if args.get("tiles") in maps.PRESETS and args.get("tiles") != "tianditu":
        out["tiles"] = args.get("tiles")
    return out


def _mercator_y(lat: float) -> float:
    lat = max(-85.0, min(85.0, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_zoom(south: float, west: float, north: float, east: float, size=SMALL_MAP_PX) -> int:
    """The largest web-map zoom (3-18) at which the box fits in a map of size (px)."""
    width, height = size
    lon_share = max(east - west, 1e-9) / 360
    lat_share = max(_mercator_y(north) - _mercator_y(south), 1e-9) / (2 * math.pi)
    zoom = min(math.log2(width / (256 * lon_share)), math.log2(height / (256 * lat_share)))
    return max(3, min(18, math.floor(zoom)))


def _padded(south: float, west: float, north: float, east: float) -> list[list[float]]:
    """The box with a margin and at least MIN_SPAN_DEG a side, as [[south, west], [north, east]]."""
    lat_pad = max((north - south) * MARGIN, (MIN_SPAN_DEG - (north - south)) / 2, 0)
    lon_pad = max((east - west) * MARGIN, (MIN_SPAN_DEG - (east - west)) / 2, 0)
    return [
        [round(south - lat_pad, 6), round(west - lon_pad, 6)],
        [round(north + lat_pad, 6), round(east + lon_pad, 6)],
    ]


def region_view(prefix: str) -> dict[str, Any]:
    """Where a region's embed opens: fitted to its published stations, or to its outline when
    it has none (stations: 0)."""
    extent = get_read_store().published_extent(prefix)
    if extent:
        south, west, north, east, count = extent
    else:
        west, south, east, north = regions.outline(prefix).bounds  # x is longitude
        count = 0
    fit = _padded(south, west, north, east)
    (s, w), (n, e) = fit
    return {
        "fit": fit,
        "centre": ((s + n) / 2, (w + e) / 2),
        "zoom": fit_zoom(s, w, n, e),
        "stations": count,
        "name": region_name(prefix),
    }


def region_name(prefix: str) -> str:
    """The name of an adcode prefix; for a group of cities governed by their province (4290:
    仙桃市, 潜江市, …) the names of all of them."""
    if len(prefix) == 4:
        names = list(dict.fromkeys(r.city for r in regions.districts_of(prefix)))
        if len(names) > 1:
            return "、".join(names)
    return regions.prefix_name(prefix)


@bp.get("")
def embed():
    opts = options(request.args)
    cfg = current_app.config
    tiles = maps.PRESETS[opts["tiles"]] if opts["tiles"] else maps.configured_tiles(cfg)
    centre, zoom, view = opts["centre"], opts["zoom"], None
    if centre is None and opts["region"]:
        view = region_view(opts["region"])
        centre = view["centre"]
        # A zoom given with the region is the partner's choice: centred on the region, no fit.
        zoom = opts["zoom"] if opts["zoom_given"] else view["zoom"]
    parts = maps.page_map(centre or map_centre(), zoom, tiles)
    with force_locale(opts["lang"]):
        config = {
            "map": parts["name"],
            "datum": tiles.datum,
            "lang": opts["lang"],
            "embed": True,
            "facilities": opts["facilities"],
            "openNow": opts["open_now"],
            "api": {"map": url_for("api.map_view"), "nearest": url_for("api.nearest")},
            "labels": {k: FACILITIES.label(k, opts["lang"]) for k in FACILITIES.keys()},
            "icons": ICONS,
            "t": map_strings(),
        }
        if view and not opts["zoom_given"]:
            config["fit"] = view["fit"]
        note = None
        if view and not view["stations"]:
            note = _("%(region)s has no stations yet; the map shows its area.", region=view["name"])
        return render_template("embed.html", map=parts, config=config, opts=opts, note=note)


# -- the builder ----------------------------------------------------------------------------


@cache
def _region_tree() -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """The picker's levels: prefix -> (level of its children, ((code, name), ...)).

    '' holds the provinces (mainland only: stations are not run elsewhere). A province holds
    its cities (4 digits), or for a municipality its districts (6 digits), and county-level
    cities governed by the province itself (429004 仙桃市) as cities with 6-digit codes. A
    city holds its districts."""
    by_province: dict[str, list[regions.Region]] = {}
    for r in regions.districts_of(""):
        if r.mainland:
            by_province.setdefault(r.adcode[:2], []).append(r)
    tree: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
        "": ("province", tuple((p, rs[0].province) for p, rs in sorted(by_province.items())))
    }
    for province, found in by_province.items():
        if all(r.city == r.province for r in found):  # 北京市, 上海市, 天津市, 重庆市
            tree[province] = ("district", tuple((r.adcode, r.district) for r in found))
            continue
        cities: list[tuple[str, str]] = []
        groups: dict[str, list[regions.Region]] = {}
        for r in found:
            groups.setdefault(r.adcode[:4], []).append(r)
        for prefix, members in sorted(groups.items()):
            names = {r.city for r in members}
            if len(names) == 1 and not (len(members) == 1 and members[0].district in names):
                cities.append((prefix, members[0].city))
                tree[prefix] = ("district", tuple((r.adcode, r.district) for r in members))
            else:  # cities governed by the province: each its own single district
                cities += [(r.adcode, r.city) for r in members]
        tree[province] = ("city", tuple(cities))
    return tree


def _counts(parent: str, level: str, children: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """Published stations of each child region: provinces and cities from the extents of the
    cities with stations (one grouped query, kept per process until the registry moves),
    districts by counting the stations of their one city."""
    store = get_read_store()
    if level == "district":
        return dict(Counter(s.adcode for s in store.iter_published(parent)))
    out: Counter[str] = Counter()
    codes = {code for code, _name in children}
    by_name = {(code[:4], name): code for code, name in children if len(code) == 6}
    for c in cities_cache.city_extents(store, parent):
        if level == "province":
            out[c["adcode"][:2]] += c["stations"]
        elif c["adcode"] in codes:
            out[c["adcode"]] += c["stations"]
        elif (c["adcode"], c["city"]) in by_name:  # a county-level city of its province
            out[by_name[(c["adcode"], c["city"])]] += c["stations"]
    return dict(out)


def _children(parent: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The picker's level below a prefix; a prefix the picker does not list (1101, 4290, a
    district) gets its districts, or none; None for a prefix that names no region."""
    tree = _region_tree()
    if parent in tree:
        return tree[parent]
    if not _REGION.match(parent) or not regions.districts_of(parent):
        return None
    if len(parent) == 6:
        return ("none", ())
    return ("district", tuple((r.adcode, r.district) for r in regions.districts_of(parent)))


@bp.get("/regions")
def region_choices():
    """The picker's next level below ?parent= ('' for the provinces, a province, a city):
    each child's adcode prefix, name and number of published stations, and the parent's own."""
    parent = request.args.get("parent", "")
    found = _children(parent) if parent.isascii() else None
    if found is None:
        with force_locale(requested_language()):
            message = _("%(code)s is not an adcode prefix of a region.", code=parent[:12])
        return jsonify({"error": {"code": "invalid_parameter", "message": message}}), 400
    level, children = found
    counts = _counts(parent, level, children) if children else {}
    extent = get_read_store().published_extent(parent) if parent else None
    response = jsonify(
        {
            "parent": parent,
            "name": region_name(parent) if parent else "",
            "stations": extent[4] if extent else 0,
            "level": level,
            "items": [
                {"code": code, "name": name, "stations": counts.get(code, 0)}
                for code, name in children
            ],
        }
    )
    response.headers["Cache-Control"] = "public, max-age=300"  # counts may lag 5 minutes
    return response


@bp.get("/builder")
def builder():
    """Pick a region by name, filters, switches, language and size on a live preview; copy the
    <iframe> code."""
    lang = requested_language()
    chips = [
        {"key": k, "label": FACILITIES.label(k, lang), "icon": ICONS[k]} for k in FACILITIES.keys()
    ]
    level, provinces = _region_tree()[""]
    counts = _counts("", level, provinces)
    strings = {
        "base": url_for("embed.embed", _external=True),
        "regions": url_for("embed.region_choices"),
        "title": {"zh": "驿站地图", "en": "Rest stations map"},
        "copied": _("Copied."),
        "stations": _(
            "Stations in %(region)s: %(n)s; the map opens with all of them in view.",
            region="{region}",
            n="{n}",
        ),
        "empty": _(
            "%(region)s has no stations yet; the map will show its area.", region="{region}"
        ),
        "everywhere": _("No region chosen: the map opens on the city with the most stations."),
        "unknown": _("%(code)s is not an adcode prefix of a region.", code="{code}"),
        "any": _("(all)"),
        "count": _("%(name)s (%(n)s)", name="{name}", n="{n}"),
        "loading": _("Loading…"),
        "list_needs_locate": _(
            'The list shows the stations nearest the visitor, so it needs "locate me".'
        ),
        "list_height": _(
            "With the list on, the frame needs at least %(px)s px of height so the map and the first station fit; the height was raised to it.",
            px="{px}",
        ),
        "min_list_height": MIN_LIST_HEIGHT,
    }
    return render_template(
        "embed_builder.html",
        chips=chips,
        provinces=[(code, name, counts.get(code, 0)) for code, name in provinces],
        strings=strings,
        builder_lang=lang,
        base=strings["base"],
    )


# -- the list without JavaScript ------------------------------------------------------------


def _field_label(field: str | None) -> str:
    return {
        "lat": _("latitude (lat)"),
        "lon": _("longitude (lon)"),
        "k": _("number of stations (k)"),
        "crs": _("coordinate system (crs)"),
    }.get(field or "", field or "?")


def _list_error(exc: params.ApiError, args) -> str:
    """The parameter error in the page's language, naming the input at fault."""
    label = _field_label(exc.field)
    if exc.field in ("lat", "lon") and not args.get(exc.field, "").strip():
        return _("Your location is missing: the address has no %(field)s.", field=label)
    if exc.field == "lat":
        return _(
            "%(field)s must be a number from %(low)s to %(high)s.", field=label, low=-90, high=90
        )
    if exc.field == "lon":
        return _(
            "%(field)s must be a number from %(low)s to %(high)s.", field=label, low=-180, high=180
        )
    if exc.field == "k":
        return _(
            "%(field)s must be a whole number from %(low)s to %(high)s.",
            field=label,
            low=1,
            high=20,
        )
    if exc.field == "crs":
        return _("%(field)s must be wgs84, gcj02 or bd09.", field=label)
    return _("%(field)s is not valid.", field=label)


def _clock(iso: str, today: date) -> str:
    """'07:00', 'tomorrow 07:00' or 'Mon 07:00' for a moment given as ISO text."""
    days, time = words.days_and_time(iso, today)
    if days <= 0:
        return time
    if days == 1:
        return _("tomorrow %(time)s", time=time)
    weekday = format_date(datetime.fromisoformat(iso).date(), "EEE")
    return _("%(weekday)s %(time)s", weekday=weekday, time=time)


def hours_words(station, live: dict, moment: datetime) -> tuple[str, str]:
    """(css class, words) for a station's state now: open, closed until a time, unknown, or
    temporarily closed until a date."""
    if station.status == "temporarily_closed":
        if station.closed_until:
            until = format_date(date.fromisoformat(station.closed_until), "medium")
            return "closed", _("Temporarily closed until %(date)s", date=until)
        return "closed", _("Temporarily closed")
    if live["open_now"] is True:
        if live["closes_at"]:
            return "open", _(
                "Open now · until %(time)s", time=_clock(live["closes_at"], moment.date())
            )
        return "open", _("Open now")
    if live["open_now"] is False:
        if live["opens_next"]:
            return "closed", _(
                "Resting · opens %(time)s", time=_clock(live["opens_next"], moment.date())
            )
        return "closed", _("Closed by its hours")
    return "unknown", _("Hours unknown · check on site")


def _nav_label(key: str) -> str:
    return {
        "amap_route": _("Ride there (Amap)"),
        "amap": _("Amap"),
        "baidu": _("Baidu Maps"),
        "tencent": _("Tencent Maps"),
        "apple": _("Apple Maps"),
        "geo": _("Other map app"),
    }[key]


@bp.get("/list")
def embed_list():
    """Plain HTML nearest list: WeChat H5 and low-end phones without JavaScript. Stations
    further than NEAREST_ANYWAY_MAX_M are not listed, as in the nearest API."""
    args = request.args
    lang = "en" if args.get("lang") == "en" else "zh"
    cap = int(current_app.config.get("NEAREST_ANYWAY_MAX_M", nearby.ANYWAY_MAX_M))
    items: list[dict[str, Any]] = []
    with force_locale(lang):
        error = none_nearby = None
        try:
            lat = params.decimal(args, "lat", -90, 90, required=True)
            lon = params.decimal(args, "lon", -180, 180, required=True)
            k = params.integer(args, "k", 1, 20, default=10)
            q_lat, q_lon = datum.to_wgs84(lat, lon, params.crs(args))
        except params.ApiError as exc:
            error = _list_error(exc, args)
        else:
            moment = now()
            store = get_read_store()
            # Within the cap, or else the nearest anyway: that one names the nearest city.
            found = store.nearest(q_lat, q_lon, k, radius_m=cap, at=moment)
            hits = nearby.within(found, cap)
            stations = store.published_by_ids([h.id for h in hits or found[:1]])
            hits = [h for h in hits if h.id in stations]  # published, even if the index lags
            # As on the map: stations one can use now first, nearest first within each group.
            for h in nearby.by_usefulness(hits, stations, moment):
                s = stations[h.id]
                live = present.live_state(s, moment)
                state, state_words = hours_words(s, live, moment)
                links = navigation.links(s.lat, s.lon, s.name, s.address, s.adcode)
                items.append(
                    {
                        "s": s,
                        "distance": words.distance(h.distance_m, lang),
                        "state": state,
                        "state_words": state_words,
                        "nav": [
                            (key, _nav_label(key), links[key]) for key in NAV_ORDER if key in links
                        ],
                    }
                )
            if not items:
                none_nearby = _(
                    "There is no rest station within %(distance)s of you.",
                    distance=words.distance(cap, lang),
                )
                first = stations.get(found[0].id) if found and not hits else None
                if first is not None:
                    none_nearby += " " + _(
                        "The nearest city with stations is %(city)s, %(distance)s away.",
                        city=first.city,
                        distance=words.distance(found[0].distance_m, lang),
                    )
        page = render_template(
            "embed_list.html", items=items, error=error, none_nearby=none_nearby, embed_lang=lang
        )
    return page, (400 if error else 200)


def init_app(app) -> None:
    """Only the embed may be framed, by anyone; every other page refuses to be framed."""
    app.register_blueprint(bp)

    @app.after_request
    def frame_policy(response):
        if request.path in (PREFIX, PREFIX + "/list"):
            response.headers["Content-Security-Policy"] = "frame-ancestors *"
        else:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
            response.headers["X-Frame-Options"] = "DENY"
        return response
