"""The connection check of devstack.airflow_local against config/connections.json (no process)."""

from __future__ import annotations

import json

import pytest

from devstack.airflow_local import GateWarnings, connection_problems
from devstack.stack import Stack, StackPaths


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    # Nothing is started: airflow_env() only reads (and makes) the stack's local secrets.
    return Stack(paths=StackPaths(tmp_path), pg_port=54999, sandbox_port=8999).airflow_env()


def with_credly_type(env: dict[str, str], conn_type: str) -> dict[str, str]:
    credly = json.loads(env["AIRFLOW_CONN_CREDLY_API"]) | {"conn_type": conn_type}
    return env | {"AIRFLOW_CONN_CREDLY_API": json.dumps(credly)}


def test_the_stack_provides_every_declared_connection_as_a_credly_one(env):
    assert json.loads(env["AIRFLOW_CONN_CREDLY_API"])["conn_type"] == "credly"
    assert connection_problems(env) == []


def test_a_legacy_http_credly_connection_is_still_accepted(env):
    assert connection_problems(with_credly_type(env, "http")) == []


def test_any_other_type_is_a_problem(env):
    assert connection_problems(with_credly_type(env, "postgres")) == [
        "connection 'credly_api' is 'postgres', not 'credly'"]


def test_run_dag_echoes_the_warning_of_a_gate_nobody_can_answer():
    from badging.core.constants import Gate
    from badging.gates.approval import nobody_can_answer

    message = nobody_can_answer(Gate.VOLUME, base="http://localhost:8080", run_id="manual__x",
                                accept_param="accept_volume", accept_passes=True,
                                timeout=None, dag_test=True)
    first, *rest = message.splitlines()
    output = ("2026-12-07T05:44:57Z [info     ] volume gate: 900 rows [badging.gates.approval]\n"
              f"2026-12-07T05:44:57Z [warning  ] {first}\n" + "\n".join(rest)
              + " [badging.gates.approval] loc=approval.py:159\n"
              "2026-12-07T05:44:58Z [info     ] Waiting for Human-in-the-loop input\n")
    warnings = GateWarnings()
    # Airflow's output arrives in pieces, cut anywhere.
    found = warnings.feed(output[:100]) + warnings.feed(output[100:333]) + warnings.feed(
        output[333:])
    assert found == message.splitlines()
