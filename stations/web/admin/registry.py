"""Staff pages for the registry: stations in one's region, editing with history, import,
dashboard and exports. Every write goes through the core (`editing`, the importer with a scope),
which checks the region; these views only parse forms and render results."""

import io
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from stations.core import (
    compliance,
    editing,
    hours,
    hours_input,
    importer,
    present,
    standards,
    words,
)
from stations.core.accounts import AccessDenied
from stations.core.model import Invalid, stored_id
from stations.core.published import is_published
from stations.core.vocab import DATUMS
from stations.web.admin import field_errors
from stations.web.admin.base import (
    audit_interval,
    bp,
    form_data,
    map_parts,
    station_in_scope,
    vocab_choices,
)
from stations.web.auth import forbid, staff
from stations.web.context import FALLBACK_CENTRE, get_store, map_centre, now
from stations.web.i18n import requested_language

# Fields whose stored values are keys of a vocabulary: the history shows their labels.
VOCAB_FIELDS = {
    "status": "status",
    "facilities": "facilities",
    "host_type": "host_type",
    "entry_method": "entry_method",
    "crs": "crs",
    "coord_source": "crs",
}


@bp.get("/stations")
def stations():
    q = request.args.get("q", "").strip()[:50]
    found = get_store().stations_in_region(staff().region, limit=200, q=q)
    return render_template("admin/stations.html", stations=found, q=q)


def _hours_from_form(data: dict) -> hours_input.HoursInputError | None:
    """The hours field as staff typed it, OSM syntax or a Chinese phrase, made OSM in place;
    a phrase that cannot be read stays as typed (validation refuses it) and its error returns."""
    typed = data.get("opening_hours")
    if not isinstance(typed, str):
        return None
    try:
        data["opening_hours"] = hours_input.to_osm(typed)
    except hours_input.HoursInputError as exc:
        return exc
    return None


def _errors(exc: Invalid, data: dict, hours_error) -> dict[str, str]:
    """Each bad field's problem in the page's language; the template names the field."""
    errors = field_errors.messages(exc.errors)
    if hours_error is not None and "opening_hours" in errors:
        errors["opening_hours"] = field_errors.hours_message(
            hours_error, str(data.get("opening_hours", ""))
        )
    return errors


@bp.route("/stations/new", methods=["GET", "POST"])
def new_station():
    errors, data = {}, {}
    if request.method == "POST":
        data = form_data()
        hours_error = _hours_from_form(data)
        try:
            s = editing.create(get_store(), staff(), data, now())
            flash(_("Saved."), "ok")
            return redirect(url_for("admin.station", station_id=s.id), 303)
        except Invalid as exc:
            errors = _errors(exc, data, hours_error)
        except AccessDenied as exc:
            forbid(str(exc))
    centre = map_centre()
    parts, datum = map_parts(centre)
    return render_template(
        "admin/edit.html",
        s=None,
        data=data,
        errors=errors,
        map=parts,
        datum=datum,
        **vocab_choices(),
    ), (400 if errors else 200)


def _open_now_badge(s, live: dict, moment) -> dict | None:
    """The second badge of an open station: open now (until when), resting by its hours (and
    when it opens), or hours unknown. None for a station whose status already says it all."""
    if s.status != "open":
        return None
    lang = requested_language()
    if live["open_now"]:
        closes = live["closes_at"]
        text = _("Open now, until %(time)s", time=closes[11:16]) if closes else _("Open now")
        return {"kind": "open", "text": text}
    if live["open_now"] is None:
        return {"kind": "unknown", "text": _("Hours unclear: check on site")}
    opens = live["opens_next"]
    if not opens:
        return {"kind": "closed", "text": _("Resting by its hours")}
    at = datetime.fromisoformat(opens)
    if at.date() == moment.date():
        text = _("Resting, opens at %(time)s", time=f"{at:%H:%M}")
    elif at.date() == moment.date() + timedelta(days=1):
        text = _("Resting, opens tomorrow at %(time)s", time=f"{at:%H:%M}")
    else:
        text = _(
            "Resting, opens %(day)s at %(time)s",
            day=words.day(at, lang, moment.date()),
            time=f"{at:%H:%M}",
        )
    return {"kind": "closed", "text": text}


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    s = station_in_scope(station_id)
    store, moment = get_store(), now()
    latest = store.latest_audits([s.id]).get(s.id)
    live = present.live_state(s, moment)
    return render_template(
        "admin/station.html",
        s=s,
        history=store.history(s.id),
        audits=store.audits_for(s.id),
        latest=latest,
        profiles=standards.profiles(),
        live=live,
        open_badge=_open_now_badge(s, live, moment),
        published=is_published(s),
        hours_text=hours.describe(s.opening_hours, requested_language()),
        reports=store.station_reports(s.id),
        vocab_fields=VOCAB_FIELDS,
        **vocab_choices(),
    )


@bp.post("/stations/<int:station_id>/confirm")
def confirm_station(station_id: int):
    """信息无误: staff vouch for the details as they stand; "last verified" becomes now."""
    station_in_scope(station_id)
    try:
        editing.confirm(get_store(), staff(), station_id, now())
    except AccessDenied as exc:
        forbid(str(exc))
    flash(_("Details confirmed: last verified now."), "ok")
    return redirect(url_for("admin.station", station_id=station_id), 303)


@bp.route("/stations/<int:station_id>/edit", methods=["GET", "POST"])
def edit_station(station_id: int):
    s = station_in_scope(station_id)
    errors, data = {}, s.content() | {"crs": "wgs84"}
    if request.method == "POST":
        data = form_data()
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            abort(400)
        hours_error = _hours_from_form(data)
        try:
            editing.update(get_store(), staff(), station_id, data, version, now())
            flash(_("Saved."), "ok")
            return redirect(url_for("admin.station", station_id=station_id), 303)
        except editing.Conflict as exc:
            return render_template(
                "admin/conflict.html", s=exc.current, change=exc.last_change, mine=data
            ), 409
        except Invalid as exc:
            errors = _errors(exc, data, hours_error)
        except AccessDenied as exc:
            forbid(str(exc))
    parts, datum = map_parts((s.lat, s.lon))
    return render_template(
        "admin/edit.html", s=s, data=data, errors=errors, map=parts, datum=datum, **vocab_choices()
    ), (400 if errors else 200)


@bp.post("/stations/<int:station_id>/status")
def set_status(station_id: int):
    station_in_scope(station_id)
    status = request.form.get("status", "")
    changes = {"status": status}
    if status == "temporarily_closed":
        changes["closed_until"] = request.form.get("closed_until", "")
    try:
        version = int(request.form.get("version", ""))
        editing.update(get_store(), staff(), station_id, changes, version, now())
        flash(_("Saved."), "ok")
    except ValueError as exc:
        flash(str(exc), "error")
    except editing.Conflict as exc:
        flash(str(exc), "error")
    except AccessDenied as exc:
        forbid(str(exc))
    return redirect(url_for("admin.station", station_id=station_id), 303)


# -- import -----------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    if request.method == "GET":
        return render_template("admin/import.html", plan=None)
    upload = request.files.get("file")
    if not upload or not upload.filename:
        return render_template("admin/import.html", plan=None, error=_("Choose a file.")), 400
    suffix = Path(upload.filename).suffix.lower()
    crs = request.form.get("crs") or None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        upload.save(path)
        try:
            plan = importer.plan_import(
                get_store(), path, crs=crs if crs in DATUMS.keys() else None, scope=staff()
            )
        except importer.ImportRejected as exc:
            return render_template("admin/import.html", plan=None, error=str(exc)), 400
    if plan.ok and request.form.get("apply") == "1":
        importer.apply_plan(get_store(), plan, now=now(), user=staff())
        flash(_("Imported: %(summary)s", summary=plan.summary()), "ok")
        return redirect(url_for("admin.stations"), 303)
    return render_template("admin/import.html", plan=plan), (200 if plan.ok else 400)


# -- dashboard --------------------------------------------------------------------------------


DISTRICT_COLUMNS = [
    ("adcode", "行政区划代码"),
    ("district", "区县"),
    ("stations", "站点数"),
    ("audited_share", "周期内已核查比例"),
    ("compliance", "达标率"),
    ("due", "待核查"),
    ("open_reports", "未处理反馈"),
    ("overdue_reports", "超期反馈"),
    ("expired", "物品过期站点"),
]


@bp.get("/")
def dashboard():
    store, user, moment = get_store(), staff(), now()
    table = compliance.district_table(store, user.region, moment, audit_interval())
    stations = store.stations_in_region(user.region, limit=10_000_000)
    latest = store.latest_audits(stored_id(s) for s in stations)
    failing = [
        {"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon}
        for s in stations
        if s.id in latest and not latest[s.id].passed
    ]
    centre = (
        (sum(s.lat for s in stations) / len(stations), sum(s.lon for s in stations) / len(stations))
        if stations
        else FALLBACK_CENTRE
    )
    parts, datum = map_parts(centre)
    return render_template(
        "admin/dashboard.html",
        table=table,
        failing=failing,
        map=parts,
        datum=datum,
        user=user,
        columns=DISTRICT_COLUMNS,
    )


@bp.get("/export/<what>.<fmt>")
def export(what: str, fmt: str):
    from stations.core.writers import table_csv, table_xlsx

    store, user = get_store(), staff()
    if what == "districts":
        headers = [zh for _, zh in DISTRICT_COLUMNS]
        rows = [
            [row[k] if row[k] is not None else "" for k, _ in DISTRICT_COLUMNS]
            for row in compliance.district_table(store, user.region, now(), audit_interval())
        ]
    elif what == "audits":
        headers = [
            "站点编号",
            "站点名称",
            "区县",
            "标准",
            "核查日期",
            "方式",
            "核查员",
            "得分",
            "结论",
            "项目",
            "结果",
            "说明",
            "有效期至",
        ]
        rows = []
        profiles = standards.profiles()
        for r in store.audit_rows(user.region):  # one query, not one per station and audit
            profile = profiles.get(r["profile"])
            labels = {i.key: i.zh for i in profile.items} if profile else {}
            rows.append(
                [
                    r["code"],
                    r["name"],
                    r["district"],
                    profile.zh if profile else r["profile"],
                    r["visited_on"],
                    r["visit_kind"],
                    r["auditor"],
                    round(r["score"], 3),
                    "达标" if r["passed"] else "不达标",
                    labels.get(r["item"], r["item"]),
                    r["result"],
                    r["note"],
                    r["valid_until"] or "",
                ]
            )
    else:
        abort(404)
    if fmt == "csv":
        text = io.StringIO(newline="")
        table_csv(text, headers, rows)
        body, mimetype = ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv"
    elif fmt == "xlsx":
        binary = io.BytesIO()
        table_xlsx(binary, headers, rows, what)
        body, mimetype = (
            binary.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        abort(404)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=yizhan-{what}-{now():%Y%m%d}.{fmt}"
    )
    return response
