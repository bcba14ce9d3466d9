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
        fields = dict(phase=phase, done=done, total=total, message=message, result=result)
        with self.transaction():
            self.db.conn.execute(*records.job_update("?", job_id, now, fields))

    def import_job(self, job_id: int) -> ImportJob | None:
        rows = list(self._rows("select * from import_jobs where id = ?", [job_id]))
        return records.import_job(rows[0]) if rows else None
