"""The volume gate (issue 21) with the real DAG: a busy day waits for an operator in the UI.

`airflow dags test` parks the gate's `approve` task in `awaiting_input` and waits; the answer
comes, as from the UI's Required actions, through the REST API of an API server on the same
metadata database (PATCH .../taskInstances/volume_gate.approve/-1/hitlDetails). Backfills
run through the real scheduler, as in test_backfill.py.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import quote

import psycopg
import pytest

from badging.run import AGENCY_TZ
from devstack import airflow_local
from devstack.airflow_services import AirflowApi, AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed
from tests.e2e.hitl import (
    DAG_DEADLINE_S,
    DAG_ID,
    answer,
    finish,
    start_dag,
    succeeded,
    waiting_request,
)
from tests.e2e.outcomes import ledger
from tests.fixtures.ctims import replay_day

APPROVE_TASK = "volume_gate.approve"
# The issue's case: a summer trickle, then a normal busy day in August.
QUIET = SeedParams(date_from=date(2026, 7, 1), date_to=date(2026, 8, 9), rows=200,
                   dirty_rate=0.0, seed=21)
BUSY_DAY = date(2026, 8, 10)
BUSY = SeedParams(date_from=BUSY_DAY, date_to=BUSY_DAY, rows=544, dirty_rate=0.0, seed=22)
# A replayed feed: an ordinary day inside the band, entered again under new ids.
NORMAL_DAY = date(2026, 8, 5)


@pytest.fixture
def quiet_then_busy(clean_stack):
    run_seed(QUIET, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    run_seed(BUSY, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    return clean_stack


def approvals(stack) -> list[tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute(
            "SELECT logical_date, gate, event, decided_by, summary, detail "
            "FROM badging.approval WHERE gate = 'volume' ORDER BY decided_at").fetchall()


def gate_audit(stack) -> list[tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute(
            "SELECT event, detail->>'gate', detail->>'decided_by', detail->>'decided_at' "
            "FROM badging.audit_log WHERE detail->>'gate' = 'volume' ORDER BY audit_id").fetchall()


def summary_approvals(stack, day: date) -> dict:
    with psycopg.connect(stack.dsn("badging")) as conn:
        row = conn.execute("SELECT approvals FROM badging.run_summary WHERE logical_date = %s "
                           "ORDER BY updated_at DESC LIMIT 1", (day,)).fetchone()
    return row[0] if row else {}


def test_a_busy_day_after_a_quiet_stretch_waits_and_an_approval_lets_it_issue(
        quiet_then_busy, api, sandbox, tmp_path):
    log_path = tmp_path / "busy.log"
    process = start_dag(quiet_then_busy, BUSY_DAY, log_path)
    try:
        request = waiting_request(api, process, APPROVE_TASK)
        assert "544 rows" in request["body"]
        assert "| site | rows | share today | usual share |" in request["body"]
        assert request["defaults"] == ["Reject"]
        # Nothing is issued while the run waits.
        assert sandbox.badges() == []
        answered = answer(api, request, APPROVE_TASK, "Approve")
        assert answered["chosen_options"] == ["Approve"]
        code, output = finish(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
    assert succeeded(code, output), output[-4000:]
    assert "Waiting for Human-in-the-loop input" in output

    [(day, gate, event, by, summary, detail)] = approvals(quiet_then_busy)
    assert (day, gate, event) == (BUSY_DAY, "volume", "approved")
    assert by
    assert "544 rows is above the band" in summary
    assert detail["rows"] == 544
    assert [(e, g, b) for e, g, b, _ in gate_audit(quiet_then_busy)] == [
        ("approved", "volume", by)]
    assert summary_approvals(quiet_then_busy, BUSY_DAY)["volume"]["event"] == "approved"
    assert f"volume gate: approved by {by} at " in output
    issued = ledger(quiet_then_busy).get("issued", 0)
    assert issued > 100
    assert len(sandbox.badges()) == issued


def test_a_replayed_feed_waits_and_a_rejection_issues_nothing(
        quiet_then_busy, api, sandbox, tmp_path):
    replayed = replay_day(quiet_then_busy, NORMAL_DAY, later_by=timedelta(minutes=1))
    assert replayed >= 3
    log_path = tmp_path / "replay.log"
    process = start_dag(quiet_then_busy, NORMAL_DAY, log_path, lookback_days=0)
    try:
        request = waiting_request(api, process, APPROVE_TASK)
        assert "repeat certifications already entered under another id" in request["body"]
        answer(api, request, APPROVE_TASK, "Reject")
        code, output = finish(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
    assert not succeeded(code, output)
    assert "volume gate:" in output
    assert "rejected by" in output
    assert ledger(quiet_then_busy) == {}
    assert sandbox.badges() == []
    [(_, _, event, by, summary, _)] = approvals(quiet_then_busy)
    assert event == "rejected"
    assert by
    assert f"{replayed} of {2 * replayed} rows" in summary
    assert [e for e, *_ in gate_audit(quiet_then_busy)] == ["rejected"]


def test_the_accept_param_lets_a_busy_day_through_without_waiting(
        quiet_then_busy, airflow_ready, sandbox, tmp_path):
    log_path = tmp_path / "accepted.log"
    process = start_dag(quiet_then_busy, BUSY_DAY, log_path, accept_volume=True)
    try:
        # No API server here: a run that waited would never end.
        code, output = process.wait(timeout=DAG_DEADLINE_S), log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert succeeded(code, output), output[-4000:]
    assert "Waiting for Human-in-the-loop input" not in output
    [(day, _, event, _, summary, _)] = approvals(quiet_then_busy)
    assert (day, event) == (BUSY_DAY, "accepted_by_param")
    assert "544 rows is above the band" in summary
    assert [e for e, *_ in gate_audit(quiet_then_busy)] == ["accepted_by_param"]
    assert summary_approvals(quiet_then_busy, BUSY_DAY)["volume"]["event"] == "accepted_by_param"
    assert ledger(quiet_then_busy).get("issued", 0) > 100


@pytest.fixture
def scheduler(airflow_ready) -> Iterator[AirflowApi]:
    """Scheduler, API server and DAG processor, as test_backfill.py runs them."""
    stack = airflow_ready
    airflow_local.airflow_cli(stack, "dags", "delete", DAG_ID, "--yes", check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = AirflowSite(stack, free_port())
    services = AirflowServices(site, components=("api-server", "scheduler", "dag-processor"),
                               env=site.env(use_job_schedule=False))
    with interrupted_by(signal.SIGTERM), services:
        api = AirflowApi(site)
        api.wait_for_dag(DAG_ID)
        api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
        yield api
    assert services.leftovers() == [], "an Airflow process outlived the test"


def test_a_backfill_outside_the_band_ends_red_without_waiting(quiet_then_busy, scheduler,
                                                              sandbox):
    api = scheduler
    midnight = datetime(BUSY_DAY.year, BUSY_DAY.month, BUSY_DAY.day, tzinfo=AGENCY_TZ)
    created = api.post("/backfills", {
        "dag_id": DAG_ID, "from_date": midnight.isoformat(), "to_date": midnight.isoformat(),
        "dag_run_conf": {}, "reprocess_behavior": "none", "max_active_runs": 1})
    api.wait_for_backfill(created["id"], DAG_DEADLINE_S)
    [run] = api.get_all(f"/dags/{DAG_ID}/dagRuns", "dag_runs")
    assert (run["run_type"], run["state"]) == ("backfill", "failed")
    check = api.get(f"/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}"
                    "/taskInstances/volume_gate.check")
    assert check["state"] == "failed"
    assert api.get(f"/dags/{DAG_ID}/dagRuns/~/hitlDetails")["total_entries"] == 0
    [(day, _, event, _by, summary, _)] = approvals(quiet_then_busy)
    assert (day, event) == (BUSY_DAY, "refused_unattended")
    assert "544 rows is above the band" in summary
    assert ledger(quiet_then_busy) == {}
    assert sandbox.badges() == []
