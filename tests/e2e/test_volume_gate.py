"""The volume gate (issue 21) with the real DAG: a busy day waits for an operator in the UI.

`airflow dags test` parks the gate's `approve` task in `awaiting_input` and waits; the answer
comes, as from the UI's Required actions, through the REST API of an API server on the same
metadata database (PATCH .../taskInstances/volume_gate.approve/-1/hitlDetails). Backfills
run through the real scheduler, as in test_backfill.py.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from urllib.parse import quote

import psutil
import psycopg
import pytest

from badging.core.constants import NOBODY_CAN_ANSWER
from badging.core.run import AGENCY_TZ
from badging.gates import band as volume_band
from badging.gates.approval import APPROVERS_VARIABLE
from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from devstack.seed import SeedParams, run_seed
from tests.e2e.hitl import (
    DAG_DEADLINE_S,
    DAG_ID,
    answer,
    finish,
    scheduler_log,
    start_dag,
    succeeded,
    ui_url,
    waiting_request,
)
from tests.e2e.outcomes import assert_sandbox_matches_ledger, ledger
from tests.fixtures.ctims import replay_day
from tests.fixtures.polling import wait_until

APPROVE_TASK = "volume_gate.approve"
# The issue's case: a summer trickle, then a normal busy day in August.
QUIET = SeedParams(date_from=date(2026, 7, 1), date_to=date(2026, 8, 9), rows=200,
                   dirty_rate=0.0, seed=21)
BUSY_DAY = date(2026, 8, 10)
BUSY = SeedParams(date_from=BUSY_DAY, date_to=BUSY_DAY, rows=544, dirty_rate=0.0, seed=22)
# A replayed feed: an ordinary day inside the band, entered again under new ids.
NORMAL_DAY = date(2026, 8, 5)


def changed(stack, first: date, last: date) -> list[int]:
    """The Real-Time rows changed from `first` to `last` (Chicago days), from CTIMS."""
    start = datetime(first.year, first.month, first.day, tzinfo=AGENCY_TZ)
    end = datetime(last.year, last.month, last.day, tzinfo=AGENCY_TZ) + timedelta(days=1)
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT certification_id FROM ctims.realtime_certifications "
            "WHERE updated_at >= %s AND updated_at < %s ORDER BY 1", (start, end))]


def judged_with_busy_day(stack) -> int:
    """What the busy day's run judges with the default lookback: its 544 rows and the quiet
    days' rows of its lookback, which no gate judged before (no run of theirs)."""
    return len(changed(stack, BUSY_DAY - timedelta(days=3), BUSY_DAY))


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


@contextmanager
def approvers(api: AirflowApi, configured: dict) -> Iterator[None]:
    """The `badging_approvers` Variable set to `configured` (config/variables.json declares
    it, empty: anyone may answer), then back to its declared value."""
    declared = json.loads(airflow_local.VARIABLES_FILE.read_text())[APPROVERS_VARIABLE]
    declared = declared["value"]
    path = f"/variables/{APPROVERS_VARIABLE}"
    api.patch(path, {"key": APPROVERS_VARIABLE, "value": json.dumps(configured)})
    try:
        yield
    finally:
        api.patch(path, {"key": APPROVERS_VARIABLE, "value": json.dumps(declared)})


def test_a_busy_day_after_a_quiet_stretch_waits_and_an_approval_lets_it_issue(
        quiet_then_busy, api, sandbox, tmp_path):
    log_path = tmp_path / "busy.log"
    with approvers(api, {"volume": ["admin"], "revocation": []}):
        process = start_dag(quiet_then_busy, BUSY_DAY, log_path, base_url=ui_url(api))
        try:
            request = waiting_request(api, process, APPROVE_TASK)
        except BaseException:
            process.kill()
            raise
    try:
        # Only the named approver may answer (HITL assigned_users, from the Variable).
        assert request["assigned_users"] == [{"id": "admin", "name": "admin"}]
        judged = judged_with_busy_day(quiet_then_busy)
        assert judged > 544
        assert request["body"].startswith(f"**{judged} rows** to judge for 2026-08-10: 544 "
                                          f"changed on the day, {judged - 544} on earlier days")
        assert request["subject"] == f"Volume of 2026-08-10: {judged} rows — real?"
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
    assert (detail["rows"], detail["earlier"]) == (judged, judged - 544)
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


# --- A decision binds (issue 28): a rejected day stays rejected until it is released ------------

# Ordinary nights after the bogus day: a few entries each.
NIGHTS = SeedParams(date_from=BUSY_DAY + timedelta(days=1), date_to=BUSY_DAY + timedelta(days=2),
                    rows=14, dirty_rate=0.0, seed=24)
RUN_DEADLINE_S = 600


def trigger(api: AirflowApi, **conf) -> str:
    """A manual run, as the UI's Trigger form makes it; returns its run id."""
    return api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]


def finished(api: AirflowApi, run_id: str) -> str:
    """The run's final state, once it has one; a failed task's log tail goes to the output."""
    state = api.wait_for_run(DAG_ID, run_id, RUN_DEADLINE_S)["state"]
    run = quote(run_id, safe="")
    for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run}/taskInstances")["task_instances"]:
        if ti["state"] == "failed":
            log = api.get(f"/dags/{DAG_ID}/dagRuns/{run}/taskInstances/{ti['task_id']}/logs/"
                          f"{ti['try_number']}", map_index=ti["map_index"])
            print(f"{run_id} {ti['task_id']} failed:", str(log)[-3000:])
    return state


def held_in(stack, run_id: str) -> set[int]:
    """The rows the run held by an earlier volume decision (decision and audit agree)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        staged = {r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.staged_certification WHERE run_id = %s "
            "AND decision = 'held' AND reason = 'held_by_decision'", (run_id,))}
        audited = {r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.audit_log WHERE run_id = %s "
            "AND event = 'held' AND reason = 'held_by_decision'", (run_id,))}
    assert staged == audited
    return staged


def issued_entries(stack) -> set[int]:
    """The certification ids the ledger issued badges for."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.issuance WHERE state = 'issued'")}


def summary_of(stack, run_id: str) -> tuple[int, int, dict]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT held, issued, approvals FROM badging.run_summary "
                            "WHERE run_id = %s", (run_id,)).fetchone()


def eligible_keys(stack, ids: list[int]) -> set[tuple[int, str]]:
    """(student, assessment) of the rows the seed's truth says earn a badge."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return set(conn.execute("""
            SELECT DISTINCT c.student_id, upper(btrim(c.assessment_code))
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
            WHERE t.expected IN ('eligible', 'duplicate') AND c.certification_id = ANY(%s)
        """, (ids,)).fetchall())


def expected_weekday_band(stack, day: date, leaving_out: list[int]) -> float:
    """The band's expected count for `day` from CTIMS's daily counts, without `leaving_out`."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        history = dict(conn.execute("""
            SELECT (updated_at AT TIME ZONE 'America/Chicago')::date, count(*)::integer
            FROM ctims.realtime_certifications
            WHERE updated_at < %s AND NOT certification_id = ANY(%s) GROUP BY 1
        """, (datetime(day.year, day.month, day.day, tzinfo=AGENCY_TZ), leaving_out)))
    return volume_band.band(day, history, history_start=QUIET.date_from).expected


def test_a_rejected_day_stays_rejected_until_an_operator_releases_it(quiet_then_busy, scheduler,
                                                                     sandbox):
    api, stack = scheduler, quiet_then_busy
    run_seed(NIGHTS, stack.dsn("ctims"), stack.dsn("badging"))
    stack.sync_templates()
    bogus = changed(stack, BUSY_DAY, BUSY_DAY)
    assert len(bogus) == 544

    # The operator rejects the bogus day through the HITL REST API (Required actions).
    rejected = trigger(api, date=BUSY_DAY.isoformat(), lookback_days=0)
    request = waiting_request(api, None, APPROVE_TASK, scheduler=scheduler_log(stack))
    assert request["subject"] == "Volume of 2026-08-10: 544 rows — real?"
    answer(api, request, APPROVE_TASK, "Reject")
    assert finished(api, rejected) == "failed"

    # Ordinary nights with the default lookback (3 days) stage the rejected rows again: held,
    # nothing issued for them, and the band of the days after leaves them out.
    nights = []
    for night in (NIGHTS.date_from, NIGHTS.date_to):
        run_id = trigger(api, date=night.isoformat())
        assert finished(api, run_id) == "success"
        nights.append(run_id)
        assert held_in(stack, run_id) == set(bogus)
        held, _issued, approvals_ = summary_of(stack, run_id)
        assert held == len(bogus)
        assert approvals_["volume"]["event"] == "approval_not_needed"
    assert issued_entries(stack).isdisjoint(bogus)
    assert issued_entries(stack)
    first_night = next(row for row in approvals(stack) if row[0] == NIGHTS.date_from)
    without = expected_weekday_band(stack, NIGHTS.date_from, leaving_out=bogus)
    with_bogus = expected_weekday_band(stack, NIGHTS.date_from, leaving_out=[])
    assert with_bogus > without + 20
    assert first_night[5]["expected"] == round(without, 1)
    assert first_night[5]["held"] == len(bogus)

    # The release: a manual run of the day with release_rejected_volume, recorded with who
    # and when; it issues the day's badges, once.
    released = trigger(api, date=BUSY_DAY.isoformat(), release_rejected_volume=True)
    assert finished(api, released) == "success"
    with psycopg.connect(stack.dsn("badging")) as conn:
        [(detail,)] = conn.execute("SELECT detail FROM badging.audit_log WHERE run_id = %s "
                                   "AND event = 'volume_released'", (released,)).fetchall()
    assert (detail["released_run_id"], detail["decision"], detail["rows"]) == (
        rejected, "rejected", len(bogus))
    assert detail["released_by"] == "admin"
    assert detail["released_at"]
    assert held_in(stack, released) == set()
    expected = eligible_keys(stack, bogus)
    assert expected
    with psycopg.connect(stack.dsn("badging")) as conn:
        from_bogus = set(conn.execute(
            "SELECT student_id, assessment_code FROM badging.issuance WHERE state = 'issued' "
            "AND certification_id = ANY(%s)", (bogus,)).fetchall())
    assert from_bogus == expected
    with psycopg.connect(stack.dsn("badging")) as conn:
        issuing = conn.execute("SELECT run_id, count(*) FROM badging.audit_log "
                               "WHERE event = 'issued' AND certification_id = ANY(%s) "
                               "GROUP BY run_id", (bogus,)).fetchall()
    assert issuing == [(released, len(expected))]
    assert_sandbox_matches_ledger(stack, sandbox)


def test_a_gate_that_asks_under_dags_test_without_an_api_server_says_so_at_once(
        quiet_then_busy, airflow_ready, tmp_path):
    # `devstack run-dag` (make run) runs `airflow dags test`; no API server answers at the
    # `[api] base_url` it names, so nobody could answer the busy day's volume gate.
    base = f"http://127.0.0.1:{free_port()}"
    log_path = tmp_path / "run-dag.log"
    said: list[str] = []
    reporting = threading.Thread(target=airflow_local.run_day_reporting, kwargs={
        "stack": quiet_then_busy, "day": BUSY_DAY.isoformat(),
        "conf": json.dumps({"date": BUSY_DAY.isoformat()}), "log_path": log_path,
        "say": said.append, "env": quiet_then_busy.airflow_env() | {
            "AIRFLOW__API__BASE_URL": base}})
    reporting.start()
    waiting = "Waiting for Human-in-the-loop input"

    def parked_and_relayed() -> bool:
        assert reporting.is_alive(), "the run ended without waiting for an operator"
        output = log_path.read_text() if log_path.exists() else ""
        # run-dag reads the log every half second: its relay of the warning comes after.
        warning = [f"  ! {line}" for line in airflow_local.GateWarnings().feed(output)]
        return waiting in output and [line for line in said if line.startswith("  ! ")] == warning

    try:
        wait_until(parked_and_relayed, timeout=DAG_DEADLINE_S, interval=0.5,
                   what="the run to wait for an operator and run-dag to relay the warning")
    finally:
        # The `airflow dags test` this test started, and whatever it started.
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                command = child.cmdline()
                if "dags" in command and "test" in command and DAG_ID in command:
                    for process in [*child.children(recursive=True), child]:
                        with contextlib.suppress(psutil.NoSuchProcess):
                            process.kill()
        reporting.join(timeout=60)
        # The killed run stays parked in the metadata database: later runs must not see it.
        airflow_local.airflow_cli(quiet_then_busy, "dags", "delete", DAG_ID, "--yes",
                                  check=False, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    output = log_path.read_text()
    # Said before the run parks, on Airflow's console and on run-dag's.
    assert output.index(NOBODY_CAN_ANSWER) < output.index(waiting)
    relayed = [line for line in said if line.startswith("  ! ")]
    assert relayed[0] == (f"  ! volume gate: {NOBODY_CAN_ANSWER}: the run waits for an "
                          f"operator's answer and no Airflow API server answers at {base} "
                          "([api] base_url).")
    text = "\n".join(relayed)
    assert "applies no answer timeout" in text
    assert "make airflow" in text
    assert "Required actions" in text
    assert "`accept_volume` on" in text
