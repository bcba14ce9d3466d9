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

from stations.core import audits, compliance, staff_tables, standards
from stations.core.accounts import AccessDenied, require_read, require_write
from stations.core.evidence import PhotoRefused, store_photo
from stations.core.staff_tables import DUE_SORTS
from stations.web.admin.base import audit_interval, bp, station_in_scope
from stations.web.admin.lists import list_args
from stations.web.auth import forbid, staff
from stations.web.context import get_store, now

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
            photos = {}
            for answer in answers:
                upload = request.files.get(f"photo_{answer.item}")
                if upload and upload.filename:
                    try:
                        photos[answer.item] = store_photo(upload.read(), _evidence_dir())
                    except PhotoRefused as exc:
                        raise audits.AuditInvalid({answer.item: str(exc)}) from None
            _audit_id, _share, passed = audits.record(
                store, user, s, profile, answers, visited, form.get("visit_kind", ""), photos, now()
            )
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
    moment = now()
    rows = get_store().reports(staff().region, ("new", "acknowledged"))
    overdue = {r.id for r in rows if audits.overdue(r, moment)}
    return render_template("admin/reports.html", reports=rows, overdue=overdue)


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
    if status == "resolved" and not note:
        flash(_("Say how it was resolved."), "error")
        return redirect(url_for("admin.reports"), 303)
    store.set_report_status(report_id, status, user.id, now().isoformat(timespec="seconds"), note)
    flash(_("Saved."), "ok")
    return redirect(url_for("admin.reports"), 303)


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
