"""The staff import, /admin/import: the upload is saved (streamed to a file with a random name in
the instance folder's import area, bounded by MAX_CONTENT_LENGTH) after the role is checked, and
a job plans it — and applies it when asked and clean — in a thread of this process
(core/import_jobs.py), so a big file never holds a server thread. The job page polls a small JSON
endpoint (static/import_job.js) and refreshes itself without JavaScript. The job's state lives
in the database: a poll answered by another server process sees it too."""

import os
import re
import secrets
import threading
from pathlib import Path

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from stations.core import columns, import_jobs
from stations.core.import_jobs import ImportJob
from stations.core.vocab import DATUMS
from stations.web.admin.base import bp
from stations.web.auth import forbid, staff
from stations.web.context import clock, get_store, now, store_opener
from stations.web.i18n import requested_language


@bp.teardown_request
def _close_uploads(exc=None) -> None:
    """Close every uploaded file Werkzeug spooled for this request, on every path (a refusal
    before the view read it included), so no temporary file is left open."""
    parsed = request._get_current_object().__dict__  # type: ignore[attr-defined]
    for upload in parsed["files"].values() if "files" in parsed else ():
        upload.close()


def import_dir() -> Path:
    folder = Path(
        current_app.config.get("IMPORT_DIR") or os.path.join(current_app.instance_path, "imports")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    if request.method == "GET":
        return render_template("admin/import.html", job=None)
    user = staff()
    if not user.can_write:  # before the upload is read: a viewer never reaches the parser
        forbid(_("Your account is read-only."))
    upload = request.files.get("file")
    if not upload or not upload.filename:
        return render_template("admin/import.html", job=None, error=_("Choose a file.")), 400
    suffix = Path(upload.filename).suffix.lower()  # kept so a refusal names the real type
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,12}", suffix) else ".unknown"
    path = import_dir() / f"{secrets.token_hex(16)}{suffix}"
    try:
        upload.save(path)  # streamed in chunks; MAX_CONTENT_LENGTH bounds the whole body
    finally:
        upload.close()
    crs = request.form.get("crs") or None
    apply = request.form.get("apply") == "1"
    moment = now()
    stamp = moment.isoformat(timespec="seconds")
    shown = Path(upload.filename).name[:200]
    job_id = get_store().add_import_job(user.id, user.region, shown, apply, stamp)
    opener, job_clock, log = store_opener(), clock(), current_app.logger

    def work() -> None:
        try:
            import_jobs.run(
                opener,
                job_id,
                path,
                shown=shown,
                crs=crs if crs in DATUMS.keys() else None,
                user=user,
                apply=apply,
                clock=job_clock,
            )
        except Exception:  # the job is marked failed; the cause goes to the server's log
            log.exception("import job %s failed", job_id)

    threading.Thread(target=work, name=f"import-job-{job_id}", daemon=True).start()
    return redirect(url_for("admin.import_job", job_id=job_id), 303)


def _job(job_id: int) -> ImportJob:
    """The job as it stands now, for its owner or an admin of its region (else 404)."""
    job = get_store().import_job(job_id)
    if job is None or not import_jobs.may_see(job, staff()):
        abort(404)
    return import_jobs.with_local_progress(job).seen_at(now())


PHASE_LABELS = {
    "reading": lambda: _("Reading the file"),
    "checking": lambda: _("Checking rows"),
    "applying": lambda: _("Writing to the registry"),
    "done": lambda: _("Done"),
    "refused": lambda: _("Refused"),
    "failed": lambda: _("Failed"),
}


def _message(job: ImportJob) -> str:
    if job.message == import_jobs.STOPPED:
        return _(
            "The import stopped (the server restarted or the job died); nothing was written."
            " Upload the file again."
        )
    if job.message == import_jobs.ERROR:
        return _("The import failed on the server; nothing was written. Upload the file again.")
    return job.message


def _state(job: ImportJob) -> dict:
    result = job.result
    plan = ""
    if job.phase == "done":
        plan = _(
            "%(new)s new, %(updated)s updated, %(unchanged)s unchanged",
            new=result.get("new", 0),
            updated=result.get("updated", 0),
            unchanged=result.get("unchanged", 0),
        )
    return {
        "id": job.id,
        "phase": job.phase,
        "phase_label": PHASE_LABELS[job.phase](),
        "running": job.running,
        "done": job.done,
        "total": job.total,
        "progress": (
            _("%(done)s of %(total)s rows", done=f"{job.done:,}", total=f"{job.total:,}")
            if job.total is not None
            else ""
        ),
        "message": _message(job),
        "plan": plan,
        "applied": result.get("applied"),
    }


def _where(where: str) -> str:
    """Where a problem is, in the page's language: 'row 7' -> '第 7 行'."""
    kind, _space, number = where.partition(" ")
    if number.isdigit() and kind == "row":
        return _("row %(n)s", n=number)
    if number.isdigit() and kind == "feature":
        return _("feature %(n)s", n=number)
    return where


def _errors(job: ImportJob) -> list[str]:
    """The plan's bad rows as the page lists them: where, the column's label, the problem."""
    lang = requested_language()
    lines = []
    for where, column, message in job.result.get("errors", []):
        if column:
            lines.append(
                _(
                    "%(where)s, column %(column)s: %(problem)s",
                    where=_where(where),
                    column=columns.label(column, lang),
                    problem=message,
                )
            )
        else:
            lines.append(_("%(where)s: %(problem)s", where=_where(where), problem=message))
    return lines


@bp.get("/import/jobs/<int:job_id>")
def import_job(job_id: int):
    job = _job(job_id)
    state = _state(job)
    return render_template("admin/import_job.html", job=job, state=state, errors=_errors(job))


@bp.get("/import/jobs/<int:job_id>.json")
def import_job_state(job_id: int):
    response = jsonify(_state(_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
