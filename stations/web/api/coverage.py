"""GET /api/v1/regions/<adcode>/coverage: the service circle of a region, by district, with
suggested sites — the same report as the staff page (coverage_report), as JSON."""

from flask import request

from stations.core import coverage_export, coverage_report
from stations.core.model import Invalid
from stations.web import coverage_cache
from stations.web.api import partners
from stations.web.api.base import bp, json_response
from stations.web.context import get_read_store, now
from stations.web.params import ApiError

MAX_API_SUGGEST = 10
QUERY_KEYS = ("preset", "radius_m", "only_24h", "facilities", "spacing_m", "demand", "suggest")


@bp.get("/regions/<adcode>/coverage")
def region_coverage(adcode: str):
    if not (adcode.isdigit() and len(adcode) in (2, 4, 6)):
        raise ApiError(f"no region {adcode[:12]}", "adcode", "not_found", 404)
    partners.require_within(adcode)
    values = {k: request.args.get(k) for k in QUERY_KEYS if k in request.args} | {"region": adcode}
    try:
        query, options = coverage_report.parse(values)
    except Invalid as exc:
        first = exc.errors[0]
        if first.field == "region":
            raise ApiError(f"no region {adcode[:12]}", "adcode", "not_found", 404) from None
        raise ApiError(first.message, first.field) from None
    if options.suggest > MAX_API_SUGGEST:
        raise ApiError(f"suggest between 0 and {MAX_API_SUGGEST} sites", "suggest")
    try:
        report = coverage_cache.report(
            get_read_store(),
            query,
            options,
            today=now().date(),
            target=coverage_cache.target(),
        )
    except Invalid as exc:
        first = exc.errors[0]
        raise ApiError(first.message, first.field) from None
    rows = coverage_export.district_rows(report)
    body = {
        "region": {"adcode": adcode, "name": report.region_name},
        "query": {
            "radius_m": round(query.radius_m),
            "only_24h": query.only_24h,
            "facilities": list(query.facilities),
            "spacing_m": round(query.spacing_m),
        },
        "projection": "CGCS2000 3-degree Gauss-Krüger zone of each district",
        "generated_at": now().isoformat(timespec="seconds"),
        "demand": {
            "source": report.demand,
            "fictitious": report.demand_fictitious,
        },
        "target": {
            "share": report.target,
            "measure": report.measure,
            "progress": round(report.progress, 4),
        },
        "total": rows[-1],
        "districts": rows[:-1],
        "suggestions": coverage_export.suggestion_rows(report),
        "gaps": len(report.coverage.gaps),
        "redundant_pairs": [
            {"a": p.a, "b": p.b, "distance_m": round(p.distance_m)}
            for p in report.coverage.redundant
        ],
    }
    if request.args.get("geometry") in ("1", "true"):
        body["layers"] = {
            name: {"type": "FeatureCollection", "features": features}
            for name, features in coverage_export.layers(report, 0.0001).items()
        }
    return json_response(body)
