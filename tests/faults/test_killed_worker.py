"""A worker SIGKILLed mid-batch, then its task retried: every badge still issued exactly once."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.e2e.outcomes import assert_one_terminal_event_each, ledger
from tests.faults import harness
from tests.faults.conftest import DAY, FAST, FULL, LOOKBACK_DAYS


def _unsettled_batches(stack, run_id: str) -> list[int]:
    """Batches of the run with badges still pending or in flight: the tasks to (re)try."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [r[0] for r in conn.execute("""
            SELECT DISTINCT b.batch_no FROM badging.run_batch b
            JOIN badging.issuance i USING (issuance_id)
            WHERE b.run_id = %s AND i.state IN ('pending', 'in_flight')
            ORDER BY 1
        """, (run_id,))]


def _kill_mid_batch_then_retry(case: str, stack, sandbox, seed_period, tmp_path, params):
    eligible = seed_period(params)
    # Some rows fail for good (siblings sharing an address): the retry walks them again and
    # must not record them twice.
    *_, by_hand = harness.share_emails(stack, sandbox, eligible)
    # Slow Credly down so the kill lands while requests are in the air.
    sandbox.set_faults(latency_ms=200)
    env = harness.airflow_env(stack)
    log = tmp_path / "run.log"
    first = harness.DagProcess.dags_test(env, log, DAY, lookback_days=LOOKBACK_DAYS,
                                         batch_size=len(eligible) // 2 + 1, concurrency=4)
    harness.wait_for(lambda: ledger(stack).get("issued", 0) >= 40, first,
                     "40 badges were issued")
    first.kill()
    at_kill = {"in_flight": 0} | ledger(stack)
    assert 0 < at_kill["issued"] < len(eligible) - 3, at_kill
    [run_id] = harness.run_ids(stack)
    batches = _unsettled_batches(stack, run_id)
    assert batches, "the kill landed after the last badge"

    # The retry Airflow would make: the same run and map index, in a fresh process. The
    # dead process's claims are not renewed any more: the retry takes them over once the
    # lease (90 s) has passed, looking each up in Credly first.
    sandbox.set_faults(latency_ms=0)
    started = time.monotonic()
    for batch_no in batches:
        state = harness.task_test(env, log, run_id, "issue", batch_no)
        assert state == "success", log.read_text()[-4000:]
    retried_in = time.monotonic() - started
    failed = harness.failed_keys(stack)
    assert len(failed) == 3, failed
    # The report is red, and says why: the siblings' badges failed.
    assert harness.task_test(env, log, run_id, "report") == "failed"
    assert "3 badges failed" in log.read_text()

    expected = eligible - failed
    verdict = harness.judge(stack, sandbox, expected, frozenset({by_hand}))
    harness.record(case, verdict, f"killed with {at_kill['issued']} issued and "
                                  f"{at_kill['in_flight']} in flight; retried tasks green in "
                                  f"{retried_in:.0f} s, report red for 3 siblings")
    assert (verdict.duplicates, verdict.missing, verdict.extra) == (0, 0, 0)
    assert verdict.failed == 3
    assert verdict.issued == len(expected)
    assert_one_terminal_event_each(stack, run_id)
    harness.assert_nothing_leaked(stack, tmp_path)


def test_a_killed_issue_task_retried_issues_every_badge_once(stack, sandbox, seed_period,
                                                             tmp_path):
    _kill_mid_batch_then_retry("SIGKILL mid-batch, task retried (fast)", stack, sandbox,
                               seed_period, tmp_path, FAST)


@pytest.mark.faults
def test_a_killed_issue_task_retried_at_full_volume(stack, sandbox, seed_period, tmp_path):
    _kill_mid_batch_then_retry("SIGKILL mid-batch, task retried", stack, sandbox, seed_period,
                               tmp_path, FULL)
