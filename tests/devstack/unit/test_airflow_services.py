"""The local Airflow's shape per executor: its environment and its components (no process)."""

from __future__ import annotations

import pytest

from devstack.airflow_services import (
    CELERY_EXECUTOR,
    COMPONENTS,
    WORKER_NAME_ENV,
    AirflowServices,
    AirflowSite,
    worker_hostname,
)
from devstack.stack import Stack, StackPaths

BROKER = "redis://127.0.0.1:6399/0"


@pytest.fixture
def stack(tmp_path) -> Stack:
    # Nothing is started: env() only reads (and makes) the stack's local secrets.
    return Stack(paths=StackPaths(tmp_path), pg_port=54999, sandbox_port=8999)


def test_the_default_site_is_local_and_knows_no_celery(stack):
    env = AirflowSite(stack, 8080).env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "badging.airflow.preload.PreloadingLocalExecutor"
    assert not [key for key in env if key.startswith("AIRFLOW__CELERY")]
    assert AirflowServices(AirflowSite(stack, 8080)).components == list(COMPONENTS)


def test_a_celery_site_uses_its_broker_and_keeps_results_in_the_metadata_db(stack):
    env = AirflowSite(stack, 8080, executor=CELERY_EXECUTOR, broker_url=BROKER).env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == BROKER
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == (
        "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith(":54999/airflow")


@pytest.mark.parametrize(("executor", "broker"), [
    (CELERY_EXECUTOR, None), ("LocalExecutor", BROKER), ("SequentialExecutor", None)])
def test_a_broker_goes_with_celery_only(stack, executor, broker):
    with pytest.raises(ValueError, match=r"executor|broker"):
        AirflowSite(stack, 8080, executor=executor, broker_url=broker)


def test_celery_workers_stop_after_the_scheduler_and_before_the_api_server(stack):
    site = AirflowSite(stack, 8080, executor=CELERY_EXECUTOR, broker_url=BROKER)
    services = AirflowServices(site, components=("api-server", "scheduler", "dag-processor"),
                               celery_workers=2)
    assert services.components == ["scheduler", "celery-worker-1", "celery-worker-2",
                                   "dag-processor", "api-server"]
    assert services.workers == ["celery-worker-1", "celery-worker-2"]
    assert services.worker_node("celery-worker-1").startswith("celery-worker-1@")


def test_local_sites_have_no_celery_workers(stack):
    with pytest.raises(ValueError, match="CeleryExecutor"):
        AirflowServices(AirflowSite(stack, 8080), celery_workers=1)


def test_a_task_names_the_worker_it_ran_on(monkeypatch):
    monkeypatch.setenv(WORKER_NAME_ENV, "celery-worker-2")
    assert worker_hostname() == "celery-worker-2"
