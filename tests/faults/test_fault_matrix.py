"""The fault matrix: the real DAG against a misbehaving Credly, Postgres and operator.

Every case ends with Credly's badges == the ledger's `issued` == the eligible set of the
seed's ground truth, no badge twice, and one terminal audit event per staged row.
"""

from __future__ import annotations

import contextlib
import subprocess

import psycopg
import pytest

from tests.e2e.outcomes import assert_one_terminal_event_each, terminal_events
from tests.faults import harness
from tests.faults.conftest import DAY, FAST, FULL, LOOKBACK_DAYS
from tests.fixtures.polling import wait_until

# Short enough that a fault case stays in minutes, long enough for a loaded 2-core machine.
READ_TIMEOUT_S = 2.0
HANG_S = 3.0
# A re-run after a crash takes over the dead run's in_flight rows after this (default 90 s).
LEASE_S = 20
# Let this many badges be issued before breaking something, so the fault lands mid-run.
MID_RUN = 300
# A second run of DAY: `dags test` deletes any earlier run holding the same logical date.
RERUN_LOGICAL_DATE = "2026-05-12T01:00:00+00:00"

full = pytest.param(FULL, marks=pytest.mark.faults, id="full")
fast = pytest.param(FAST, id="fast")


def _run(env, tmp_path, name: str, **params) -> harness.DagProcess:
    params.setdefault("lookback_days", LOOKBACK_DAYS)
    return harness.DagProcess.dags_test(env, tmp_path / f"{name}.log", DAY, **params)


def _settle(case: str, stack, sandbox, expected, outcome: str, logs, *, failed: int = 0,
            stopped_runs: int = 0, foreign: frozenset[str] = frozenset()):
    """Judge the case, record its matrix row, and hold it to exactly-once.

    The first `stopped_runs` runs were cut short (red): their rows not yet reached have no
    terminal event, but none may have two. Every other run accounts for every row once.
    """
    verdict = harness.judge(stack, sandbox, expected, foreign)
    harness.record(case, verdict, outcome)
    assert verdict.duplicates == 0, "a badge was issued twice"
    assert verdict.missing == 0, f"{verdict.missing} eligible badges were never issued"
    assert verdict.extra == 0, "Credly or the ledger holds a badge that is not eligible"
    assert verdict.failed == failed
    assert verdict.issued == len(expected)
    runs = harness.run_ids(stack)
    for run_id in runs[:stopped_runs]:
        assert all(len(e) == 1 for e in terminal_events(stack, run_id).values())
    for run_id in runs[stopped_runs:]:
        assert_one_terminal_event_each(stack, run_id)
    harness.assert_nothing_leaked(stack, logs)
    return verdict


def _green(process: harness.DagProcess) -> None:
    process.wait()
    assert process.succeeded, process.output[-4000:]


@pytest.mark.parametrize("size", [full, fast])
def test_errors_throttling_and_timeouts(size, stack, sandbox, seed_period, tmp_path):
    expected = seed_period(size)
    sandbox.set_faults(error_rate=0.10, throttle_rate=0.10, timeout_rate=0.05,
                       timeout_hang_s=HANG_S, seed=61)
    run = _run(harness.airflow_env(stack, read_timeout=READ_TIMEOUT_S), tmp_path, "run")
    _green(run)
    _settle(f"10% 500/503, 10% 429 (no Retry-After), 5% timeouts ({size.rows} rows)", stack,
            sandbox, expected, "green", tmp_path)
    # One run on an empty ledger issued every badge itself: a badge whose answer was lost
    # is its own, found again, never "already issued" by someone else.
    [run_id] = harness.run_ids(stack)
    assert {e[0][0] for e in terminal_events(stack, run_id).values()} <= {
        "issued", "ineligible", "quarantined"}


@pytest.mark.faults
def test_throttling_with_retry_after(stack, sandbox, seed_period, tmp_path):
    expected = seed_period(FULL)
    sandbox.set_faults(throttle_rate=0.10, retry_after_s=1, seed=62)
    # Retry-After pauses every thread of the task; more threads keep the run in minutes.
    run = _run(harness.airflow_env(stack), tmp_path, "run", concurrency=32)
    _green(run)
    _settle("10% 429 with Retry-After: 1", stack, sandbox, expected, "green", tmp_path)


@pytest.mark.parametrize("size", [full, fast])
def test_lost_responses(size, stack, sandbox, seed_period, tmp_path):
    expected = seed_period(size)
    sandbox.set_faults(lost_response_rate=0.05, seed=63)
    _green(_run(harness.airflow_env(stack), tmp_path, "run"))
    _settle(f"5% lost responses, committed ({size.rows} rows)", stack, sandbox, expected,
            "green", tmp_path)


def _mid_run(env, tmp_path, stack) -> harness.DagProcess:
    """Start a run and return once MID_RUN badges are issued: the moment to break things."""
    run = _run(env, tmp_path, "run")
    harness.wait_for(lambda: harness.ledger_count(stack, "issued") >= MID_RUN, run,
                     f"{MID_RUN} badges were issued")
    return run


def _rerun_if_red(run: harness.DagProcess, env, tmp_path) -> str:
    """What an operator does after an outage: re-run the day if the run did not recover."""
    if run.succeeded:
        return "green"
    _green(_run(env, tmp_path, "rerun", logical_date=RERUN_LOGICAL_DATE))
    return "red, re-run green"


def _outage_mid_run(case: str, stack, sandbox, seed_period, tmp_path, stop, start,
                    noticed: str) -> None:
    """Stop a service mid-run and start it again once the run has met the outage: `noticed`
    is in what the run printed since (or the run died of it)."""
    expected = seed_period(FULL)
    env = harness.airflow_env(stack, lease_seconds=LEASE_S)
    run = _mid_run(env, tmp_path, stack)
    before = len(run.output)
    stop()
    wait_until(lambda: not run.running or noticed in run.output[before:], timeout=300,
               interval=0.5, what=f"the run to meet the outage ({noticed!r} in its output)")
    start()
    with contextlib.suppress(subprocess.TimeoutExpired):
        # A run wedged by the outage is killed (a dead worker) and re-run.
        run.wait(timeout=300)
    outcome = _rerun_if_red(run, env, tmp_path)
    _settle(case, stack, sandbox, expected, outcome, tmp_path,
            stopped_runs=0 if run.succeeded else 1)


@pytest.mark.faults
def test_sandbox_restarted_mid_run(stack, sandbox, seed_period, tmp_path):
    # A refused connection is retried: the transport's warning says "(no response)".
    _outage_mid_run("Credly sandbox killed and restarted mid-run", stack, sandbox, seed_period,
                    tmp_path, sandbox.process.kill, sandbox.process.launch, "(no response)")


@pytest.mark.faults
def test_postgres_restarted_mid_run(stack, sandbox, seed_period, tmp_path):
    # Airflow's metadata database lives in the same server: the run may well die with it.
    _outage_mid_run("Postgres killed and restarted mid-run", stack, sandbox, seed_period,
                    tmp_path, stack.postgres.kill, stack.postgres.start, "OperationalError")


@pytest.mark.faults
def test_token_revoked_mid_run(stack, sandbox, seed_period, tmp_path):
    expected = seed_period(FULL)
    env = harness.airflow_env(stack)
    run = _mid_run(env, tmp_path, stack)
    sandbox.set_tokens(revoke=[sandbox.token])
    at_revoke = harness.ledger_count(stack, "issued")
    run.wait()
    assert not run.succeeded, "a run whose token was revoked must be red"
    # The red task's last line says why, on one line, without a stack of retries.
    reasons = [line for line in run.output.splitlines()
               if line.startswith("airflow.sdk.exceptions.AirflowFailException: Credly")]
    assert reasons, run.output[-4000:]
    assert all("Credly rejected the token" in line for line in reasons), reasons
    assert all("HTTP 401" in line for line in reasons), reasons
    # The batch stopped at once: only requests already in the air could still land.
    assert harness.ledger_count(stack, "issued") - at_revoke <= 8
    assert harness.ledger_count(stack, "failed") == 0, "a revoked token failed badges"
    assert harness.ledger_count(stack, "in_flight") == 0
    with psycopg.connect(stack.dsn("badging")) as conn:
        assert conn.execute(
            "SELECT count(*) FROM badging.audit_log WHERE event = 'failed'").fetchone()[0] == 0
    stopped_at = harness.ledger_count(stack, "issued")

    sandbox.restore_tokens()
    _green(_run(env, tmp_path, "rerun", logical_date=RERUN_LOGICAL_DATE))
    _settle("token revoked mid-run (401)", stack, sandbox, expected,
            f"red after {stopped_at} issued ('{reasons[0].split(': ', 1)[1]}'); "
            "re-run with the token restored green", tmp_path, stopped_runs=1)


def _red_line(run: harness.DagProcess, error: str) -> str:
    """The red task's one-line reason (AirflowFailException: <error>: ...)."""
    lines = [line for line in run.output.splitlines()
             if line.startswith(f"airflow.sdk.exceptions.AirflowFailException: {error}")
             or (error in line and "AirflowFailException" in line)]
    assert lines, run.output[-4000:]
    return lines[0].split("AirflowFailException: ", 1)[1]


@pytest.mark.faults
def test_an_archived_template_stops_its_batch_until_it_is_restored(stack, sandbox, seed_period,
                                                                   tmp_path):
    """Before issue 16 each of its badges failed for good; now the batch stops with one line,
    nothing fails, and the badges go out once the template is back."""
    eligible = seed_period(FULL)
    code = harness.middling_code(eligible)
    template_id = harness.template_of(stack, code)
    harness.set_template(sandbox, template_id, code, state="archived")
    env = harness.airflow_env(stack)
    run = _run(env, tmp_path, "run")
    run.wait()
    assert not run.succeeded, "a refused template must turn the run red"
    reason = _red_line(run, "Credly refused")
    assert f"template {template_id}: badge template is archived" in reason, reason
    assert harness.ledger_count(stack, "failed") == 0
    harness.set_template(sandbox, template_id, code)
    _green(_run(env, tmp_path, "rerun", logical_date=RERUN_LOGICAL_DATE))
    _settle("archived template (422)", stack, sandbox, eligible,
            f"red ('{reason[:60]}…'), 0 failed; template restored, re-run green", tmp_path,
            stopped_runs=1)


@pytest.mark.faults
def test_a_template_allowing_duplicates_is_refused_before_any_badge(stack, sandbox, seed_period,
                                                                    tmp_path):
    eligible = seed_period(FULL)
    code = harness.middling_code(eligible)
    template_id = harness.template_of(stack, code)
    harness.set_template(sandbox, template_id, code, allow_duplicate_badges=True)
    env = harness.airflow_env(stack)
    run = _run(env, tmp_path, "run")
    run.wait()
    assert not run.succeeded
    reason = _red_line(run, "Credly template")
    assert f"{template_id} allows duplicate badges" in reason, reason
    assert sandbox.badges() == []
    harness.set_template(sandbox, template_id, code)
    _green(_run(env, tmp_path, "rerun", logical_date=RERUN_LOGICAL_DATE))
    _settle("a template with duplicates allowed", stack, sandbox, eligible,
            "red at plan, nothing issued; template fixed, re-run green", tmp_path,
            stopped_runs=1)


def _wait_until_both_issue(stack, runs: list[harness.DagProcess]) -> None:
    """Until each run has claimed a badge: both plans are done (and passed their checks)."""
    def both_issuing() -> bool:
        with psycopg.connect(stack.dsn("badging")) as conn:
            return conn.execute("SELECT count(DISTINCT run_id) FROM badging.audit_log"
                                " WHERE event = 'issue_attempt'").fetchone()[0] == len(runs)
    for run in runs:
        harness.wait_for(both_issuing, run, "both runs started issuing")


@pytest.mark.faults
def test_a_retry_after_storm_with_a_short_lease_and_two_runs_racing(stack, sandbox, seed_period,
                                                                    tmp_path):
    """Claims held through 5 s Retry-After pauses, a 3 s lease, two runs of the day at once,
    and Credly's own duplicate check switched off once they issue: only the ledger stands
    between a row and a second badge. Before issue 16 the second run took the sleeping
    holder's rows over after the lease and both POSTed."""
    expected = seed_period(FAST)
    sandbox.set_faults(throttle_rate=0.03, retry_after_s=5, seed=64)
    env = harness.airflow_env(stack, lease_seconds=3)
    runs = [_run(env, tmp_path, "first"),
            _run(env, tmp_path, "second", logical_date=RERUN_LOGICAL_DATE)]
    _wait_until_both_issue(stack, runs)
    with psycopg.connect(stack.dsn("badging")) as conn:
        templates = conn.execute("SELECT assessment_code, credly_template_id"
                                 " FROM badging.badge_templates").fetchall()
    for code, template_id in templates:
        harness.set_template(sandbox, template_id, code, allow_duplicate_badges=True)
    for run in runs:
        _green(run)
    _settle(f"Retry-After 5 s storm, 3 s lease, two runs racing, Credly's duplicate check off "
            f"({FAST.rows} rows)", stack, sandbox, expected, "both green", tmp_path)


@pytest.mark.faults
def test_siblings_sharing_an_email(stack, sandbox, seed_period, tmp_path):
    """Pair 1 shares an address: one sibling gets the badge, Credly refuses the other's as a
    duplicate held under another earner id. Pair 2's address already holds a hand-issued
    badge without an earner id: it is nobody's for sure, so neither sibling takes it."""
    eligible = seed_period(FULL)
    first_pair, second_pair, by_hand = harness.share_emails(stack, sandbox, eligible)
    run = _run(harness.airflow_env(stack), tmp_path, "run")
    run.wait()
    assert not run.succeeded, "failed badges must turn the run red"
    failed = harness.failed_keys(stack)
    failed_students = {student for student, _ in failed}
    assert len(failed_students & first_pair) == 1, failed
    assert second_pair <= failed_students, failed
    assert len(failed) == 3
    with psycopg.connect(stack.dsn("badging")) as conn:
        errors = {row[0] for row in conn.execute(
            "SELECT last_error FROM badging.issuance WHERE state = 'failed'")}
    assert errors == {"CredlyUnresolvedDuplicate (HTTP 422)"}
    assert by_hand not in {row[0] for row in _credly_ids(stack)}
    _settle("a shared-email pair of students (and a pair with a hand-issued badge)", stack,
            sandbox, eligible - failed, "red: 3 failed with reason, the rest issued", tmp_path,
            failed=3, foreign=frozenset({by_hand}))


def _credly_ids(stack) -> list[tuple[str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT credly_badge_id FROM badging.issuance"
                            " WHERE credly_badge_id IS NOT NULL").fetchall()


@pytest.mark.faults
def test_a_poisoned_row_in_the_middle_of_a_batch(stack, sandbox, seed_period, tmp_path):
    """Two ledger rows resolve to one Credly badge (two assessments share a template, one
    student has both): recording the second breaks the unique Credly id. Before issue 16 the
    error escaped the worker thread and cancelled the rest of the batch, on every run."""
    eligible = seed_period(FULL)
    both = harness.one_template_for_two_assessments(stack, sandbox, eligible)
    run = _run(harness.airflow_env(stack), tmp_path, "run")
    run.wait()
    assert f"{len(both)} badges failed" in run.output, run.output[-4000:]
    failed = harness.failed_keys(stack)
    assert {student for student, _ in failed} == both
    assert len(failed) == len(both)
    with psycopg.connect(stack.dsn("badging")) as conn:
        errors = {row[0] for row in conn.execute(
            "SELECT last_error FROM badging.issuance WHERE state = 'failed'")}
    assert errors == {"UniqueViolation"}
    # psycopg's DETAIL line names the Credly badge id: it must not reach the log.
    assert "DETAIL" not in run.output
    assert not any(badge_id in run.output for (badge_id,) in _credly_ids(stack))
    _settle("a poisoned row mid-batch (two ledger rows, one Credly badge)", stack, sandbox,
            eligible - failed, f"red: {len(both)} failed (UniqueViolation), batch went on",
            tmp_path, failed=len(both))


@pytest.mark.faults
def test_the_same_day_run_twice_at_once(stack, sandbox, seed_period, tmp_path):
    expected = seed_period(FULL)
    env = harness.airflow_env(stack)
    # Distinct logical dates: `dags test` would delete a run sharing its logical date.
    runs = [_run(env, tmp_path, "first"),
            _run(env, tmp_path, "second", logical_date=RERUN_LOGICAL_DATE)]
    for run in runs:
        _green(run)
    assert len(harness.run_ids(stack)) == 2
    _settle("the same day, two runs at once", stack, sandbox, expected, "both green",
            tmp_path)


@pytest.mark.faults
def test_a_backfill_overlapping_the_daily_run(stack, sandbox, seed_period, tmp_path):
    expected = seed_period(FULL)
    env = harness.airflow_env(stack)
    daily = _run(env, tmp_path, "daily", logical_date="2026-05-12T05:00:00+00:00")
    # The backfill: the days before, in order, each looking back over the same month.
    days = [(DAY.replace(day=DAY.day - back), LOOKBACK_DAYS - back) for back in (2, 1, 0)]
    for day, lookback in days:
        backfill = harness.DagProcess.dags_test(env, tmp_path / f"backfill-{day}.log", day,
                                                lookback_days=lookback)
        _green(backfill)
    _green(daily)
    assert len(harness.run_ids(stack)) == 4
    _settle("a backfill of 3 days overlapping the daily run", stack, sandbox, expected,
            "all green", tmp_path)
