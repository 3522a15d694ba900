"""Run the real DAG through Airflow against the local stack (`make run`, e2e tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack.stack import REPO, Stack

DAG_ID = "credly_badge_issuance"
POOLS_FILE = REPO / "config" / "pools.json"


def _airflow(stack: Stack, *args: str, check: bool = True, **popen: Any) -> int:
    env = os.environ | stack.airflow_env()
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(airflow), *args], env=env, check=check, **popen).returncode


def prepare(stack: Stack, *, quiet: bool = False) -> None:
    """Migrate Airflow's metadata database and declare the pools (both idempotent)."""
    output = {"stdout": subprocess.DEVNULL} if quiet else {}
    _airflow(stack, "db", "migrate", **output)
    _airflow(stack, "pools", "import", str(POOLS_FILE), **output)


def run_day(stack: Stack, day: str, conf: str | None = None, **popen: Any) -> int:
    """`airflow dags test` for one day; returns Airflow's exit code.

    The day is also passed as the `date` param unless `conf` sets it: the logical date
    given to `dags test` is a UTC midnight, whose inferred data interval is not that day
    in Chicago.
    """
    args = ["dags", "test", DAG_ID, day, "--conf", conf or f'{{"date": "{day}"}}']
    return _airflow(stack, *args, check=False, **popen)
