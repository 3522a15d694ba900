"""Run the real DAG through Airflow against the local stack (`make run`, `make airflow`, e2e)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from badging.core.constants import DAG_ID, NOBODY_CAN_ANSWER
from devstack.errors import DevstackError
from devstack.ports import port_in_use
from devstack.stack import REPO, Stack

CONFIG = REPO / "config"
# What the DAG needs from Airflow, declared once: pools and variables are imported from
# these files; connections are checked against their declaration (values come from
# devstack locally and from a secrets backend in production, never from the repo).
POOLS_FILE = CONFIG / "pools.json"
VARIABLES_FILE = CONFIG / "variables.json"
CONNECTIONS_FILE = CONFIG / "connections.json"
_URI_TYPES = {"postgresql": "postgres", "postgres": "postgres", "http": "http", "https": "http",
              "credly": "credly"}


def airflow_process(stack: Stack, *args: str, env: dict[str, str] | None = None,
                    **popen: Any) -> subprocess.Popen:
    """Start `airflow ARGS` from this venv against the stack."""
    full_env = os.environ | (env if env is not None else stack.airflow_env())
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.Popen([str(airflow), *args], env=full_env, **popen)


def airflow_cli(stack: Stack, *args: str, env: dict[str, str] | None = None,
                check: bool = True, **popen: Any) -> int:
    """Run `airflow ARGS` from this venv against the stack; returns its exit code."""
    with airflow_process(stack, *args, env=env, **popen) as process:
        code = process.wait()
    if check and code != 0:
        raise subprocess.CalledProcessError(code, ["airflow", *args])
    return code


def _prepared_marker(stack: Stack) -> Path:
    return stack.paths.airflow_home / "devstack_prepared.json"


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def is_prepared(stack: Stack) -> bool:
    """Whether the metadata database is migrated by this Airflow and has the pools and
    variables of config/ (a few queries: what `devstack up` checks before doing anything)."""
    import psycopg

    marker = _prepared_marker(stack)
    recorded = json.loads(marker.read_text()) if marker.exists() else {}
    if recorded.get("airflow") != _airflow_version():
        return False
    pools = json.loads(POOLS_FILE.read_text())
    variables = json.loads(VARIABLES_FILE.read_text())
    with psycopg.connect(stack.dsn("airflow"), autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('alembic_version') IS NULL").fetchone()[0]:
            return False
        [revision] = conn.execute("SELECT version_num FROM alembic_version").fetchone() or [None]
        found_pools = dict(conn.execute("SELECT pool, slots FROM slot_pool WHERE pool = ANY(%s)",
                                        (list(pools),)).fetchall())
        found_variables = {key for (key,) in conn.execute(
            "SELECT key FROM variable WHERE key = ANY(%s)", (list(variables),))}
    return (revision == recorded.get("alembic")
            and found_pools == {name: pool["slots"] for name, pool in pools.items()}
            and found_variables == set(variables))


def prepare(stack: Stack, *, quiet: bool = False) -> None:
    """Migrate Airflow's metadata database and declare pools and variables (idempotent).

    `quiet` sends Airflow's output to a log file under the stack's AIRFLOW_HOME; a failure
    then names it.
    """
    import psycopg

    log_path = stack.paths.airflow_home / "prepare.log"
    stack.paths.airflow_home.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        output = {"stdout": log, "stderr": subprocess.STDOUT} if quiet else {}
        steps = [("db", "migrate"), ("pools", "import", str(POOLS_FILE))]
        if json.loads(VARIABLES_FILE.read_text()):
            steps.append(("variables", "import", "--action-on-existing-key", "overwrite",
                          str(VARIABLES_FILE)))
        for step in steps:
            if airflow_cli(stack, *step, check=False, **output) != 0:
                raise DevstackError(f"`airflow {' '.join(step[:2])}` failed"
                                    + (f"; see {log_path}" if quiet else ""))
    with psycopg.connect(stack.dsn("airflow"), autocommit=True) as conn:
        [revision] = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    _prepared_marker(stack).write_text(json.dumps({"airflow": _airflow_version(),
                                                   "alembic": revision}))


def ensure_prepared(stack: Stack) -> bool:
    """`prepare` unless it is done already; returns whether it had to run."""
    if is_prepared(stack):
        return False
    prepare(stack, quiet=True)
    return True


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


def _dags_test_args(day: str, conf: str | None) -> list[str]:
    """`airflow dags test` of the day: passed as the `date` param, not as a logical date.

    `dags test` starts its run at the logical date, so a past one records a run of months
    on the DAG page; and a UTC midnight's inferred interval is not that day in Chicago.
    Without one the run is a manual run of now that processes `date`, as the UI's Trigger
    form makes it.
    """
    return ["dags", "test", DAG_ID, "--conf", conf or json.dumps({"date": day})]


def run_day(stack: Stack, day: str, conf: str | None = None, **popen: Any) -> int:
    """`airflow dags test` for one day; returns Airflow's exit code. `conf` must set `date`."""
    return airflow_cli(stack, *_dags_test_args(day, conf), check=False, **popen)


_FINISHED_TASKS = """
    SELECT task_id, map_index, try_number, rendered_map_index, state,
           extract(epoch FROM end_date - start_date)
    FROM task_instance
    WHERE dag_id = %(dag_id)s AND end_date IS NOT NULL
      AND run_id = (SELECT run_id FROM dag_run WHERE dag_id = %(dag_id)s
                    AND run_after >= %(since)s ORDER BY id DESC LIMIT 1)
    ORDER BY end_date
"""


class GateWarnings:
    """Picks out of Airflow's output, as it grows, the warning of a gate nobody can answer
    (badging/gates/approval.py): its first line holds NOBODY_CAN_ANSWER, the rest are indented."""

    _LOCATION = re.compile(r"\s+\[[\w.]+\]\s+loc=\S+\s*$")
    _GATE = re.compile(r"\w+ gate: $")

    def __init__(self) -> None:
        self._tail = ""
        self._inside = False

    def feed(self, text: str) -> list[str]:
        """The warning's lines among the complete lines of `text` (after earlier feeds)."""
        *lines, self._tail = (self._tail + text).split("\n")
        found = []
        for line in lines:
            if NOBODY_CAN_ANSWER in line:
                self._inside = True
                # From the gate's name on ("volume gate: nobody can …"), without the
                # log record's time and level.
                start = line.index(NOBODY_CAN_ANSWER)
                gate = self._GATE.search(line, 0, start)
                line = line[gate.start() if gate else start:]
            elif not (self._inside and line.startswith("  ")):
                self._inside = False
                continue
            found.append(self._LOCATION.sub("", line))
        return found


def run_day_reporting(stack: Stack, day: str, conf: str | None, log_path: Path,
                      say: Callable[[str], None] = print,
                      env: dict[str, str] | None = None) -> int:
    """`run_day` for a person: Airflow's output goes to `log_path`, and one line per task
    as it finishes to `say`, with the warning of a gate nobody can answer. `env`: Airflow's
    environment (the stack's by default). Returns Airflow's exit code."""
    import psycopg

    log_path.parent.mkdir(parents=True, exist_ok=True)
    since = datetime.now(UTC)
    seen: set[tuple] = set()
    warnings = GateWarnings()
    with log_path.open("w") as log, log_path.open() as output, \
            psycopg.connect(stack.dsn("airflow"), autocommit=True) as conn:
        process = airflow_process(stack, *_dags_test_args(day, conf), env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        while True:
            exited = process.poll() is not None
            for task_id, map_index, tries, label, state, seconds in conn.execute(
                    _FINISHED_TASKS, {"dag_id": DAG_ID, "since": since}):
                if (task_id, map_index, tries, state) not in seen:
                    seen.add((task_id, map_index, tries, state))
                    name = f"{task_id} [{label or map_index}]" if map_index >= 0 else task_id
                    say(f"  {name:<44} {state:<16} {float(seconds or 0):6.1f} s")
            for line in warnings.feed(output.read()):
                say(f"  ! {line}")
            if exited:
                return process.returncode
            time.sleep(0.5)


def serve(stack: Stack, port: int, say: Callable[[str], None] = print) -> int:
    """`make airflow`: a real Airflow on the stack until Ctrl-C (or SIGTERM), then stop it.

    Returns 0 after a clean stop, 1 when a component died on its own.
    """
    from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by

    if port_in_use(port):
        raise DevstackError(f"port {port} is in use by another program; "
                            "AIRFLOW_PORT=<free port> make airflow")
    site = AirflowSite(stack, port)
    env = site.env()
    problems = connection_problems(env)
    if problems:
        raise DevstackError("; ".join(problems))
    ensure_prepared(stack)
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
