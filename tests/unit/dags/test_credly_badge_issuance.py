"""DAG policy: the DAG parses fast, offline, with its contract names and operator documentation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from badging.core.constants import AGENCY_TIMEZONE, DAG_ID

REPO = Path(__file__).resolve().parents[3]

# Parses the dags/ folder the way the DAG processor does, with every socket refused, and
# prints what the assertions need as JSON.
_PARSE = textwrap.dedent("""
    import json, socket, sys, time

    def refuse(*args, **kwargs):
        raise OSError("network or database access at parse time")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    def callbacks(value):
        return value if isinstance(value, list) else [value] if value else []

    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1], known_pools={"credly_api"})
    seconds = time.perf_counter() - started
    dag = bag.dags.get(sys.argv[2])
    print(json.dumps({
        "seconds": seconds,
        "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
        "tags": sorted(dag.tags) if dag else [],
        "doc_md": dag.doc_md if dag else "",
        "catchup": dag.catchup if dag else None,
        "timezone": str(dag.timezone) if dag else None,
        "timetable": type(dag.timetable).__name__ if dag else None,
        "dagrun_timeout": dag.dagrun_timeout.total_seconds()
                          if dag and dag.dagrun_timeout else None,
        "params": {k: {"default": v.value, "description": v.description,
                       "maximum": v.schema.get("maximum")}
                   for k, v in dag.params.items()} if dag else {},
        "tasks": {t.task_id: {"owner": t.owner, "retries": t.retries, "pool": t.pool,
                              "trigger_rule": t.trigger_rule.value,
                              "execution_timeout": t.execution_timeout.total_seconds()
                                                   if t.execution_timeout else None,
                              "response_timeout": t.response_timeout.total_seconds()
                                                  if getattr(t, "response_timeout", None)
                                                  else None,
                              "retry_delay": t.retry_delay.total_seconds(),
                              "max_retry_delay": t.max_retry_delay.total_seconds()
                                                 if t.max_retry_delay else None,
                              "on_failure": [f"{f.__module__}.{f.__name__}"
                                             for f in callbacks(t.on_failure_callback)]}
                  for t in dag.tasks} if dag else {},
        "deadlines": [{"reference": type(d.reference).__name__,
                       "hours": d.interval.total_seconds() / 3600,
                       "callback": [type(d.callback).__name__, d.callback.path]}
                      for d in dag.deadline or []] if dag else [],
        # What dag.test() runs (alerts.without_deadline_in_dag_test).
        "copied_deadlines": [type(d).__name__ for d in DagSerialization.deserialize_dag(
            DagSerialization.serialize_dag(dag)).deadline or []] if dag else [],
    }))
""")


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("airflow_home")
    env = os.environ | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/unused.db",
    }
    result = subprocess.run([sys.executable, "-c", _PARSE, str(REPO / "dags"), DAG_ID], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_parses_without_errors_and_offline(parsed):
    assert parsed["import_errors"] == {}
    assert parsed["dag_ids"] == [DAG_ID]


def test_parses_in_under_two_seconds(parsed):
    assert parsed["seconds"] < 2.0


def test_runs_on_chicago_days_with_real_intervals(parsed):
    assert parsed["timetable"] == "CronDataIntervalTimetable"
    assert parsed["timezone"] == AGENCY_TIMEZONE
    assert parsed["catchup"] is False


def test_documents_itself_for_operators(parsed):
    assert "When it is red" in parsed["doc_md"]
    assert {"careertech", "credly", "badging"} <= set(parsed["tags"])
    for name, param in parsed["params"].items():
        assert param["description"], f"param {name} has no description for the trigger form"


def test_every_task_has_an_owner_and_retries(parsed):
    for task_id, task in parsed["tasks"].items():
        assert task["owner"] == "careertech-data", task_id
        if task_id != "fail_run_if_a_task_failed":
            assert task["retries"] >= 1, task_id


def test_issue_runs_in_the_credly_pool_and_report_always_runs(parsed):
    assert parsed["tasks"]["issue"]["pool"] == "credly_api"
    assert parsed["tasks"]["report"]["trigger_rule"] == "all_done"
    # The sync reads Credly whatever the day's rows did, inside the same pool.
    assert parsed["tasks"]["sync_credly"]["pool"] == "credly_api"
    assert parsed["tasks"]["sync_credly"]["trigger_rule"] == "all_done"
    assert parsed["tasks"]["sync_credly"]["execution_timeout"] <= 3600
    assert parsed["tasks"]["fail_run_if_a_task_failed"]["trigger_rule"] == "one_failed"


def test_every_task_that_calls_credly_holds_a_credly_pool_slot(parsed):
    """The pool promises Credly at most slots x concurrency calls in flight (pools.json).
    Before: plan read templates and a history load's badge list outside it, unbounded."""
    for task_id in ("plan", "issue", "sync_credly", "revoke"):
        assert parsed["tasks"][task_id]["pool"] == "credly_api", task_id
    assert 0 < parsed["tasks"]["plan"]["execution_timeout"] <= 3600


def test_manual_runs_default_to_the_data_interval(parsed):
    assert parsed["params"]["date"]["default"] is None
    assert parsed["params"]["dry_run"]["default"] is False


def test_an_issue_try_is_bounded_and_a_run_outlives_its_slowest_legitimate_path(parsed):
    tasks = parsed["tasks"]
    issue = tasks["issue"]
    assert issue["execution_timeout"] is not None
    assert 30 * 60 <= issue["execution_timeout"] <= 4 * 3600
    # The volume gate may wait this long for an operator, then every try of an issue batch
    # may run to its timeout, with the back-off between tries.
    gate_wait = tasks["volume_gate.approve"]["response_timeout"]
    assert gate_wait == 20 * 3600
    back_off = sum(min(issue["retry_delay"] * 2 ** n, issue["max_retry_delay"])
                   for n in range(issue["retries"]))
    # So may every try of plan (a history load's, reading Credly's whole list).
    plan = tasks["plan"]
    plan_tries = ((plan["retries"] + 1) * plan["execution_timeout"]
                  + sum(plan["retry_delay"] * 2 ** n for n in range(plan["retries"])))
    slowest = (gate_wait + plan_tries + (issue["retries"] + 1) * issue["execution_timeout"]
               + back_off)
    assert parsed["dagrun_timeout"] is not None
    assert slowest < parsed["dagrun_timeout"]
    # Stuck daily runs must never fill max_active_runs (4): at most two are alive at once.
    assert parsed["dagrun_timeout"] < 3 * 24 * 3600


def test_a_scheduled_run_still_going_at_6am_alerts_the_operators(parsed):
    # The logical date is 00:00 in Chicago of the day processed: 30 h later is 06:00 the next
    # morning (docs/notifications.md); the callback skips all but scheduled runs, and a
    # backfill's run gets no deadline at all (badging/airflow/deadline.py; test_backfill.py).
    assert parsed["deadlines"] == [{"reference": "LogicalDateUnlessBackfill", "hours": 30.0,
                                    "callback": ["AsyncCallback",
                                                 "badging.notify.alerts.alert_late_run"]}]


def test_the_deadline_reference_is_registered_by_a_plugin(tmp_path):
    # The scheduler and the API server find a custom reference only through a plugin: without
    # it they could not create a run of the DAG.
    probe = ("from airflow import plugins_manager as m; "
             "from badging.airflow.deadline import LogicalDateUnlessBackfill as r; "
             "found = m.get_deadline_references_plugins(); "
             "assert found == {'badging.airflow.deadline.LogicalDateUnlessBackfill': r}, found")
    env = os.environ | {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins")}
    subprocess.run([sys.executable, "-c", probe], check=True, env=env, timeout=120)


def test_the_revocation_threshold_has_a_ceiling_and_a_release_param_exists(parsed):
    params = parsed["params"]
    assert params["max_revocations_without_approval"]["default"] == 10
    assert params["max_revocations_without_approval"]["maximum"] == 100
    assert params["release_rejected_volume"]["default"] is False


def test_dag_test_still_needs_its_deadline_workaround(parsed):
    # Airflow 3.3.2's dag.test() runs a serialized copy whose deadlines stay dicts, and a
    # green run then crashes. When this fails, Airflow fixed it: drop
    # alerts.without_deadline_in_dag_test.
    assert parsed["copied_deadlines"] == ["dict"]


def test_every_failure_is_recorded_for_the_alert_and_the_lists_follow_the_report(parsed):
    for task_id, task in parsed["tasks"].items():
        assert task["on_failure"] == ["badging.notify.alerts.record_failure"], task_id
    assert parsed["tasks"]["notify_sites"]["trigger_rule"] == "all_done"
    assert parsed["params"]["send_site_lists"]["default"] is True
