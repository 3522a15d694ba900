"""The gate's operator and check on real Postgres: answers, timeouts and refusals recorded."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from badging.core.constants import Gate
from badging.gates.approval import (
    CHECK_KEY,
    NOBODY_CAN_ANSWER,
    Check,
    GateApprovalOperator,
    run_check,
)
from devstack.ports import free_port
from devstack.task_context import task_context

RUN_ID = "manual__gate"
CHECK = Check(ask=True, summary="544 rows is above the band up to 150 rows", body="**544 rows**",
              detail={"rows": 544, "maximum": 150})


@pytest.fixture
def badging_env(clean_stack, monkeypatch):
    for key, value in clean_stack.airflow_env().items():
        if key.startswith("AIRFLOW_CONN_"):
            monkeypatch.setenv(key, value)
    return clean_stack


def context(run_type: str = "manual", **params):
    ctx = task_context("volume_gate.approve", run_id=RUN_ID, date="2026-08-10", **params)
    pushed = {}
    ctx["ti"].xcom_pull = lambda task_ids, key: CHECK.as_xcom()
    ctx["ti"].xcom_push = lambda key, value: pushed.__setitem__(key, value)
    ctx["dag_run"].run_type = run_type
    ctx["dag_run"].triggering_user_name = "operator1"
    ctx["pushed"] = pushed
    return ctx


def operator(gate: Gate = Gate.VOLUME, stops_run: bool = True) -> GateApprovalOperator:
    return GateApprovalOperator(task_id="approve", gate=gate, stops_run=stops_run,
                                check_task_id=f"{gate}_gate.check", subject=f"{gate}?",
                                defaults="Reject", response_timeout=timedelta(hours=1))


def recorded(stack) -> list[tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        gate = conn.execute("SELECT event, decided_by FROM badging.approval "
                            "WHERE run_id = %s", (RUN_ID,)).fetchall()
        audit = conn.execute("SELECT event, detail->>'decided_by', detail->>'gate' "
                             "FROM badging.audit_log WHERE run_id = %s", (RUN_ID,)).fetchall()
    return gate + audit


def event(option: str, *, timedout: bool = False, user: dict | None = None) -> dict:
    return {"chosen_options": [option], "params_input": {}, "timedout": timedout,
            "responded_at": datetime(2026, 8, 11, 14, 5, tzinfo=UTC), "responded_by_user": user}


def test_an_approval_is_recorded_with_who(badging_env):
    result = operator().execute_complete(context(), event("Approve",
                                                          user={"id": "7", "name": "ops"}))
    assert result["chosen_options"] == ["Approve"]
    assert recorded(badging_env) == [("approved", "ops"), ("approved", "ops", "volume")]


def test_a_rejection_fails_with_who_and_when(badging_env):
    with pytest.raises(AirflowFailException,
                       match=r"volume gate: 544 rows .* rejected by ops at 2026-08-11 14:05 UTC"):
        operator().execute_complete(context(), event("Reject", user={"id": "7", "name": "ops"}))
    assert recorded(badging_env) == [("rejected", "ops"), ("rejected", "ops", "volume")]


def test_a_timeout_rejects_by_default(badging_env):
    with pytest.raises(AirflowFailException, match=r"no answer by .*: rejected by default"):
        operator().execute_complete(context(), event("Reject", timedout=True))
    assert recorded(badging_env) == [("approval_timed_out", None),
                                     ("approval_timed_out", None, "volume")]


def test_a_timeout_without_defaults_is_recorded_too(badging_env):
    with pytest.raises(AirflowFailException, match="rejected by default"):
        operator().execute_complete(context(), {"error": "timeout", "error_type": "timeout"})
    assert recorded(badging_env)[0] == ("approval_timed_out", None)


def asking(_context) -> Check:
    return CHECK


def test_a_backfill_is_refused_without_waiting(badging_env):
    with pytest.raises(AirflowFailException, match="a backfill does not wait for a person"):
        run_check(context("backfill"), Gate.VOLUME, asking, "accept_volume", "volume_gate",
                  "decide_eligibility")
    assert recorded(badging_env)[0] == ("refused_unattended", "operator1")


def test_the_accept_param_passes_and_names_who_triggered(badging_env):
    ctx = context("backfill", accept_volume=True)
    assert run_check(ctx, Gate.VOLUME, asking, "accept_volume", "volume_gate",
                     "decide_eligibility") == "decide_eligibility"
    assert ctx["pushed"][CHECK_KEY]["summary"] == CHECK.summary
    assert recorded(badging_env)[0] == ("accepted_by_param", "operator1")


def test_a_manual_run_that_asks_follows_approve_and_records_nothing_yet(badging_env):
    assert run_check(context(), Gate.VOLUME, asking, "accept_volume", "volume_gate",
                     "decide_eligibility") == "volume_gate.approve"
    assert recorded(badging_env) == []


def test_a_retried_task_records_its_decision_once(badging_env):
    answer = event("Approve", user={"id": "7", "name": "ops"})
    operator().execute_complete(context(), answer)
    operator().execute_complete(context(), answer)
    assert recorded(badging_env) == [("approved", "ops"), ("approved", "ops", "volume")]
    # A cleared run answered again by someone else is a new decision, and audited.
    operator().execute_complete(context(), event("Approve", user={"id": "8", "name": "lead"}))
    assert recorded(badging_env) == [("approved", "lead"), ("approved", "ops", "volume"),
                                     ("approved", "lead", "volume")]


def test_a_gate_that_holds_records_a_rejection_without_failing(badging_env):
    # The revocation gate: the refusal is a decision the revoke task reads, not a red run.
    operator(Gate.REVOCATION, stops_run=False).execute_complete(
        context(), event("Reject", user={"id": "7", "name": "ops"}))
    assert recorded(badging_env) == [("rejected", "ops"), ("rejected", "ops", "revocation")]


def test_a_gate_that_holds_lets_a_backfill_pass_to_be_held(badging_env):
    assert run_check(context("backfill"), Gate.REVOCATION, asking, "accept_revocations",
                     "revocation_gate", "revoke", stops_run=False) == "revoke"
    assert recorded(badging_env)[0] == ("refused_unattended", "operator1")


def test_a_check_that_asks_where_no_api_server_answers_says_so_at_once(badging_env, monkeypatch,
                                                                       caplog):
    base = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", base)
    ctx = context()
    ctx["dag_run"].triggering_user_name = "dag_test"
    with caplog.at_level(logging.WARNING, logger="badging.gates.approval"):
        assert run_check(ctx, Gate.VOLUME, asking, "accept_volume", "volume_gate",
                         "decide_eligibility") == "volume_gate.approve"
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"volume gate: {NOBODY_CAN_ANSWER}" in warning
    assert base in warning
    assert "`accept_volume` on" in warning
    assert "applies no answer timeout" in warning
