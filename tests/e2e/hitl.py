"""Runs that wait for an operator: the real DAG through `airflow dags test`, answered through
the REST API of an API server on the same metadata database, as from the UI's Required
actions (PATCH .../taskInstances/<task>/-1/hitlDetails)."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import AirflowServices, AirflowSite, interrupted_by
from devstack.ports import free_port
from tests.fixtures.nights import run_env
from tests.fixtures.polling import wait_until

DAG_ID = airflow_local.DAG_ID
DAG_DEADLINE_S = 900
# Under the scheduler (Airflow 3.3.2, LocalExecutor) the process that parked a gate task exits
# seconds after the task is `awaiting_input`. An answer that resumes the task before the
# scheduler handles the executor's report of that exit makes it take the resumed, running task
# for one that ended without saying so: it marks it up_for_retry and the retry asks again (the
# recorded decision stands). A person never answers that fast; a test waits for the report.
EXECUTOR_REPORT_TIMEOUT_S = 120


@pytest.fixture
def api(airflow_ready) -> Iterator[AirflowApi]:
    """An API server on the session stack's metadata database (the operator's UI)."""
    site = AirflowSite(airflow_ready, free_port())
    services = AirflowServices(site, components=("api-server",), env=site.env())
    with interrupted_by(signal.SIGTERM), services:
        yield AirflowApi(site)
    assert services.leftovers() == [], "an Airflow process outlived the test"


def start_dag(stack, day: date, log_path: Path, at: datetime | None = None, *,
              base_url: str | None = None, **params) -> subprocess.Popen:
    """`airflow dags test` of the day with these params, left running (it may wait for an
    operator); `at` sets when the run happens (tests/fixtures/nights.run_env), `base_url` the
    `[api] base_url` it sees (the test's API server; the stack's default names one nobody
    runs)."""
    conf = json.dumps({"date": day.isoformat(), **params})
    out = log_path.open("w")
    env = run_env(stack, day, at) | ({"AIRFLOW__API__BASE_URL": base_url} if base_url else {})
    return airflow_local.airflow_process(stack, "dags", "test", DAG_ID, "--conf", conf,
                                         env=env, stdout=out, stderr=subprocess.STDOUT)


def ui_url(api: AirflowApi) -> str:
    """The API server's address: what `[api] base_url` names for the runs it may answer."""
    return api.base.removesuffix("/api/v2")


def scheduler_log(stack) -> Path:
    """The log of the scheduler AirflowServices runs on `stack` (each one appends to it)."""
    return AirflowSite(stack, port=0).log_dir / "scheduler.log"


def _exit_reported(log: Path, task_id: str, run_id: str) -> bool:
    """The scheduler has handled the executor's report that the parked task's process ended
    (scheduler_job_runner logs each one it handles)."""
    done = f"TaskInstance Finished: dag_id={DAG_ID}, task_id={task_id}, run_id={run_id}, "
    return any(done in line and "state=awaiting_input" in line
               for line in log.read_text(errors="replace").splitlines())


def waiting_request(api: AirflowApi, process: subprocess.Popen | None, task_id: str,
                    timeout: float = 600, not_of_runs: frozenset[str] = frozenset(), *,
                    scheduler: Path | None = None) -> dict:
    """The open approval request of the gate task `task_id`, once the run waits for it;
    requests of the runs in `not_of_runs` (answered earlier) are passed over. `process`: the
    `airflow dags test` that must still be running, or None for a run of the scheduler whose
    log is `scheduler` (scheduler_log).

    Waits until the task is parked in `awaiting_input`, not only until its request exists:
    Airflow 3.3.2's PATCH reads the task's state before locking it (Session.get does not
    refresh an identity-mapped row), so an answer that races the parking is recorded but the
    task stays parked until the form's timeout. A test answers that fast; a person does not.
    """
    assert (process is None) == (scheduler is not None), "a `dags test` process or a scheduler"

    def parked() -> dict | None:
        assert process is None or process.poll() is None, \
            "the run ended without waiting for an operator"
        details = api.get(f"/dags/{DAG_ID}/dagRuns/~/hitlDetails", task_id=task_id)
        return next((d for d in details["hitl_details"] if not d["response_received"]
                     and d["task_instance"]["state"] == "awaiting_input"
                     and d["task_instance"]["dag_run_id"] not in not_of_runs), None)

    request = wait_until(parked, timeout=timeout, interval=2,
                         what=f"an approval request of {task_id} with its task parked")
    if scheduler is not None:
        run_id = request["task_instance"]["dag_run_id"]
        wait_until(lambda: _exit_reported(scheduler, task_id, run_id),
                   timeout=EXECUTOR_REPORT_TIMEOUT_S, interval=0.5,
                   what=f"the scheduler to handle the exit of {task_id}'s parked process")
    return request


def answer(api: AirflowApi, request: dict, task_id: str, option: str) -> dict:
    run_id = quote(request["task_instance"]["dag_run_id"], safe="")
    return api.patch(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/-1/"
                     "hitlDetails", {"chosen_options": [option], "params_input": {}})


def finish(process: subprocess.Popen, log_path: Path) -> tuple[int, str]:
    code = process.wait(timeout=DAG_DEADLINE_S)
    return code, log_path.read_text()


def succeeded(code: int, output: str) -> bool:
    return code == 0 and "state=success" in output
