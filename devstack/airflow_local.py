"""Run the real DAG through Airflow against the local stack (`make run`, `make airflow`, e2e)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devstack.stack import REPO, Stack

DAG_ID = "credly_badge_issuance"
CONFIG = REPO / "config"
# What the DAG needs from Airflow, declared once: pools and variables are imported from
# these files; connections are checked against their declaration (values come from
# devstack locally and from a secrets backend in production, never from the repo).
POOLS_FILE = CONFIG / "pools.json"
VARIABLES_FILE = CONFIG / "variables.json"
CONNECTIONS_FILE = CONFIG / "connections.json"
_URI_TYPES = {"postgresql": "postgres", "postgres": "postgres", "http": "http", "https": "http",
              "credly": "credly"}


def airflow_cli(stack: Stack, *args: str, env: dict[str, str] | None = None,
                check: bool = True, **popen: Any) -> int:
    """Run `airflow ARGS` from this venv against the stack; returns its exit code."""
    full_env = os.environ | (env if env is not None else stack.airflow_env())
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(airflow), *args], env=full_env, check=check, **popen).returncode


def prepare(stack: Stack, *, quiet: bool = False) -> None:
    """Migrate Airflow's metadata database and declare pools and variables (idempotent)."""
    output = {"stdout": subprocess.DEVNULL} if quiet else {}
    airflow_cli(stack, "db", "migrate", **output)
    airflow_cli(stack, "pools", "import", str(POOLS_FILE), **output)
    if json.loads(VARIABLES_FILE.read_text()):
        airflow_cli(stack, "variables", "import", "--action-on-existing-key", "overwrite",
                    str(VARIABLES_FILE), **output)


def _connection_shape(value: str) -> tuple[str, set[str], set[str]]:
    """conn_type, the fields set and the extra keys of an AIRFLOW_CONN_* value."""
    if value.lstrip().startswith("{"):
        conn = json.loads(value)
        fields = {k for k, v in conn.items() if v and k not in ("conn_type", "extra")}
        extra = conn.get("extra") or {}
        return conn.get("conn_type", ""), fields, set(extra if isinstance(extra, dict) else {})
    parts = urlsplit(value)
    fields = {name for name, v in (("host", parts.hostname), ("password", parts.password)) if v}
    return _URI_TYPES.get(parts.scheme, parts.scheme), fields, set()


def connection_problems(env: dict[str, str]) -> list[str]:
    """What the environment lacks of the connections config/connections.json declares."""
    problems = []
    for conn_id, want in json.loads(CONNECTIONS_FILE.read_text()).items():
        value = env.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if not value:
            problems.append(f"connection {conn_id!r} is not set")
            continue
        conn_type, fields, extra = _connection_shape(value)
        # A legacy type still works (existing http Credly connections), so it is no problem.
        if conn_type not in (want["conn_type"], *want.get("legacy_conn_types", ())):
            problems.append(f"connection {conn_id!r} is {conn_type!r}, not {want['conn_type']!r}")
        for missing in sorted(set(want.get("required_fields", [])) - fields):
            problems.append(f"connection {conn_id!r} has no {missing}")
        for missing in sorted(set(want.get("required_extra", [])) - extra):
            problems.append(f"connection {conn_id!r} has no extra.{missing}")
    return problems


def run_day(stack: Stack, day: str, conf: str | None = None, **popen: Any) -> int:
    """`airflow dags test` for one day; returns Airflow's exit code.

    The day is also passed as the `date` param unless `conf` sets it: the logical date
    given to `dags test` is a UTC midnight, whose inferred data interval is not that day
    in Chicago.
    """
    args = ["dags", "test", DAG_ID, day, "--conf", conf or f'{{"date": "{day}"}}']
    return airflow_cli(stack, *args, check=False, **popen)


def serve(stack: Stack, port: int, say: Callable[[str], None] = print) -> int:
    """`make airflow`: a real Airflow on the stack until Ctrl-C (or SIGTERM), then stop it.

    Returns 0 after a clean stop, 1 when a component died on its own.
    """
    from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"devstack: port {port} is taken; AIRFLOW_PORT=<free port> "
                             "make airflow")
    site = AirflowSite(stack, port)
    env = site.env()
    problems = connection_problems(env)
    if problems:
        raise SystemExit("devstack: " + "; ".join(problems))
    prepare(stack, quiet=True)
    services = AirflowServices(site, env=env)
    say(f"devstack: starting {', '.join(services.components)} (logs in {site.log_dir})")
    exit_code = 0
    # SIGTERM and SIGHUP (terminal closed) stop as cleanly as Ctrl-C does; SIGINT is set
    # too because a shell starts background jobs with it ignored.
    with interrupted_by(signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            services.start()
            username, password = site.login
            say(f"\nAirflow UI: {site.url}   login: {username} / {password}")
            say(f"(password kept in {site.passwords_file}; Ctrl-C stops Airflow, "
                "`make down` stops the stack)\n")
            while not (dead := services.exited()):
                time.sleep(2)
            say(f"devstack: airflow {', '.join(dead)} exited on its own; see {site.log_dir}")
            exit_code = 1
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C must not cut the stop short and leave processes behind.
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)
            say("devstack: stopping Airflow …")
            killed = services.stop()
            say("devstack: Airflow stopped" + (f" ({len(killed)} processes needed SIGKILL)"
                                               if killed else ""))
    return exit_code
