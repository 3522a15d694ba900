"""Backfills through the real scheduler, API server and DAG processor, as operators run them.

Airflow runs as separate components (LocalExecutor) against the session stack's Postgres;
backfills are created through the REST API (`POST /api/v2/backfills`), as the UI does.
Expectations come from the seed's ground truth (devstack.seed_truth).
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from badging.core.run import AGENCY_TZ, extract_window
from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import assert_sandbox_matches_ledger, ledger

DAG_ID = airflow_local.DAG_ID
DAYS = [date(2026, 5, 4) + timedelta(days=n) for n in range(7)]
LOOKBACK_DAYS = 3
# History from before the first day too, so the first runs' lookback finds late rows.
SEED = SeedParams(date_from=date(2026, 4, 29), date_to=date(2026, 5, 10), rows=600,
                  dirty_rate=0.05, seed=23)
# Small batches and a small pool, so that each day has several issue tasks and the runs
# of the backfill compete for the pool.
POOL_SLOTS = 2
CONF = {"lookback_days": LOOKBACK_DAYS, "batch_size": 15}
BACKFILL_RUNS_AT_ONCE = 4
# Slow Credly down a little so that issue tasks last long enough to overlap.
CREDLY_LATENCY_MS = 150
# A guard against a hung scheduler, not a performance bound: the durations are printed.
BACKFILL_DEADLINE_S = 1800


@pytest.fixture
def airflow(stack, clean_stack) -> Iterator[AirflowApi]:
    """Scheduler, API server and DAG processor on the session stack, stopped after the test
    whatever happened (the context manager), with nothing of theirs left running."""
    airflow_local.prepare(stack, quiet=True)
    # Runs left by earlier tests of the session (`dags test` of a day in this week) would
    # make the backfill skip their days: start from no runs of the DAG.
    airflow_local.airflow_cli(stack, "dags", "delete", DAG_ID, "--yes", check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    airflow_local.airflow_cli(stack, "pools", "set", "credly_api", str(POOL_SLOTS),
                              "e2e: a small pool", stdout=subprocess.DEVNULL)
    site = AirflowSite(stack, free_port())
    services = AirflowServices(site, components=("api-server", "scheduler", "dag-processor"),
                               env=site.env(use_job_schedule=False))
    try:
        # A SIGTERM (a CI timeout) must still run this teardown.
        with interrupted_by(signal.SIGTERM), services:
            api = AirflowApi(site)
            api.wait_for_dag(DAG_ID)
            api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
            yield api
    finally:
        airflow_local.airflow_cli(stack, "pools", "import", str(airflow_local.POOLS_FILE),
                                  stdout=subprocess.DEVNULL)
    assert services.leftovers() == [], "an Airflow process outlived the test"


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    return clean_stack


def chicago_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=AGENCY_TZ)


def backfill_body(reprocess: str) -> dict[str, Any]:
    return {"dag_id": DAG_ID, "from_date": chicago_midnight(DAYS[0]).isoformat(),
            "to_date": chicago_midnight(DAYS[-1]).isoformat(), "dag_run_conf": CONF,
            "reprocess_behavior": reprocess, "max_active_runs": BACKFILL_RUNS_AT_ONCE}


def run_backfill(api: AirflowApi, reprocess: str) -> tuple[dict, list[dict]]:
    """Create the backfill, wait for it to complete; returns it and its runs by day."""
    created = api.post("/backfills", backfill_body(reprocess))
    done = api.wait_for_backfill(created["id"], BACKFILL_DEADLINE_S)
    runs = api.get_all(f"/dags/{DAG_ID}/dagRuns", "dag_runs",
                       logical_date_gte=chicago_midnight(DAYS[0]).isoformat(),
                       logical_date_lte=chicago_midnight(DAYS[-1]).isoformat(),
                       order_by="logical_date")
    return done, runs


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def processed_days(stack, run_ids: list[str]) -> dict[str, date]:
    """The day each run says it processed (badging.run_summary.logical_date)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute(
            "SELECT run_id, logical_date FROM badging.run_summary WHERE run_id = ANY(%s)",
            (run_ids,)))


def eligible_keys(stack) -> set[tuple[int, str]]:
    """(student, assessment) of every row the truth says earns a badge, changed inside the
    union of the backfill's extract windows."""
    start = extract_window(DAYS[0], LOOKBACK_DAYS)[0]
    end = extract_window(DAYS[-1], LOOKBACK_DAYS)[1]
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return set(conn.execute("""
            SELECT DISTINCT c.student_id, upper(btrim(c.assessment_code))
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
            WHERE t.expected IN ('eligible', 'duplicate')
              AND c.updated_at >= %s AND c.updated_at < %s
        """, (start, end)).fetchall())


def ledger_keys(stack, state: str) -> set[tuple[int, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return set(conn.execute(
            "SELECT student_id, assessment_code FROM badging.issuance WHERE state = %s",
            (state,)).fetchall())


def issued_counts(stack, run_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per run: (issued, already_issued) from its run summary."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT run_id, issued, already_issued FROM badging.run_summary "
            "WHERE run_id = ANY(%s)", (run_ids,))}


def deadlines_of(stack, run_ids: list[str]) -> dict[str, int]:
    """Per run, how many deadlines Airflow created for it (metadata database)."""
    with psycopg.connect(stack.dsn("airflow")) as conn:
        return dict(conn.execute(
            "SELECT r.run_id, count(*) FROM deadline d JOIN dag_run r ON r.id = d.dagrun_id "
            "WHERE r.run_id = ANY(%s) GROUP BY r.run_id", (run_ids,)).fetchall())


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one instant (an end and a start at the same instant do
    not overlap)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def issue_intervals(api: AirflowApi) -> list[tuple[datetime, datetime]]:
    tis = api.get_all(f"/dags/{DAG_ID}/dagRuns/~/taskInstances", "task_instances",
                      task_id="issue",
                      logical_date_gte=chicago_midnight(DAYS[0]).isoformat(),
                      logical_date_lte=chicago_midnight(DAYS[-1]).isoformat())
    return [(parse(ti["start_date"]), parse(ti["end_date"])) for ti in tis if ti["start_date"]]


def states_of(api: AirflowApi, task_ids: set[str]) -> set[tuple[str, str]]:
    """The (task id, state) pairs of those tasks in the backfilled days' runs."""
    tis = api.get_all(f"/dags/{DAG_ID}/dagRuns/~/taskInstances", "task_instances",
                      logical_date_gte=chicago_midnight(DAYS[0]).isoformat(),
                      logical_date_lte=chicago_midnight(DAYS[-1]).isoformat())
    return {(ti["task_id"], ti["state"]) for ti in tis if ti["task_id"] in task_ids}


def describe(backfill: dict, runs: list[dict]) -> str:
    """How long the backfill and each day's run took: the figures the issue asks for."""
    took = parse(backfill["completed_at"]) - parse(backfill["created_at"])
    lines = [f"backfill {backfill['id']} ({backfill['reprocess_behavior']}): "
             f"{took.total_seconds():.0f}s for {len(runs)} days"]
    for run in runs:
        day = parse(run["logical_date"]).astimezone(AGENCY_TZ).date()
        lines.append(f"  {day}: {run['state']} in {run['duration'] or 0:.0f}s")
    return "\n".join(lines)


def test_a_backfilled_week_issues_the_eligible_badges_once(seeded, airflow, sandbox):
    api = airflow
    preview = api.post("/backfills/dry_run", backfill_body("none"))
    assert [parse(b["logical_date"]) for b in preview["backfills"]] == [
        chicago_midnight(day) for day in DAYS]

    sandbox.set_faults(latency_ms=CREDLY_LATENCY_MS)
    first, runs = run_backfill(api, "none")
    print(describe(first, runs))
    assert [(r["run_type"], r["state"]) for r in runs] == [("backfill", "success")] * len(DAYS)
    run_ids = [r["dag_run_id"] for r in runs]
    assert processed_days(seeded, run_ids) == dict(zip(run_ids, DAYS, strict=True))

    expected = eligible_keys(seeded)
    assert len(expected) > 5 * len(DAYS)
    assert ledger(seeded) == {"issued": len(expected)}
    assert ledger_keys(seeded, "issued") == expected
    assert_sandbox_matches_ledger(seeded, sandbox)
    # No lateness deadline for a backfill's runs (badging/airflow/deadline.py): an old
    # day's would be long past, "Missed" in red on the DAG page for every run.
    assert deadlines_of(seeded, run_ids) == {}
    # What a backfill cannot use never starts: decide_eligibility skips it, gates follow.
    idle = {"sync_credly", "check_badges", "notify_sites", "revocation_gate.check", "revoke"}
    assert states_of(api, idle) == {(task_id, "skipped") for task_id in idle}

    intervals = issue_intervals(api)
    at_once = most_at_once(intervals)
    print(f"issue tasks: {len(intervals)}, at most {at_once} running at once "
          f"(pool of {POOL_SLOTS})")
    assert len(intervals) > 2 * POOL_SLOTS, "too few issue tasks to exercise the pool"
    assert at_once <= POOL_SLOTS

    badges = {b["id"] for b in sandbox.badges()}
    second, rerun = run_backfill(api, "completed")
    print(describe(second, rerun))
    assert [r["state"] for r in rerun] == ["success"] * len(DAYS)
    assert [r["dag_run_id"] for r in rerun] == run_ids
    assert {b["id"] for b in sandbox.badges()} == badges
    assert sandbox.state()["duplicates_refused"] == 0
    assert ledger(seeded) == {"issued": len(expected)}
    # Re-running a day says so: nothing issued, every badge of the day already_issued.
    after = issued_counts(seeded, run_ids)
    assert all(issued == 0 for issued, _ in after.values()), after
    assert sum(already for _, already in after.values()) >= len(expected)
