"""The task bodies: params read from the context, and which errors fail without a retry."""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowFailException

from badging.airflow import tasks
from badging.core.errors import CredlyAuthError, DataQualityError
from badging.core.run import RunInfo
from devstack.task_context import task_context


def _credly_connection(monkeypatch, **extra) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CREDLY_API", json.dumps({
        "conn_type": "http", "host": "http://127.0.0.1:9/v1", "password": "token",
        "extra": extra}))


def test_listed_errors_fail_without_retry_and_keep_their_cause():
    error = DataQualityError("42% of rows failed expectations")
    with pytest.raises(AirflowFailException, match="42% of rows") as raised, \
            tasks._no_retry_for(DataQualityError, CredlyAuthError):
        raise error
    assert raised.value.__cause__ is error


def test_other_errors_pass_through_for_airflow_to_retry():
    with pytest.raises(ConnectionError), tasks._no_retry_for(DataQualityError):
        raise ConnectionError("database restarting")


def test_plan_without_an_earner_id_secret_fails_without_retry(monkeypatch):
    _credly_connection(monkeypatch, organization_id="org")
    with pytest.raises(AirflowFailException, match="earner_id_secret"):
        tasks.plan(task_context("plan", date="2026-05-12"))


def test_issue_with_a_broken_credly_connection_fails_without_retry(monkeypatch):
    _credly_connection(monkeypatch)  # no organization_id
    context = task_context("issue", date="2026-05-12", map_index=1)
    with pytest.raises(AirflowFailException, match="organization"):
        tasks.issue(context, {"batch_no": 1, "size": 5, "of": 3})
    # The label the task's map_index_template renders, counted from 1.
    assert context["batch_label"] == "batch 2 of 3 (5 badges)"


@pytest.mark.parametrize(("task", "params", "message"), [
    (tasks.extract, {"lookback_days": -1}, "lookback_days"),
    (tasks.extract, {"date": "12/05/2026"}, "YYYY-MM-DD"),
    (tasks.decide_eligibility, {"program_launch": "2022-13-01"}, "month"),
])
def test_a_bad_param_is_refused_before_any_database_is_touched(monkeypatch, task, params,
                                                                message):
    # Connections that lead nowhere: reaching a database would fail differently.
    monkeypatch.setenv("AIRFLOW_CONN_CTIMS_DB", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("AIRFLOW_CONN_BADGING_DB", "postgresql://nobody@127.0.0.1:9/none")
    with pytest.raises(ValueError, match=message):
        task(task_context(task.__name__, **params))


def _idle(run_type: str = "manual", **params) -> set[str]:
    context = task_context("decide_eligibility", run_type=run_type, date="2026-05-12", **params)
    return set(RunInfo.from_context(context).idle_tasks)


@pytest.mark.parametrize(("run_type", "params", "idle"), [
    ("scheduled", {}, set()),
    ("manual", {}, set()),
    ("backfill", {}, {"sync_credly", "check_badges", "notify_sites"}),
    # A dry run still checks the badges (it audits would_revoke).
    ("manual", {"dry_run": True}, {"sync_credly", "notify_sites"}),
    ("manual", {"send_site_lists": False}, {"notify_sites"}),
    ("manual", {"date_to": "2026-05-20"}, {"notify_sites"}),
])
def test_the_tasks_a_run_gives_nothing_to_do(run_type, params, idle):
    assert _idle(run_type, **params) == idle
    # The branch follows plan always and every other task the run has work for.
    assert set(tasks.FOLLOWED) - set(_idle(run_type, **params)) >= {"plan"}


def test_notify_sites_skips_itself_where_the_run_sends_no_lists():
    from airflow.sdk.exceptions import AirflowSkipException

    context = task_context("notify_sites", run_type="backfill", date="2026-05-12")
    with pytest.raises(AirflowSkipException, match="no morning lists"):
        tasks.notify_sites(context)


@pytest.mark.parametrize(("run_type", "waves", "even"), [
    ("scheduled", 4, False), ("manual", 4, False), ("backfill", 1, True)])
def test_a_backfill_day_is_cut_evenly_for_one_slot_and_others_for_the_pool(run_type, waves,
                                                                          even):
    context = task_context("plan", run_type=run_type, date="2026-05-12")
    run = RunInfo.from_context(context)
    assert (run.batch_waves(4), run.even_batches) == (waves, even)
