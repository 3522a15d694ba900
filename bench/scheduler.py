"""What operators wait for: a day and a backfill through the scheduler `make airflow` runs.

`airflow dags test` runs every task in one process; the scheduler starts a process per task,
schedules between them and bounds the issue batches by the `credly_api` pool. Both measures
here start the same components as `make airflow` (LocalExecutor) on the bench's stack,
trigger through the REST API, and read the times Airflow recorded: a run from `queued_at`
to `end_date`, a backfill from its first run's queue to its last run's end.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from bench.harness import Bench, chicago_midnight, load_1m
from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port

DAG_ID = airflow_local.DAG_ID
POOL = "credly_api"
RUN_TIMEOUT_S = 900.0


@contextlib.contextmanager
def scheduler(bench: Bench) -> Iterator[AirflowApi]:
    """`make airflow`'s components on the bench stack, the DAG parsed and unpaused; the
    scheduler does not create the nightly run (only what the bench triggers runs)."""
    site = AirflowSite(bench.stack, free_port())
    services = AirflowServices(site, env=site.env(use_job_schedule=False))
    with interrupted_by(signal.SIGTERM), services:
        api = AirflowApi(site)
        api.wait_for_dag(DAG_ID)
        api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
        yield api


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _task_seconds(api: AirflowApi, run_id: str) -> dict[str, float]:
    """Each task's summed duration in the run (mapped issue tasks added up)."""
    found: dict[str, float] = {}
    for ti in api.get_all(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", "task_instances"):
        if ti.get("duration") is not None:
            found[ti["task_id"]] = round(found.get(ti["task_id"], 0.0) + ti["duration"], 2)
    return found


def measure_day(bench: Bench, api: AirflowApi, day: date, *, lookback: int,
                latency_ms: float, concurrency: int) -> dict[str, Any]:
    """One day of many badges, triggered as an operator would; against N·L/(slots × C)."""
    bench.reset_runs()
    bench.sandbox_fresh(latency_ms)
    slots = api.get(f"/pools/{POOL}")["slots"]
    run = api.post(f"/dags/{DAG_ID}/dagRuns", {
        "logical_date": None,
        # accept_volume: nobody is there to answer the volume gate if the bench's day asked.
        "conf": {"date": day.isoformat(), "lookback_days": lookback,
                 "concurrency": concurrency, "accept_volume": True}})
    done = api.wait_for_run(DAG_ID, run["dag_run_id"], RUN_TIMEOUT_S)
    if done["state"] != "success":
        raise SystemExit(f"the scheduler's run of {day} ended {done['state']}")
    badges = bench.ledger_states().get("issued", 0)
    seconds = _seconds(done["queued_at"], done["end_date"])
    ideal = badges * latency_ms / 1000 / (slots * concurrency)
    tasks = _task_seconds(api, run["dag_run_id"])
    return {"badges": badges, "seconds": round(seconds, 2), "ideal_seconds": round(ideal, 2),
            "efficiency": round(ideal / seconds, 3), "slots": slots,
            "issue_tasks": len([t for t in api.get_all(
                f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances",
                "task_instances") if t["task_id"] == "issue"]),
            "task_seconds": tasks}


def measure_backfill(bench: Bench, api: AirflowApi, first: date, days: int, *,
                     latency_ms: float, max_active_runs: int = 4) -> dict[str, Any]:
    """A backfill of `days` ordinary days, as from the UI's backfill form."""
    bench.reset_runs()
    bench.sandbox_fresh(latency_ms)
    last = first + timedelta(days=days - 1)
    load_at_start = load_1m()
    # The timetable's run for a day starts at the next midnight: from_date..to_date name the
    # logical dates, each run processing its data interval (the day itself).
    backfill = api.post("/backfills", {
        "dag_id": DAG_ID, "from_date": chicago_midnight(first).isoformat(),
        "to_date": chicago_midnight(last).isoformat(), "run_backwards": False,
        "dag_run_conf": {}, "reprocess_behavior": "none",
        "max_active_runs": max_active_runs})
    api.wait_for_backfill(backfill["id"], RUN_TIMEOUT_S * 2)
    runs = [r for r in api.get_all(f"/dags/{DAG_ID}/dagRuns", "dag_runs")
            if r["run_type"] == "backfill"]
    if len(runs) != days:
        raise SystemExit(f"the backfill made {len(runs)} runs, not {days}")
    states = {r["state"] for r in runs}
    started = min(r["queued_at"] for r in runs)
    ended = max(r["end_date"] for r in runs)
    minutes = _seconds(started, ended) / 60
    return {"days": days, "from": first.isoformat(), "to": last.isoformat(),
            "max_active_runs": max_active_runs, "states": sorted(states),
            "seconds": round(minutes * 60, 1), "runs_per_min": round(days / minutes, 2),
            "badges": bench.ledger_states().get("issued", 0),
            "load_1m": [round(load_at_start, 2), round(load_1m(), 2)]}

