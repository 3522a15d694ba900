"""A real Airflow (API server, scheduler, DAG processor, triggerer) running on a local stack."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devstack.stack import Stack

# Stopped in this order: the scheduler first, so nothing new starts while the rest goes down.
COMPONENTS = ("scheduler", "triggerer", "dag-processor", "api-server")
ADMIN = "admin"
READY_TIMEOUT_S = 240.0


def _load_or_make_secrets(path: Path) -> dict[str, str]:
    """JWT secret, API secret key and the UI password: made on first use, kept 0600, never
    committed. Every component must see the same JWT secret or tasks cannot reach the API."""
    if path.exists():
        return json.loads(path.read_text())
    made = {"jwt_secret": secrets.token_urlsafe(32), "api_secret_key": secrets.token_urlsafe(32),
            "admin_password": secrets.token_urlsafe(12)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(made, indent=2))
    path.chmod(0o600)
    return made


@dataclass(frozen=True)
class AirflowSite:
    """Where one local Airflow listens and how to log in to it."""

    stack: Stack
    port: int

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def _secrets_file(self) -> Path:
        return self.stack.paths.root / "airflow_secrets.json"

    @property
    def passwords_file(self) -> Path:
        return self.stack.paths.root / "airflow_passwords.json"

    @property
    def log_dir(self) -> Path:
        return self.stack.paths.airflow_home / "logs" / "services"

    @property
    def login(self) -> tuple[str, str]:
        return ADMIN, _load_or_make_secrets(self._secrets_file)["admin_password"]

    def env(self, *, use_job_schedule: bool = True) -> dict[str, str]:
        """The stack's Airflow environment plus what the separate components need to agree on.

        `use_job_schedule=False` keeps the scheduler from creating the nightly run on its
        own (tests): backfills and manual runs still run.
        """
        made = _load_or_make_secrets(self._secrets_file)
        # SimpleAuthManager only generates (and prints) a password for users missing from
        # this file; writing it first keeps the password ours and out of the logs.
        self.passwords_file.write_text(json.dumps({ADMIN: made["admin_password"]}))
        self.passwords_file.chmod(0o600)
        return self.stack.airflow_env() | {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two shared cores locally: a few task processes at once is plenty.
            "AIRFLOW__CORE__PARALLELISM": "8",
            # Tasks reach the Execution API here; it must follow the API server's port.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__SECRET_KEY": made["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": made["jwt_secret"],
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple."
                                           "simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(use_job_schedule),
        }


@contextlib.contextmanager
def interrupted_by(*signums: int) -> Iterator[None]:
    """Inside, these signals raise KeyboardInterrupt, so `finally` blocks and fixture
    teardowns still stop what was started (a SIGTERM would otherwise end Python at once)."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _session_members(session_ids: Iterable[int]) -> list[int]:
    """Pids whose session is one of ours. Task processes move to process groups of their
    own (the task supervisor calls setpgid), but they stay in the session of the component
    that started them, so the session finds them all and nothing else."""
    wanted = set(session_ids)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command name (which may hold spaces): state ppid pgrp session.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) in wanted:
                found.append(int(stat.parent.name))
    return found


class AirflowServices:
    """The Airflow components as child processes, each leading a session of its own."""

    def __init__(self, site: AirflowSite, *, components: Iterable[str] = COMPONENTS,
                 env: dict[str, str] | None = None) -> None:
        self.site = site
        self.components = [c for c in COMPONENTS if c in set(components)]
        self._env = os.environ | (env if env is not None else site.env())
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def log_file(self, component: str) -> Path:
        return self.site.log_dir / f"{component}.log"

    def start(self, ready_timeout: float = READY_TIMEOUT_S) -> None:
        """Start every component, then wait until the API answers and each reports healthy."""
        airflow = str(Path(sys.executable).with_name("airflow"))
        self.site.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.components:
            args = [airflow, name]
            if name == "api-server":
                # One worker: the UI and the Execution API for a handful of tasks need no more.
                args += ["--host", "127.0.0.1", "--port", str(self.site.port), "--workers", "1"]
            with self.log_file(name).open("ab") as log:
                self._children[name] = subprocess.Popen(
                    args, env=self._env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own session: Ctrl-C reaches only us, and stop() finds its children.
                    start_new_session=True)
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        want = {"scheduler": "scheduler", "triggerer": "triggerer",
                "dag-processor": "dag_processor"}
        pending: list[str] = list(self.components)
        while time.monotonic() < deadline:
            for name in self.exited():
                raise RuntimeError(f"airflow {name} exited during start; see "
                                   f"{self.log_file(name)}")
            health = self.health()
            if health is not None:
                pending = [c for c in self.components if c in want
                           and (health.get(want[c]) or {}).get("status") != "healthy"]
                if not pending:
                    return
            time.sleep(1)
        raise TimeoutError(f"airflow not ready after {timeout:.0f}s (waiting for "
                           f"{', '.join(pending)}); logs in {self.site.log_dir}")

    def health(self) -> dict[str, Any] | None:
        """/api/v2/monitor/health, or None while the API server does not answer."""
        try:
            response = _session().get(f"{self.site.url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException:
            return None
        return response.json() if response.ok else None

    def stop(self, timeout: float = 30.0) -> list[int]:
        """SIGTERM each component's process group, give them `timeout` seconds in all, then
        SIGKILL whatever is left in their sessions. Returns the pids that needed SIGKILL."""
        for name in self.components:
            child = self._children.get(name)
            if child is not None and child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self._children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(max(0.1, deadline - time.monotonic()))
        killed = self.leftovers()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for child in self._children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(5)
        return killed

    def exited(self) -> list[str]:
        """Components that are no longer running."""
        return [name for name, child in self._children.items() if child.poll() is not None]

    def leftovers(self) -> list[int]:
        """Processes still alive in the sessions of the components we started."""
        return _session_members(child.pid for child in self._children.values())

    def __enter__(self) -> AirflowServices:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _session() -> requests.Session:
    session = requests.Session()
    # Loopback only: a proxy from the environment must never see these calls or the token.
    session.trust_env = False
    return session


class AirflowApi:
    """A small client for the public REST API (/api/v2), logged in as the local admin."""

    def __init__(self, site: AirflowSite) -> None:
        self.base = f"{site.url}/api/v2"
        self._http = _session()
        username, password = site.login
        response = self._http.post(f"{site.url}/auth/token", timeout=30,
                                    json={"username": username, "password": password})
        response.raise_for_status()
        self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.base}{path}", timeout=60, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, json=body)

    def get_all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged collection (the API caps a page at 100)."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, limit=100, offset=len(items), **params)
            items += page[key]
            if not page[key] or len(items) >= page["total_entries"]:
                return items

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """The DAG once the DAG processor has parsed and serialized it."""
        deadline = time.monotonic() + timeout
        while True:
            response = self._http.get(f"{self.base}/dags/{dag_id}", timeout=30)
            if response.ok:
                return response.json()
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG {dag_id} not parsed after {timeout:.0f}s")
            time.sleep(2)

    def wait_for_backfill(self, backfill_id: int, timeout: float) -> dict[str, Any]:
        """The backfill once the scheduler has marked it completed (all its runs finished)."""
        deadline = time.monotonic() + timeout
        while not (backfill := self.get(f"/backfills/{backfill_id}"))["completed_at"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"backfill {backfill_id} not complete after {timeout:.0f}s")
            time.sleep(5)
        return backfill
