"""The partner's face: /embed for an <iframe>, /embed/list for pages without JavaScript.

URL switches are validated and a bad value is simply ignored (the embed still shows a map);
nothing from the URL reaches the page except through these checks and Jinja's escaping. The
embed sets no cookie and holds no staff link or form.
"""

import re
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import force_locale

from stations.core import datum, present, regions
from stations.core.vocab import FACILITIES
from stations.web import maps, params
from stations.web.context import get_read_store, map_centre, now
from stations.web.pages import ICONS, map_strings

PREFIX = "/embed"
bp = Blueprint("embed", __name__, url_prefix=PREFIX)
_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{1,8})?$")


def options(args) -> dict[str, Any]:
    """Validated embed switches; anything malformed falls back to the default."""
    out: dict[str, Any] = {
        "centre": None,
        "zoom": 13,
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
    zoom = args.get("zoom", "")
    if zoom.isdigit() and 3 <= int(zoom) <= 18:
        out["zoom"] = int(zoom)
    region = args.get("region", "")
    if region.isdigit() and len(region) in (2, 4, 6) and out["centre"] is None:
        found = regions.districts_of(region)
        if found:
            bounds = [regions.district_geometry(r.adcode).bounds for r in found]  # x is longitude
            min_lon, min_lat = min(b[0] for b in bounds), min(b[1] for b in bounds)
            max_lon, max_lat = max(b[2] for b in bounds), max(b[3] for b in bounds)
            out["centre"] = ((min_lat + max_lat) / 2, (min_lon + max_lon) / 2)
            out["zoom"] = {2: 7, 4: 10, 6: 12}[len(region)] if "zoom" not in args else out["zoom"]
    out["facilities"] = [
        k
        for k in (FACILITIES.parse(v) for v in re.split(r"[,，、]", args.get("facilities", "")))
        if k
    ]
    out["open_now"] = args.get("open_now") in ("1", "true")
    out["lang"] = "en" if args.get("lang") == "en" else "zh"
    out["list"] = args.get("list") == "1"
    out["locate"] = args.get("locate") == "1"
    if args.get("tiles") in maps.PRESETS and args.get("tiles") != "tianditu":
        out["tiles"] = args.get("tiles")
    return out


@bp.get("")
def embed():
    opts = options(request.args)
    cfg = current_app.config
    tiles = maps.PRESETS[opts["tiles"]] if opts["tiles"] else maps.configured_tiles(cfg)
    centre = opts["centre"] or map_centre()
    leaflet = (
        url_for("assets.vendor", filename="leaflet.js"),
        url_for("assets.vendor", filename="leaflet.css"),
    )
    parts = maps.station_map(centre, opts["zoom"], tiles, *leaflet)
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
        return render_template("embed.html", map=parts, config=config, opts=opts)


@bp.get("/builder")
def builder():
    """Pick region, filters, language and size on a live preview; copy the <iframe> code."""
    chips = [
        {"key": k, "label": FACILITIES.label(k, "zh"), "icon": ICONS[k]} for k in FACILITIES.keys()
    ]
    return render_template(
        "embed_builder.html", chips=chips, base=url_for("embed.embed", _external=True)
    )


@bp.get("/list")
def embed_list():
    """Plain HTML nearest list: WeChat H5 and low-end phones without JavaScript."""
    args = request.args
    lang = "en" if args.get("lang") == "en" else "zh"
    error, items = None, []
    try:
        lat = params.decimal(args, "lat", -90, 90, required=True)
        lon = params.decimal(args, "lon", -180, 180, required=True)
        k = params.integer(args, "k", 1, 20, default=10)
        q_lat, q_lon = datum.to_wgs84(lat, lon, params.crs(args))
        moment = now()
        store = get_read_store()
        hits = store.nearest(q_lat, q_lon, k, at=moment)
        stations = store.published_by_ids([h.id for h in hits])
        for h in hits:
            s = stations.get(h.id)
            if s is None:  # no longer published; the index has not caught up yet
                continue
            items.append(
                {"s": s, "distance": round(h.distance_m), "live": present.live_state(s, moment)}
            )
    except params.ApiError as exc:
        error = exc.message
    with force_locale(lang):
        return render_template("embed_list.html", items=items, error=error, embed_lang=lang), (
            400 if error else 200
        )


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
