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
from statistics import median
from typing import Any

import psycopg

from badging.core.clock import CLOCK_ENV
from badging.core.run import extract_window
from bench.harness import Bench, chicago_midnight, load_1m
from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port

DAG_ID = airflow_local.DAG_ID
POOL = "credly_api"
RUN_TIMEOUT_S = 900.0
# A day no bench seed touches (years before the program's launch).
WARM_UP_DAY = date(2019, 1, 7)


@contextlib.contextmanager
def scheduler(bench: Bench, night_of: date | None = None) -> Iterator[AirflowApi]:
    """`make airflow`'s components on the bench stack, the DAG parsed and unpaused; the
    scheduler does not create the nightly run (only what the bench triggers runs).

    `night_of`: the pipeline's clock is the night after this day, so a run of it is the
    night's run (the incremental check), not a manual run of a past day (a full check).
    """
    from tests.fixtures.nights import night_after

    site = AirflowSite(bench.stack, free_port())
    clock = {} if night_of is None else {CLOCK_ENV: night_after(night_of).isoformat()}
    services = AirflowServices(site, env=site.env(use_job_schedule=False) | clock)
    with interrupted_by(signal.SIGTERM), services:
        api = AirflowApi(site)
        api.wait_for_dag(DAG_ID)
        api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
        _warm_up(api)
        yield api


def _warm_up(api: AirflowApi) -> None:
    """A day without rows, run and forgotten: measures start from a deployment that has run
    a task before, as production's has (the API server's first Execution API request took
    4.3 s here, on the critical path of whatever runs first)."""
    backfill = api.post("/backfills", {
        "dag_id": DAG_ID, "from_date": chicago_midnight(WARM_UP_DAY).isoformat(),
        "to_date": chicago_midnight(WARM_UP_DAY).isoformat(), "run_backwards": False,
        "dag_run_conf": {"accept_volume": True}, "reprocess_behavior": "none",
        "max_active_runs": 1})
    api.wait_for_backfill(backfill["id"], RUN_TIMEOUT_S)
    for run in api.get_all(f"/dags/{DAG_ID}/dagRuns", "dag_runs"):
        api.request("DELETE", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}")


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
    """One day of many badges, triggered as an operator would; against N·L/(slots × C).

    As a night in production: the night before checked every badge (in this process), and
    the day's entries are new since that check (touched), so tonight's check reads their
    students only. The scheduler's clock must be the night after `day` (scheduler()).
    """
    from bench.night_cost import nightly_check

    bench.reset_runs()
    bench.sandbox_fresh(latency_ms)
    start, end = extract_window(day, lookback)
    with psycopg.connect(bench.stack.dsn("ctims"), autocommit=True) as conn:
        # The seed made every student record just now; in CTIMS they are years old.
        conn.execute("UPDATE ctims.students SET updated_at = %s", (start,))
    nightly_check(bench, day - timedelta(days=1), bench.earner_id_secret)
    with psycopg.connect(bench.stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.realtime_certifications"
                     " SET updated_at = updated_at + interval '1 microsecond'"
                     " WHERE updated_at >= %s AND updated_at < %s - interval '1 second'",
                     (start, end))
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
            "load_1m": [round(load_at_start, 2), round(load_1m(), 2)],
            "where_a_day_goes": where_a_day_goes(api, runs)}


def where_a_day_goes(api: AirflowApi, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs: each task that ran a process, from queued to started (the
    executor's pick-up and the process start before Airflow records it) and from started to
    ended; of a run, its start to end, the time no task of it was queued or running (the
    scheduler's hops between tasks), and its queue before it started (max_active_runs).
    And one run's timeline, in seconds from its start."""
    waits: dict[str, list[float]] = {}
    durations: dict[str, list[float]] = {}
    idle: list[float] = []
    timeline: list[tuple[str, float, float, float]] = []
    for run in runs:
        began, ended = (datetime.fromisoformat(run[k]) for k in ("start_date", "end_date"))
        tis = sorted(({"task_id": ti["task_id"],
                       **{k: datetime.fromisoformat(ti[k])
                          for k in ("queued_when", "start_date", "end_date")}}
                      for ti in api.get_all(
                          f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances",
                          "task_instances")
                      if ti.get("start_date") and ti.get("end_date") and ti.get("queued_when")),
                     key=lambda ti: ti["queued_when"])
        for ti in tis:
            waits.setdefault(ti["task_id"], []).append(
                (ti["start_date"] - ti["queued_when"]).total_seconds())
            durations.setdefault(ti["task_id"], []).append(
                (ti["end_date"] - ti["start_date"]).total_seconds())
        gaps, reach = 0.0, began
        for ti in [*tis, {"queued_when": ended, "end_date": ended}]:
            if ti["queued_when"] > reach:
                gaps += (ti["queued_when"] - reach).total_seconds()
            reach = max(reach, ti["end_date"])
        idle.append(gaps)
        timeline = [(ti["task_id"], *(round((ti[k] - began).total_seconds(), 2)
                                      for k in ("queued_when", "start_date", "end_date")))
                    for ti in tis] + [("(run end)", *[round((ended - began).total_seconds(),
                                                            2)] * 3)]
    return {"tasks": {task: {"queued_to_start": round(median(waits[task]), 2),
                             "start_to_end": round(median(durations[task]), 2)}
                      for task in waits},
            "run_seconds": round(median(_seconds(r["start_date"], r["end_date"])
                                        for r in runs), 2),
            "run_idle_between_tasks": round(median(idle), 2),
            "run_queued": round(median(_seconds(r["queued_at"], r["start_date"])
                                       for r in runs), 2),
            "last_run_timeline": timeline}
