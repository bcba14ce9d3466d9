"""SQL for staff import jobs (core/import_jobs.py). A mixin of SQLiteStore."""

from stations.core.import_jobs import ImportJob
from stations.store import records
from stations.store.sqlite.base import Connected, inserted_id


class JobQueries(Connected):
    def add_import_job(
        self, owner_id: int, region: str, file_name: str, apply: bool, now: str
    ) -> int:
        with self.transaction():
            return inserted_id(
                self.db.conn.execute(
                    "insert into import_jobs (owner_id, region, file_name, apply, phase,"
                    " started_at, heartbeat_at) values (?, ?, ?, ?, 'reading', ?, ?)",
                    [owner_id, region, file_name, int(apply), now, now],
                )
            )

    def update_import_job(
        self,
        job_id: int,
        now: str,
        *,
        phase: str | None = None,
        done: int | None = None,
        total: int | None = None,
        message: str | None = None,
        result: str | None = None,
    ) -> None:
        given = dict(zip(records.JOB_FIELDS, (phase, done, total, message, result), strict=True))
        sets = {k: v for k, v in given.items() if v is not None}
        columns = "".join(f", {k} = ?" for k in sets)
        with self.transaction():
            self.db.conn.execute(
                f"update import_jobs set heartbeat_at = ?{columns} where id = ?",
                [now, *sets.values(), job_id],
            )

    def import_job(self, job_id: int) -> ImportJob | None:
        rows = list(self._rows("select * from import_jobs where id = ?", [job_id]))
        return records.import_job(rows[0]) if rows else None
