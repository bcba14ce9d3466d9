"""A throwaway PostgreSQL server with PostGIS on loopback, for the tests and the benchmarks.

Debian's server binaries (`make test` installs `postgresql` and `postgresql-15-postgis-3`),
a data folder of its own under the system's temporary folder, a free port on 127.0.0.1, no
Unix socket, trust authentication on loopback only: nothing of the machine's own clusters is
touched, and `stop()` removes it all. PostgreSQL refuses to run as root, so as root the server
runs as the `postgres` user the Debian package creates.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, *, settings: dict[str, str] | None = None):
        missing = [b for b in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / b).exists()]
        if missing:
            raise RuntimeError(
                f"{PG_BIN} lacks {', '.join(missing)}: `make test` installs Debian's postgresql"
            )
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="yizhan-pg-"))
        self.data = self.folder / "data"
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",  # a throwaway server: durability buys nothing here
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            **(settings or {}),
        }
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{args[0]} failed: {result.stderr or result.stdout}")

    def start(self) -> "PostgresServer":
        self._run(
            str(PG_BIN / "initdb"),
            "-D", str(self.data),
            "-U", "postgres",
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        self._start()
        return self

    def _start(self) -> None:
        options = " ".join(
            f"-c {k}={v!r}" if v == "" else f"-c {k}={v}" for k, v in self.settings.items()
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D", str(self.data),
            "-l", str(self.folder / "server.log"),
            "-o", options,
            "-w",  # pg_ctl itself waits until the server accepts connections
            "-t", "60",
            "start",
        )  # fmt: skip

    def replica(self) -> "PostgresServer":
        """A hot-standby streaming replica of this server (pg_basebackup -R), started on a
        port of its own: what DATABASE_READ_URL points at in a national deployment."""
        standby = PostgresServer(settings={"hot_standby": "on"})
        self._run(
            str(PG_BIN / "pg_basebackup"),
            "-h", "127.0.0.1",
            "-p", str(self.port),
            "-U", "postgres",
            "-D", str(standby.data),
            "-R",  # standby.signal + primary_conninfo: it follows this server
            "-X", "stream",
        )  # fmt: skip
        standby._start()
        return standby

    @property
    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def url(self, database: str = "postgres") -> str:
        return f"{self.base_url}/{database}"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                [
                    *self._as,
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
