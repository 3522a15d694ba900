"""The task bodies in-process on real Postgres and the sandbox: params in, counts out."""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from badging.airflow import tasks
from devstack.seed import SeedParams
from devstack.task_context import task_context
from tests.e2e import outcomes

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=date(2026, 5, 13), rows=400,
                  dirty_rate=0.08, seed=5)
RUN_ID = "manual__tasks"


@pytest.fixture
def stack_env(clean_stack, sandbox, monkeypatch, tmp_path):
    """Connections from the environment, as Airflow reads them; a seeded CTIMS."""
    for key, value in clean_stack.airflow_env().items():
        if key.startswith("AIRFLOW_CONN_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("BADGING_REPORT_DIR", str(tmp_path / "reports"))
    outcomes.seed(clean_stack, SEED)
    return clean_stack


def _xcom(value):
    """What Airflow would store: JSON, and never a student's email."""
    text = json.dumps(value)
    assert "@" not in text
    return json.loads(text)


def _through_plan(**params) -> list[dict[str, int]]:
    params = {"date": DAY.isoformat(), **params}
    _xcom(tasks.extract(task_context("extract", run_id=RUN_ID, **params)))
    _xcom(tasks.validate(task_context("validate", run_id=RUN_ID, **params)))
    _xcom(tasks.decide_eligibility(task_context("decide_eligibility", run_id=RUN_ID, **params)))
    return _xcom(tasks.plan(task_context("plan", run_id=RUN_ID, **params)))


def _decided(params: dict) -> tuple[list[str], dict[str, int]]:
    """decide_eligibility of a fresh run: the tasks it follows, and its counts (XCom)."""
    tasks.extract(task_context("extract", **params))
    tasks.validate(task_context("validate", **params))
    context = task_context("decide_eligibility", **params)
    followed = _xcom(tasks.decide_eligibility(context))
    return followed, _xcom(context["ti"].pushed[tasks.DECIDED_KEY])


def test_the_branch_skips_what_a_backfill_cannot_use_and_keeps_its_counts(stack_env):
    # The worker's run_type is the Task SDK's enum: str() of it is not "backfill".
    backfill = {"date": DAY.isoformat(), "run_id": "backfill__tasks", "run_type": "backfill"}
    followed, counts = _decided(backfill)
    assert followed == ["plan"]
    assert sum(counts.values()) > 0
    assert tasks.revocation_check(task_context("revocation_gate.check", **backfill)).ask is False
    # The same day in a manual run follows every task and decides the same.
    manual = {**backfill, "run_id": RUN_ID, "run_type": "manual"}
    assert _decided(manual) == (["plan", "sync_credly", "check_badges"], counts)


def test_a_day_through_the_task_bodies_ends_as_the_seed_says(stack_env, sandbox):
    batches = _through_plan(batch_size=7)
    assert batches
    assert all(b["size"] <= 7 and b["of"] == len(batches) for b in batches)
    issued = 0
    for index, batch in enumerate(batches):
        counts = _xcom(tasks.issue(task_context("issue", run_id=RUN_ID, map_index=index,
                                                date=DAY.isoformat(), concurrency=3), batch))
        issued += counts.get("issued", 0)
    context = task_context("report", run_id=RUN_ID, date=DAY.isoformat())
    # A manual run of the day sends lists: report follows notify_sites.
    assert tasks.report(context) == ["notify_sites"]
    summary = _xcom(context["ti"].pushed[tasks.SUMMARY_KEY])
    assert summary["issued"] == issued == sum(b["size"] for b in batches)
    expected = outcomes.expected_outcomes(stack_env, [DAY])
    found = outcomes.terminal_events(stack_env, RUN_ID)
    assert {cert: events[-1] for cert, events in found.items()} == expected
    outcomes.assert_one_terminal_event_each(stack_env, RUN_ID)
    outcomes.assert_sandbox_matches_ledger(stack_env, sandbox)


def test_a_history_load_s_plan_reads_credly_within_its_one_pool_slot(stack_env, sandbox):
    """plan holds one credly_api slot, worth `concurrency` calls in flight (pools.json).
    Before: its adoption read Credly's list pool_slots x concurrency pages at once."""
    with psycopg.connect(stack_env.dsn("badging")) as conn:
        [template_id] = conn.execute(
            "SELECT credly_template_id FROM badging.badge_templates LIMIT 1").fetchone()
    # Twelve pages of badges for made-up earners, read while Credly is slow.
    sandbox.issue_many(12 * 50, template_id)
    sandbox.set_faults(latency_ms=100)
    assert _through_plan(adopt_existing=True, pool_slots=4, concurrency=2)
    state = sandbox.state()
    assert state["peak_in_flight"] == 2
    assert sum(state["requests"].values()) > 12


def test_dry_run_plans_no_batch_and_writes_no_ledger_row(stack_env, sandbox):
    assert _through_plan(dry_run=True) == []
    context = task_context("report", run_id=RUN_ID, date=DAY.isoformat(), dry_run=True)
    # A dry run mails no lists: report follows nothing, notify_sites starts no process.
    assert tasks.report(context) == []
    summary = context["ti"].pushed[tasks.SUMMARY_KEY]
    assert summary["would_issue"] > 0
    assert summary["issued"] == 0
    assert outcomes.ledger(stack_env) == {}
    assert sandbox.badges() == []


def test_a_revoked_token_fails_the_issue_task_without_retry(stack_env, sandbox):
    [batch, *_] = _through_plan()
    sandbox.set_tokens(revoke=[sandbox.token])
    with pytest.raises(AirflowFailException, match="401"):
        tasks.issue(task_context("issue", run_id=RUN_ID, map_index=0, date=DAY.isoformat()),
                    batch)
    assert set(outcomes.ledger(stack_env)) == {"pending"}


def test_a_data_quality_breach_fails_validate_and_report_without_retry(stack_env):
    context = {"run_id": RUN_ID, "date": DAY.isoformat(), "max_failed_share": 0.0}
    tasks.extract(task_context("extract", **context))
    with pytest.raises(AirflowFailException, match="failed validation, above the 0% threshold"):
        tasks.validate(task_context("validate", **context))
    with pytest.raises(AirflowFailException, match="data quality"):
        tasks.report(task_context("report", **context))
    with psycopg.connect(stack_env.dsn("badging")) as conn:
        assert conn.execute("SELECT dq_success FROM badging.run_summary WHERE run_id = %s",
                            (RUN_ID,)).fetchone() == (False,)
