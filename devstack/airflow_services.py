"""A real Airflow (API server, scheduler, DAG processor, triggerer, Celery workers) on a local
stack."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devstack.airflow_api import loopback_session
from devstack.stack import REPO, Stack

LOCAL_EXECUTOR = "LocalExecutor"
PRELOADING_LOCAL_EXECUTOR = "badging.airflow.preload.PreloadingLocalExecutor"
SCHEDULER_IDLE_SLEEP_S = "0.25"
CELERY_EXECUTOR = "CeleryExecutor"
COMPONENTS = ("scheduler", "triggerer", "dag-processor", "api-server")
CELERY_WORKER = "celery-worker"
# Started and signalled to stop in this order: the scheduler first, so nothing new starts
# while the rest goes down; the API server once the others have exited (see stop()).
STOP_ORDER = ("scheduler", CELERY_WORKER, "triggerer", "dag-processor", "api-server")
# Names the worker a task process runs under; see worker_hostname().
WORKER_NAME_ENV = "DEVSTACK_CELERY_WORKER"
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


def worker_hostname() -> str:
    """`[core] hostname_callable` of the local Celery workers: the worker's name, so that a task
    instance's `hostname` says which worker ran it (on one machine, the FQDN would not)."""
    return os.environ[WORKER_NAME_ENV]


@dataclass(frozen=True)
class AirflowSite:
    """Where one local Airflow listens, how to log in to it and how it runs tasks.

    `executor`: LocalExecutor (the default) runs tasks as children of the scheduler;
    CeleryExecutor sends them through the Redis at `broker_url` to `airflow celery worker`s.
    """

    stack: Stack
    port: int
    executor: str = LOCAL_EXECUTOR
    broker_url: str | None = None

    def __post_init__(self) -> None:
        if self.executor not in (LOCAL_EXECUTOR, CELERY_EXECUTOR):
            raise ValueError(f"unsupported executor {self.executor!r}")
        if (self.executor == CELERY_EXECUTOR) != (self.broker_url is not None):
            raise ValueError("a broker_url goes with CeleryExecutor, and only with it")

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
        base = self.stack.airflow_env()
        return base | self._executor_env(base["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]) | {
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
            # A task's successor starts on the scheduler's next loop, and an idle scheduler
            # sleeps this long first: 1 s by default, ten hops a run (docs/production.md).
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": SCHEDULER_IDLE_SLEEP_S,
        }

    def _executor_env(self, metadata_db: str) -> dict[str, str]:
        # LocalExecutor's workers import what the tasks import once (badging.airflow.preload).
        env = {"AIRFLOW__CORE__EXECUTOR": PRELOADING_LOCAL_EXECUTOR
               if self.executor == LOCAL_EXECUTOR else self.executor}
        if self.executor == CELERY_EXECUTOR:
            env |= {
                "AIRFLOW__CELERY__BROKER_URL": str(self.broker_url),
                # Task states in the metadata database (Celery makes its tables there).
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_db}",
            }
        return env


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
    that started them, so the session finds them all and nothing else. Zombies do not count:
    they have exited (a killed worker's orphans wait a moment for init to reap them)."""
    wanted = set(session_ids)
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Fields after the command name (which may hold spaces): state ppid pgrp session.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) in wanted and fields[0] not in ("Z", "X"):
                found.append(int(stat.parent.name))
    return found


def _kind(component: str) -> str:
    """CELERY_WORKER for the components celery-worker-1, -2, …; any other is its own kind."""
    return CELERY_WORKER if component.startswith(f"{CELERY_WORKER}-") else component


class AirflowServices:
    """The Airflow components as child processes, each leading a session of its own.

    `celery_workers` (CeleryExecutor sites only) adds that many `airflow celery worker`s,
    components celery-worker-1 … N, each running up to `worker_concurrency` tasks.
    """

    def __init__(self, site: AirflowSite, *, components: Iterable[str] = COMPONENTS,
                 env: dict[str, str] | None = None, celery_workers: int = 0,
                 worker_concurrency: int = 2) -> None:
        if celery_workers and site.executor != CELERY_EXECUTOR:
            raise ValueError(f"Celery workers need a CeleryExecutor site, not {site.executor}")
        self.site = site
        workers = [f"{CELERY_WORKER}-{n}" for n in range(1, celery_workers + 1)]
        self.components = sorted([c for c in COMPONENTS if c in set(components)] + workers,
                                 key=lambda c: (STOP_ORDER.index(_kind(c)), c))
        self.worker_concurrency = worker_concurrency
        self._env = os.environ | (env if env is not None else site.env())
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._celery_app: Any = None

    @property
    def workers(self) -> list[str]:
        return [c for c in self.components if _kind(c) == CELERY_WORKER]

    def log_file(self, component: str) -> Path:
        return self.site.log_dir / f"{component}.log"

    def start(self, ready_timeout: float = READY_TIMEOUT_S) -> None:
        """Start every component, then wait until the API answers and each reports healthy."""
        airflow = str(Path(sys.executable).with_name("airflow"))
        self.site.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.components:
            with self.log_file(name).open("ab") as log:
                self._children[name] = subprocess.Popen(
                    [airflow, *self._args(name)], env=self._component_env(name),
                    stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own session: Ctrl-C reaches only us, and stop() finds its children.
                    start_new_session=True)
        self._wait_ready(ready_timeout)

    def _args(self, name: str) -> list[str]:
        if name == "api-server":
            # One worker: the UI and the Execution API for a handful of tasks need no more.
            return [name, "--host", "127.0.0.1", "--port", str(self.site.port), "--workers", "1"]
        if _kind(name) == CELERY_WORKER:
            # No log server: on one machine the API server reads task logs from the shared
            # log folder (and the workers would all want the same port).
            return ["celery", "worker", "--celery-hostname", self.worker_node(name),
                    "--concurrency", str(self.worker_concurrency), "--skip-serve-logs"]
        return [name]

    def _component_env(self, name: str) -> dict[str, str]:
        if _kind(name) != CELERY_WORKER:
            return self._env
        # Task processes are this worker's descendants: they inherit its name, and import
        # worker_hostname from this repository.
        path = os.pathsep.join(filter(None, [str(REPO), self._env.get("PYTHONPATH")]))
        return self._env | {
            WORKER_NAME_ENV: name, "PYTHONPATH": path,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "devstack.airflow_services.worker_hostname"}

    @staticmethod
    def worker_node(name: str) -> str:
        """The Celery node name of a worker component (what `celery inspect` shows)."""
        return f"{name}@{socket.gethostname()}"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending: list[str] = list(self.components)
        while time.monotonic() < deadline:
            for name in self.exited():
                # The log's end: test stacks live in temp dirs that are gone afterwards.
                tail = self.log_file(name).read_text(errors="replace").splitlines()[-40:]
                raise RuntimeError(f"airflow {name} exited during start; the end of "
                                   f"{self.log_file(name)}:\n" + "\n".join(tail))
            pending = self.not_ready()
            if not pending:
                return
            time.sleep(1)
        raise TimeoutError(f"airflow not ready after {timeout:.0f}s (waiting for "
                           f"{', '.join(pending)}); logs in {self.site.log_dir}")

    def not_ready(self) -> list[str]:
        """Components not healthy yet: all while the API server does not answer; else those
        /monitor/health does not call healthy and the Celery workers that miss a ping."""
        health = self.health()
        if health is None:
            return list(self.components)
        want = {"scheduler": "scheduler", "triggerer": "triggerer",
                "dag-processor": "dag_processor"}
        answering = self.workers_answering() if self.workers else set()
        return [c for c in self.components
                if (c in want and (health.get(want[c]) or {}).get("status") != "healthy")
                or (_kind(c) == CELERY_WORKER and c not in answering)]

    def health(self) -> dict[str, Any] | None:
        """/api/v2/monitor/health, or None while the API server does not answer."""
        try:
            response = loopback_session().get(f"{self.site.url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException:
            return None
        return response.json() if response.ok else None

    def workers_answering(self, timeout: float = 1.0) -> set[str]:
        """The Celery worker components that answer a ping through the broker, as
        `celery inspect ping` asks it."""
        if self._celery_app is None:
            from celery import Celery

            self._celery_app = Celery(broker=self._env["AIRFLOW__CELERY__BROKER_URL"])
        nodes = {self.worker_node(name): name for name in self.workers}
        replies = self._celery_app.control.ping(destination=list(nodes), timeout=timeout)
        return {nodes[node] for reply in replies for node in reply if node in nodes}

    def stop(self, timeout: float = 30.0) -> list[int]:
        """SIGTERM each component's process group, the API server last (a task ended by the
        signal still reports its state to it), give them `timeout` seconds in all, then
        SIGKILL whatever is left in their sessions. Returns the pids that needed SIGKILL."""
        deadline = time.monotonic() + timeout
        last = [name for name in self.components if name == "api-server"]
        for wave in ([name for name in self.components if name not in last], last):
            running = [self._children[name] for name in wave if name in self._children
                       and self._children[name].poll() is None]
            for child in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
            for child in running:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(max(0.1, deadline - time.monotonic()))
        killed = self.leftovers()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        for child in self._children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(max(0.1, deadline - time.monotonic()))
        while killed and self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._celery_app is not None:
            self._celery_app.close()
            self._celery_app = None
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
