"""Station imports run as jobs outside the request: what a job is, when it counts as dead,
who may see it, and the runner that plans (and applies) a saved upload in a thread.

A job's state lives in the store (the `import_jobs` table) so that a poll answered by another
app server process sees it. The runner writes its phase and progress there, and a heartbeat
every few seconds; a job whose heartbeat stopped (the server restarted, the process was
killed) is read as failed, never as running forever. While the SQLite store applies, its one
write transaction holds the database, so the progress of that phase is kept in this process
(`LOCAL`) and the heartbeat may be late: a longer allowance covers it.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from stations.core import importer
from stations.core.accounts import ADMINS, User

if TYPE_CHECKING:
    from stations.store.protocols import Store

READING, CHECKING, APPLYING, DONE, REFUSED, FAILED = (
    "reading",
    "checking",
    "applying",
    "done",
    "refused",
    "failed",
)
PHASES = (READING, CHECKING, APPLYING, DONE, REFUSED, FAILED)
RUNNING = (READING, CHECKING, APPLYING)
BEAT_SECONDS = 5.0
STALE = timedelta(minutes=2)  # no heartbeat for this long: the job died with its process
STALE_APPLYING = timedelta(minutes=30)  # SQLite: the apply's transaction may hold the beat
WRITE_EVERY = 0.25  # seconds between progress writes to the store
STOPPED = "stopped"  # the message of a job whose heartbeat stopped (the face translates it)
ERROR = "error"  # the message of a job that raised (the face translates it)


@dataclass(frozen=True)
class ImportJob:
    id: int
    owner_id: int
    region: str
    file_name: str  # as the user named it, never the server's path
    apply: bool
    phase: str
    done: int
    total: int | None
    started_at: str
    heartbeat_at: str
    message: str = ""
    result: dict = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.phase in RUNNING

    def seen_at(self, now: datetime) -> "ImportJob":
        """The job as it stands at now: a running job with a stale heartbeat has failed."""
        if not self.running:
            return self
        allowance = STALE_APPLYING if self.phase == APPLYING else STALE
        if now - datetime.fromisoformat(self.heartbeat_at) > allowance:
            return replace(self, phase=FAILED, message=STOPPED)
        return self


def may_see(job: ImportJob, user: User) -> bool:
    """The user who started the job, or an admin whose region holds the job's region."""
    if user.disabled_at:
        return False
    return user.id == job.owner_id or (user.role in ADMINS and job.region.startswith(user.region))


def plan_result(plan: importer.ImportPlan) -> dict:
    """What the staff page shows of a plan: counts, every bad row and column, warnings."""
    return {
        "new": len(plan.new),
        "updated": len(plan.changed),
        "unchanged": plan.unchanged,
        "errors": [[e.where, e.column, e.message] for e in plan.errors],
        "warnings": list(plan.warnings),
    }


# Progress of jobs running in this process: job id -> (phase, done, total).
LOCAL: dict[int, tuple[str, int, int | None]] = {}


def with_local_progress(job: ImportJob) -> ImportJob:
    """The job with this process's fresher progress, when it runs here."""
    local = LOCAL.get(job.id)
    if local is None or not job.running:
        return job
    phase, done, total = local
    if PHASES.index(phase) < PHASES.index(job.phase):
        return job
    return replace(job, phase=phase, done=done, total=total)


class _Reporter:
    """progress(label, total) for the importer: counts rows and writes them, throttled."""

    def __init__(self, notes: "Store", job_id: int, clock: Callable[[], datetime]):
        self.notes, self.job_id, self.clock = notes, job_id, clock
        self.phase, self.done = READING, 0
        self.total: int | None = None
        self.rows: int | None = None  # the file's rows, once read
        self.written = 0.0

    def stamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def set(self, phase: str, done: int, total: int | None, *, store: bool = True) -> None:
        self.phase, self.done, self.total = phase, done, total
        LOCAL[self.job_id] = (phase, done, total)
        if store:
            self.notes.update_import_job(
                self.job_id, self.stamp(), phase=phase, done=done, total=total
            )
            self.written = time.monotonic()

    def __call__(self, label: str, total: int) -> Callable[[int], None]:
        phase = APPLYING if label == "Writing" else CHECKING
        if phase == CHECKING:
            self.rows = total
        self.set(phase, 0, total, store=phase != APPLYING)

        def tick(n: int) -> None:
            self.done += n
            LOCAL[self.job_id] = (self.phase, self.done, self.total)
            if self.phase != APPLYING and time.monotonic() - self.written >= WRITE_EVERY:
                self.set(self.phase, self.done, self.total)

        return tick


def _beat(open_store: Callable[[], "Store"], job_id: int, clock, stop: threading.Event) -> None:
    store = open_store()
    try:
        while not stop.wait(BEAT_SECONDS):
            try:
                store.update_import_job(job_id, clock().isoformat(timespec="seconds"))
            except Exception:  # busy under the apply's transaction: the allowance covers it
                pass
    finally:
        store.close()


def run(
    open_store: Callable[[], "Store"],
    job_id: int,
    path: Path,
    *,
    shown: str,
    crs: str | None,
    user: User,
    apply: bool,
    clock: Callable[[], datetime],
) -> None:
    """Plan the saved upload at path (and apply it when asked and clean), recording the job's
    phase, progress and result; the upload is deleted when the job ends, however it ends.
    shown is the file's name as the user gave it, put in place of the path in a refusal."""
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(open_store, job_id, clock, stop), daemon=True)
    beat.start()
    work, notes = open_store(), open_store()
    report = _Reporter(notes, job_id, clock)
    try:
        try:
            plan = importer.plan_import(
                work, path, crs=crs, scope=user, progress=report, progress_min=0
            )
        except importer.ImportRejected as exc:
            # the file as the user named it: no server path reaches a page
            message = str(exc).replace(str(path), shown).replace(path.name, shown)
            notes.update_import_job(job_id, report.stamp(), phase=REFUSED, message=message)
            return
        result = plan_result(plan)
        rows = report.rows or 0
        if plan.ok and apply:
            if plan.new or plan.changed:
                report.set(APPLYING, 0, len(plan.new) + len(plan.changed))
            importer.apply_plan(work, plan, now=clock(), progress=report, user=user)
            result["applied"] = len(plan.new) + len(plan.changed)
        notes.update_import_job(
            job_id,
            report.stamp(),
            phase=DONE,
            done=rows,
            total=rows,
            result=json.dumps(result, ensure_ascii=False),
        )
    except Exception:  # recorded (the apply's one transaction wrote nothing), then raised
        notes.update_import_job(job_id, report.stamp(), phase=FAILED, message=ERROR)
        raise
    finally:
        stop.set()
        LOCAL.pop(job_id, None)
        path.unlink(missing_ok=True)
        work.close()
        notes.close()
