"""The bench's own local stack and the helpers that seed it, pick windows and time stages."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from badging.core.run import AGENCY_TZ, extract_window
from devstack import airflow_local
from devstack.ports import free_port
from devstack.seed import SeedParams
from devstack.stack import REPO, RUN_TABLES, Stack, StackPaths

# Run as modules from the repo root, like the bench itself (`python -m bench.run_bench`).
WORKER = "bench.stage_worker"
DAG_TEST = "bench.dag_test_day"



def load_1m() -> float:
    return os.getloadavg()[0]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def note(message: str) -> None:
    """Progress on stderr; stdout carries only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_1m():.2f}] {message}",
          file=sys.stderr, flush=True)


def new_run_id(label: str) -> str:
    return f"bench__{label}__{uuid.uuid4().hex[:8]}"


@dataclass
class Bench:
    """A private stack (own Postgres and sandbox on free ports) and where its logs go."""

    stack: Stack
    logs: Path

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @property
    def earner_id_secret(self) -> str:
        """The stack's Credly connection's earner id secret (it keys the ledger's digests)."""
        return json.loads(self.stack.paths.secrets_file.read_text())["earner_id_secret"]

    # --- data -----------------------------------------------------------------------------

    def seed(self, params: SeedParams) -> None:
        self.stack.seed(params)
        with psycopg.connect(self.stack.dsn("ctims"), autocommit=True) as conn:
            # A replica that has been serving for a while has statistics; a fresh load does not.
            conn.execute("ANALYZE")

    def reset_runs(self) -> None:
        """Empty staging, ledger and audit: every measured run starts from the same state."""
        with psycopg.connect(self.stack.dsn("badging"), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(RUN_TABLES)}")
            conn.execute("VACUUM ANALYZE badging.staged_certification")

    def window_ending(self, rows: int, end: datetime) -> datetime:
        """The start of the window [start, end) holding `rows` Real-Time rows (ties aside)."""
        with psycopg.connect(self.stack.dsn("ctims")) as conn:
            found = conn.execute(
                "SELECT updated_at FROM ctims.realtime_certifications WHERE updated_at < %s "
                "ORDER BY updated_at DESC OFFSET %s LIMIT 1", (end, rows - 1)).fetchone()
        if found is None:
            raise SystemExit(f"the seed holds fewer than {rows} rows before {end}")
        return found[0]

    def lookback_for_badges(self, day: date, badges: int) -> int:
        """The fewest lookback days whose window holds `badges` distinct eligible keys."""
        with psycopg.connect(self.stack.dsn("ctims")) as conn:
            for lookback in range(61):
                start, end = extract_window(day, lookback)
                keys = conn.execute("""
                    SELECT count(DISTINCT (c.student_id, upper(btrim(c.assessment_code))))
                    FROM ctims.realtime_certifications c
                    JOIN devstack.seed_truth t USING (certification_id)
                    WHERE c.updated_at >= %s AND c.updated_at < %s
                      AND t.expected IN ('eligible', 'duplicate')
                """, (start, end)).fetchone()[0]
                if keys >= badges:
                    return lookback
        raise SystemExit(f"no window of at most 60 days before {day} holds {badges} badges")

    def ledger_states(self) -> dict[str, int]:
        with psycopg.connect(self.stack.dsn("badging")) as conn:
            return dict(conn.execute(
                "SELECT state, count(*) FROM badging.issuance GROUP BY state").fetchall())

    # --- the sandbox ----------------------------------------------------------------------

    def sandbox_fresh(self, latency_ms: float) -> None:
        """No badges, no faults but the given latency."""
        self.stack.sandbox.reset()
        self.stack.sandbox.set_faults(latency_ms=latency_ms)

    # --- stages in their own processes -----------------------------------------------------

    @staticmethod
    def stage_spec(stage: str, run_id: str, day: date, window: tuple[datetime, datetime],
                   batches: list[dict[str, int]] | None = None,
                   **params: Any) -> dict[str, Any]:
        """What bench/stage_worker.py runs: a stage of one run, with the DAG's `params`."""
        return {"stage": stage, "run_id": run_id, "day": day.isoformat(),
                "window_start": window[0].isoformat(), "window_end": window[1].isoformat(),
                "batches": batches or [], "params": params}

    def run_stage(self, spec: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Run one stage in a fresh interpreter; returns seconds, peak_rss_mb and its result,
        or None when it ran past `timeout` seconds (it is stopped, its query cancelled)."""
        log = self.log_file(f"{spec['run_id']}-{spec['stage']}")
        with log.open("w") as err:
            worker = subprocess.Popen([sys.executable, "-m", WORKER, json.dumps(spec)],
                                      stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO,
                                      env=os.environ | self.stack.airflow_env())
            try:
                out, _ = worker.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
                self._cancel_pipeline_queries()
                return None
        if worker.returncode != 0:
            raise SystemExit(f"stage {spec['stage']} failed; see {log}:\n"
                             + log.read_text()[-3000:])
        return json.loads(out.strip().splitlines()[-1])

    def _cancel_pipeline_queries(self) -> None:
        # A killed client leaves its statement running in this (our own) cluster.
        with psycopg.connect(self.stack.dsn("badging"), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name LIKE 'credly_badging%%' "
                         "AND pid <> pg_backend_pid()")

    # --- Airflow --------------------------------------------------------------------------

    def prepare_airflow(self) -> None:
        airflow_local.prepare(self.stack, quiet=True)

    def run_day(self, day: date, log_name: str, **params: Any) -> float:
        """`airflow dags test` for one day; returns its wall seconds (fails loudly if red)."""
        conf = json.dumps({"date": day.isoformat(), **params})
        log = self.log_file(log_name)
        started = time.perf_counter()
        with log.open("w") as out:
            code = airflow_local.run_day(self.stack, day.isoformat(), conf, stdout=out,
                                         stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - started
        if code != 0 or "state=success" not in log.read_text():
            raise SystemExit(f"the DAG run for {day} did not succeed; see {log}")
        return seconds

    def dag_test(self, day: date, log_name: str, **params: Any) -> dict[str, float]:
        """`dag.test()` of one day in a fresh process: the seconds inside the call and the
        whole process's (fails loudly if the run is not green)."""
        env = os.environ | self.stack.airflow_env()
        log = self.log_file(log_name)
        started = time.perf_counter()
        with log.open("w") as err:
            done = subprocess.run([sys.executable, "-m", DAG_TEST, day.isoformat(),
                                   json.dumps(params)], env=env, stdout=subprocess.PIPE,
                                  stderr=err, text=True, cwd=REPO)
        process_seconds = time.perf_counter() - started
        lines = done.stdout.strip().splitlines()
        result = json.loads(lines[-1]) if done.returncode == 0 and lines else {}
        if result.get("state") != "success":
            raise SystemExit(f"dag.test() of {day} did not succeed; see {log}")
        return {"dag_test_seconds": result["dag_test_seconds"],
                "process_seconds": process_seconds}

    def task_times(self) -> list[tuple[str, int, datetime, datetime]]:
        """(task_id, map_index, start, end) of the latest DAG run's task instances."""
        with psycopg.connect(self.stack.dsn("airflow")) as conn:
            return conn.execute("""
                SELECT task_id, map_index, start_date, end_date FROM task_instance
                WHERE dag_id = %(dag)s AND run_id = (
                    SELECT run_id FROM dag_run WHERE dag_id = %(dag)s ORDER BY id DESC LIMIT 1)
                  AND start_date IS NOT NULL
                ORDER BY start_date
            """, {"dag": airflow_local.DAG_ID}).fetchall()


@contextlib.contextmanager
def bench_stack(keep: bool = False) -> Iterator[Bench]:
    """Start a stack of its own under a temp dir on free ports; destroy it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="credly-bench-"))
    # SIGTERM (a stopped `make`) must still run the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logs = root / "logs"
    logs.mkdir(parents=True)
    stack = Stack(paths=StackPaths(root / "stack"), pg_port=free_port(),
                  sandbox_port=free_port(), smtp_port=free_port())
    try:
        stack.up()
        yield Bench(stack, logs)
    finally:
        stack.down()
        if not keep:
            stack.postgres.destroy()
            shutil.rmtree(root, ignore_errors=True)


def chicago_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), AGENCY_TZ)


def next_day(day: date) -> date:
    return day + timedelta(days=1)
