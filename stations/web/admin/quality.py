"""Staff pages for quality: audits with photo evidence, the problem-report queue, due audits."""

from datetime import datetime
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from stations.core import (
    audits,
    checkins,
    compliance,
    labels,
    report_queue,
    staff_tables,
    standards,
)
from stations.core.accounts import AccessDenied, require_read, require_write
from stations.core.evidence import PhotoRefused, prepare_photo, remove_photos, save_photos
from stations.core.staff_tables import DUE_SORTS
from stations.web.admin.base import audit_interval, bp, station_in_scope
from stations.web.admin.lists import list_args
from stations.web.auth import forbid, staff
from stations.web.context import get_store, now
from stations.web.i18n import requested_language

REPORT_MOVES = {"acknowledge": "acknowledged", "resolve": "resolved", "reject": "rejected"}


def _evidence_dir() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


@bp.route("/stations/<int:station_id>/audit", methods=["GET", "POST"])
def audit(station_id: int):
    s = station_in_scope(station_id)
    user, store = staff(), get_store()
    try:
        require_write(user, s.adcode)
    except AccessDenied as exc:
        forbid(str(exc))
    profiles = standards.profiles()
    key = request.values.get("profile") or store.region_profile(s.adcode)
    profile = profiles.get(key)
    if profile is None:
        abort(400)
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            answers = audits.parse_answers(profile, s, form)
            try:
                visited = datetime.fromisoformat(form.get("visited_on", "")).date()
            except ValueError:
                raise audits.AuditInvalid({"visited_on": "give the visit date"}) from None
            kind, moment = form.get("visit_kind", ""), now()
            # Everything is checked before any photo is written, and the photos written are
            # removed if the audit is not stored after all: a refused audit leaves no file.
            prepared = {}
            for answer in answers:
                upload = request.files.get(f"photo_{answer.item}")
                if upload and upload.filename:
                    try:
                        prepared[answer.item] = prepare_photo(upload.read())
                    except PhotoRefused as exc:
                        raise audits.AuditInvalid({answer.item: str(exc)}) from None
            audits.check(user, s, profile, answers, visited, kind, moment)
            photos = save_photos(prepared, _evidence_dir())
            try:
                _audit_id, _share, passed = audits.record(
                    store, user, s, profile, answers, visited, kind, photos, moment
                )
            except BaseException:
                remove_photos(photos.values(), _evidence_dir())
                raise
            flash(
                _("Audit saved: %(result)s", result=_("passed") if passed else _("not passed")),
                "ok",
            )
            return redirect(url_for("admin.station", station_id=s.id), 303)
        except audits.AuditInvalid as exc:
            errors = exc.errors
    return render_template(
        "admin/audit.html",
        s=s,
        profile=profile,
        profiles=profiles.values(),
        prefill=audits.prefill(profile, s),
        errors=errors,
        form=form,
        today=now().date().isoformat(),
        kinds=audits.VISIT_KINDS,
        item_names={
            "visited_on": _("Visit date"),
            "visit_kind": _("Visit"),
            **{i.key: (i.zh if requested_language() == "zh" else i.en) for i in profile.items},
        },
    ), (400 if errors else 200)


@bp.get("/evidence/<name>")
def evidence(name: str):
    """Audit photos: staff of the station's region only."""
    station_id = get_store().photo_owner(name)
    if station_id is None:
        abort(404)
    s = get_store().get(station_id)
    if s is None:
        abort(404)
    try:
        require_read(staff(), s.adcode)
    except AccessDenied:
        abort(404)
    response = send_from_directory(_evidence_dir(), name, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports")
def reports():
    try:
        query = report_queue.parse(request.args)
    except report_queue.BadQuery as exc:
        abort(
            400,
            description=_("%(field)s must be: %(allowed)s", field=exc.field, allowed=exc.allowed),
        )
    store, user = get_store(), staff()
    found = report_queue.find(store, user.region, query, now())
    return render_template(
        "admin/reports.html",
        found=found,
        query=found.query,
        districts=store.report_districts(user.region),
        kinds=[k for k in checkins.KINDS.keys() if k != "ok"],
        states=report_queue.STATES,
        sorts=report_queue.SORTS,
        here=request.full_path.rstrip("?"),
    )


def _back_to_queue() -> str:
    """Where a report's buttons return: the queue page they were on (only a queue address),
    or the station page when they were pressed there."""
    back = request.form.get("back", "")
    if back.startswith("/admin/reports") or back.startswith("/admin/stations/"):
        if "//" not in back and "\\" not in back:
            return back
    return url_for("admin.reports")


@bp.post("/reports/<int:report_id>")
def move_report(report_id: int):
    store, user = get_store(), staff()
    found = store.report(report_id)
    if found is None:
        abort(404)
    try:
        require_write(user, found.adcode)
    except AccessDenied as exc:
        forbid(str(exc))
    status = REPORT_MOVES.get(request.form.get("action", ""))
    if status is None:
        abort(400)
    note = request.form.get("note", "").strip()[:500]
    back = _back_to_queue()
    if status == "resolved" and not note:
        flash(_("Say how it was resolved."), "error")
        return redirect(back, 303)
    store.set_report_status(report_id, status, user.id, now().isoformat(timespec="seconds"), note)
    flash(
        _(
            "%(station)s: %(problem)s — %(state)s.",
            station=found.station_name,
            problem=labels.label("report_kind", found.kind, requested_language()),
            state=labels.label("report_state", status, requested_language()),
        ),
        "ok",
    )
    return redirect(back, 303)


@bp.get("/due")
def due():
    """Stations due for audit: the figures' own due list (what the dashboard counts),
    filtered by district, sorted and paged."""
    args = list_args(DUE_SORTS, default_sort="last_audit")
    figs = compliance.figures(get_store(), staff().region, now(), audit_interval())
    rows = staff_tables.due_list(
        figs, adcode=args.district, sort=args.sort, descending=args.descending
    )
    pager = staff_tables.page_of(len(rows), args.page)
    args.page = pager.number
    return render_template(
        "admin/due.html",
        rows=rows[pager.offset : pager.offset + pager.per_page],
        pager=pager,
        args=args,
        districts=figs.districts,
        due_after_reports=audits.DUE_AFTER_REPORTS,
    )
