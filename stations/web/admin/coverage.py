"""Staff page for layout: /admin/coverage — the service circle, its gaps, demand and where to
build next, with exports. The core builds the report (coverage_report); this view parses the
query string and renders it."""

import io
import tempfile
from dataclasses import replace
from pathlib import Path

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from stations.core import coverage_export, coverage_report, demand_files, demand_import
from stations.core.accounts import AccessDenied, require_read
from stations.core.coverage import PRESETS
from stations.core.model import Invalid
from stations.core.vocab import DATUMS, FACILITIES
from stations.web import coverage_cache
from stations.web.admin.base import bp, map_parts
from stations.web.auth import forbid, staff
from stations.web.context import get_store, now
from stations.web.i18n import requested_language

# How much the page's polygons are simplified for drawing (degrees, ~10 m): exports keep all.
DRAW_SIMPLIFY_DEG = 0.0001
DEFAULT_SUGGEST = 3


def _choices():
    busiest = [(c["province"], c["city"]) for c in get_store().summary()["by_city"]]
    return coverage_report.region_choices(staff().region, busiest)


def _report(choices):
    """The report the query string asks for, or (None, errors) when it names a bad field."""
    user = staff()
    default = user.region if len(user.region) >= 4 else (choices[0].adcode if choices else "")
    try:
        # Facilities arrive as one checkbox each: every ticked one counts.
        values = request.args.to_dict() | {"facilities": request.args.getlist("facilities")}
        query, options = coverage_report.parse(values, default_region=default)
    except Invalid as exc:
        return None, {e.field: e.message for e in exc.errors}
    try:
        require_read(user, query.region)
    except AccessDenied as exc:
        forbid(str(exc))
    if "suggest" not in request.args:
        options = replace(options, suggest=DEFAULT_SUGGEST)
    try:
        report = coverage_cache.report(
            get_store(), query, options, today=now().date(), target=coverage_cache.target()
        )
    except Invalid as exc:
        return None, {e.field: e.message for e in exc.errors}
    return report, {}


def _form_page(choices, errors: dict, problems: list[str] | tuple = (), status: int = 400):
    """The page without a report: the form, what was wrong, and the layers."""
    return render_template(
        "admin/coverage.html",
        report=None,
        errors=errors,
        problems=problems,
        choices=choices,
        layers=get_store().demand_layers(),
        presets=PRESETS.values(),
        facilities=FACILITIES,
        datums=DATUMS,
        args=request.args,
    ), status


@bp.get("/coverage")
def coverage():
    choices = _choices()
    report, errors = _report(choices)
    if report is None:
        return _form_page(choices, errors)
    parts, datum = map_parts(coverage_export.centre(report))
    return render_template(
        "admin/coverage.html",
        report=report,
        errors={},
        problems=(),
        choices=choices,
        layers=report.layers,
        presets=PRESETS.values(),
        facilities=FACILITIES,
        datums=DATUMS,
        args=request.args,
        total=report.coverage.total,
        districts=coverage_export.district_rows(report)[:-1],
        demand_label=coverage_export.describe_demand(report, requested_language()),
        map=parts,
        datum=datum,
        drawing=coverage_export.layers(report, DRAW_SIMPLIFY_DEG, datum),
        outlines=coverage_export.outlines(report, DRAW_SIMPLIFY_DEG, datum),
    )


EXPORTS = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.get("/coverage.<fmt>")
def coverage_export_file(fmt: str):
    if fmt not in EXPORTS:
        abort(404)
    report, errors = _report(_choices())
    if report is None:
        return Response(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), 400, mimetype="text/plain"
        )
    stamp = now()
    generated = stamp.isoformat(timespec="seconds")
    lang = requested_language()
    if fmt == "xlsx":
        body = io.BytesIO()
        coverage_export.write_xlsx(body, report, generated, "en" if lang == "en" else "zh")
        data = body.getvalue()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"coverage.{fmt}"
            if fmt == "gpkg":
                coverage_export.write_gpkg(path, report, generated)
            else:
                coverage_export.write_geojson(path, report)
            data = path.read_bytes()
    response = Response(data, mimetype=EXPORTS[fmt])
    region = report.coverage.query.region
    response.headers["Content-Disposition"] = (
        f"attachment; filename=yizhan-coverage-{region}-{stamp:%Y%m%d}.{fmt}"
    )
    return response


@bp.post("/coverage/layers")
def import_layer():
    user = staff()
    if not user.can_write:
        forbid(_("Your account is read-only."))
    upload = request.files.get("file")
    if not upload or not upload.filename:
        return _form_page(_choices(), {"file": _("Choose a file.")})
    crs = request.form.get("crs") or None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{Path(upload.filename).suffix.lower()}"
        upload.save(path)
        try:
            done = demand_import.import_layer(
                get_store(),
                path,
                request.form.get("name", ""),
                request.form.get("kind", "demand"),
                crs if crs in DATUMS.keys() else None,
                replace=request.form.get("replace") == "1",
                now=now().isoformat(timespec="seconds"),
                scope=user.region,
            )
        except demand_import.LayerExists as exc:
            message = _(
                "Layer %(name)s exists (%(points)s points): tick “replace” to replace it.",
                name=exc.name,
                points=exc.points,
            )
            return _form_page(_choices(), {"file": message})
        except demand_files.DemandRejected as exc:
            return _form_page(_choices(), {"file": _("Nothing was imported.")}, exc.problems)
        except ValueError as exc:
            return _form_page(_choices(), {"file": str(exc)})
    flash(
        _("Layer %(name)s: %(points)s points imported.", name=done.name, points=done.points), "ok"
    )
    return redirect(url_for("admin.coverage", _anchor="layers"), 303)


@bp.post("/coverage/layers/delete")
def delete_layer():
    user = staff()
    if not user.can_write:
        forbid(_("Your account is read-only."))
    name = request.form.get("name", "")
    try:
        demand_import.delete_layer(get_store(), name, scope=user.region)
        flash(_("Layer %(name)s deleted.", name=name), "ok")
    except demand_import.LayerRefused as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.coverage", _anchor="layers"), 303)
