"""The connection check of devstack.airflow_local against config/connections.json (no process)."""

from __future__ import annotations

import json

import pytest

from devstack.airflow_local import connection_problems
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
