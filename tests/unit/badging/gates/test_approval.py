"""Which gate decisions need no person, who may answer, what the form and the console say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk import DAG

from badging.core.constants import GATE_PASSES, Event, Gate
from badging.gates.approval import (
    NOBODY_CAN_ANSWER,
    Check,
    api_answers,
    assigned_users,
    failure_message,
    nobody_can_answer,
    unattended_decision,
)
from devstack.ports import free_port

ASKS = Check(ask=True, summary="544 rows is above the band up to 150 rows", body="")
QUIET = Check(ask=False, summary="40 rows within the band", body="")


@pytest.mark.parametrize(("check", "accepted", "backfill", "decision"), [
    (QUIET, False, False, Event.APPROVAL_NOT_NEEDED),
    (QUIET, False, True, Event.APPROVAL_NOT_NEEDED),
    (ASKS, True, False, Event.ACCEPTED_BY_PARAM),
    (ASKS, True, True, Event.ACCEPTED_BY_PARAM),
    (ASKS, False, True, Event.REFUSED_UNATTENDED),
    (ASKS, False, False, None),
])
def test_only_a_manual_or_scheduled_run_that_asks_waits(check, accepted, backfill, decision):
    assert unattended_decision(check, accepted=accepted, backfill=backfill) == decision


def test_the_refusal_and_the_passes():
    assert Event.REFUSED_UNATTENDED not in GATE_PASSES
    assert {Event.APPROVED, Event.ACCEPTED_BY_PARAM, Event.APPROVAL_NOT_NEEDED} == GATE_PASSES


def test_failure_messages_say_who_and_when_in_one_line():
    at = datetime(2026, 8, 11, 14, 5, tzinfo=UTC)
    rejected = failure_message(Gate.VOLUME, Event.REJECTED, ASKS.summary, "ops", at)
    assert rejected == ("volume gate: 544 rows is above the band up to 150 rows — rejected by "
                        "ops at 2026-08-11 14:05 UTC. Nothing was issued; later runs hold these "
                        "rows until the day is released (a manual run with "
                        "release_rejected_volume).")
    assert "rejected by default" in failure_message(Gate.VOLUME, Event.APPROVAL_TIMED_OUT,
                                                    ASKS.summary, None, at)
    assert "release_rejected_volume" in failure_message(Gate.VOLUME, Event.REFUSED_UNATTENDED,
                                                        ASKS.summary, None, at)


def test_only_a_person_passes_a_check_that_must_ask_and_a_param_that_let_it_through_decides():
    held = Check(ask=True, summary="3 held", body="", must_ask=True)
    assert unattended_decision(held, accepted=True, backfill=False) is None
    assert unattended_decision(held, accepted=True, backfill=True) == Event.REFUSED_UNATTENDED
    let_through = Check(ask=False, summary="11 within a raised limit", body="",
                        passed_by_param=True)
    assert unattended_decision(let_through, accepted=False,
                               backfill=False) == Event.ACCEPTED_BY_PARAM


@pytest.mark.parametrize(("configured", "gate", "users"), [
    (None, Gate.VOLUME, None),
    ({}, Gate.VOLUME, None),
    ({"volume": [], "revocation": ["ops"]}, Gate.VOLUME, None),
    ({"volume": ["ops", {"id": "7", "name": "Dana"}]}, Gate.VOLUME,
     [{"id": "ops", "name": "ops"}, {"id": "7", "name": "Dana"}]),
    ({"revocation": [{"id": 12}]}, Gate.REVOCATION, [{"id": "12", "name": "12"}]),
])
def test_who_may_answer_comes_from_the_approvers_variable(configured, gate, users):
    assert assigned_users(configured, gate) == users


@pytest.mark.parametrize("configured", [["ops"], {"volume": [{"name": "no id"}]},
                                        {"volume": [""]}])
def test_a_malformed_approvers_variable_is_refused(configured):
    with pytest.raises(ValueError, match="badging_approvers"):
        assigned_users(configured, Gate.VOLUME)


def test_the_subject_and_body_of_the_form_are_the_check_s():
    import jinja2

    from badging.core.constants import DAG_ID
    from badging.gates.approval import approval_gate

    with DAG(DAG_ID, schedule=None) as dag:
        approval_gate(Gate.VOLUME, check=lambda context: ASKS, accept_param="accept_volume",
                      response_timeout=timedelta(hours=1), leads_to=_next_task())
    approve = dag.task_dict["volume_gate.approve"]

    class TI:
        @staticmethod
        def xcom_pull(task_ids, key):
            assert (task_ids, key) == ("volume_gate.check", "check")
            return {"subject": "Volume of 2026-08-10: 4,500 rows — real?", "body": "**4500**"}

    render = jinja2.Environment().from_string
    assert render(approve.subject).render(ti=TI) == "Volume of 2026-08-10: 4,500 rows — real?"
    assert render(approve.body).render(ti=TI) == "**4500**"


def _next_task(trigger_rule: str = "none_failed_min_one_success"):
    from airflow.providers.standard.operators.empty import EmptyOperator

    return EmptyOperator(task_id="after", trigger_rule=trigger_rule)


def test_the_task_after_a_gate_follows_its_check_or_its_approval():
    from badging.core.constants import DAG_ID
    from badging.gates.approval import approval_gate

    with DAG(DAG_ID, schedule=None) as dag:
        approval_gate(Gate.VOLUME, check=lambda context: ASKS, accept_param="accept_volume",
                      response_timeout=timedelta(hours=1), leads_to=_next_task())
    assert dag.task_dict["after"].upstream_task_ids == {"volume_gate.check",
                                                        "volume_gate.approve"}
    assert dag.task_dict["volume_gate.approve"].upstream_task_ids == {"volume_gate.check"}


def test_a_task_after_a_gate_that_would_be_skipped_with_its_approval_is_refused():
    from badging.core.constants import DAG_ID
    from badging.gates.approval import approval_gate

    # all_success: an ordinary day skips `approve`, and with it the rest of the run.
    with DAG(DAG_ID, schedule=None), pytest.raises(ValueError, match="after follows the volume"):
        approval_gate(Gate.VOLUME, check=lambda context: ASKS, accept_param="accept_volume",
                      response_timeout=timedelta(hours=1), leads_to=_next_task("all_success"))


def test_a_gate_nobody_can_answer_says_how_to_answer_at_once():
    text = nobody_can_answer(Gate.VOLUME, base="http://localhost:8080", run_id="manual__x",
                             accept_param="accept_volume", accept_passes=True, timeout=None,
                             dag_test=True)
    first, *rest = text.splitlines()
    assert NOBODY_CAN_ANSWER in first
    assert "http://localhost:8080" in first
    assert all(line.startswith("  ") for line in rest)
    assert "make airflow" in text
    assert "Required actions" in text
    assert ("PATCH http://localhost:8080/api/v2/dags/credly_badge_issuance/dagRuns/<run id>/"
            "taskInstances/volume_gate.approve/-1/hitlDetails") in text
    assert "`accept_volume` on" in text
    assert "applies no answer timeout" in text
    held = nobody_can_answer(Gate.REVOCATION, base="http://h", run_id="r",
                             accept_param="accept_revocations", accept_passes=False,
                             timeout=timedelta(hours=12), dag_test=False)
    assert "does not pass it" in held
    assert "rejected after 12 h" in held


def test_an_api_server_answers_only_where_one_listens():
    import http.server
    import json
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"metadatabase": {"status": "healthy"}}).encode()
            self.send_response(200 if self.path == "/api/v2/monitor/health" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert api_answers(f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()
    assert not api_answers(f"http://127.0.0.1:{free_port()}", timeout=1.0)
