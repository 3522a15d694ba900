"""The DAG, unchanged, on CeleryExecutor: a Redis broker, two Celery workers, the scheduler,
the API server and the DAG processor as separate processes, the metadata in Postgres.

The seeded day of test_daily_run (there through `airflow dags test`) is triggered through the
REST API, as an operator would, and must end as the seed's ground truth says, with its tasks
shared by both workers. `make test-distributed` runs it (it installs redis-server if missing).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from devstack import airflow_local
from devstack.airflow_api import AirflowApi
from devstack.airflow_services import CELERY_EXECUTOR, AirflowServices, AirflowSite, interrupted_by
from devstack.broker import RedisBroker
from devstack.ports import free_port
from tests.e2e.outcomes import (
    LOOKBACK_DAYS,
    assert_sandbox_matches_ledger,
    expected_outcomes,
    ledger,
    runs_for,
    seed,
    staged_ids,
    terminal_events,
)
from tests.e2e.test_daily_run import DAY, SEED
from tests.fixtures.pii import Secrets, files

pytestmark = pytest.mark.distributed

DAG_ID = airflow_local.DAG_ID
WORKERS = 2
WORKER_CONCURRENCY = 2
# Small batches: the day's badges make several mapped issue tasks, which the credly_api
# pool (4 slots, config/pools.json) lets run four at once, more than one worker takes.
CONF = {"date": DAY.isoformat(), "lookback_days": LOOKBACK_DAYS, "batch_size": 8}
# Slow Credly down a little so that issue tasks last long enough to overlap.
CREDLY_LATENCY_MS = 150
# A guard against a hung scheduler or worker, not a performance bound: durations are printed.
RUN_DEADLINE_S = 900


@pytest.fixture
def seeded(clean_stack):
    seed(clean_stack, SEED)
    return clean_stack


@pytest.fixture
def celery_airflow(stack, clean_stack, tmp_path) -> Iterator[tuple[AirflowApi, AirflowServices]]:
    """A Redis of its own, then the API server, scheduler, DAG processor and two Celery workers
    on the session stack; all stopped after the test whatever happened, nothing left running."""
    airflow_local.prepare(stack, quiet=True)
    broker = RedisBroker(tmp_path / "redis")
    services = None
    try:
        # A SIGTERM (a CI timeout) must still run this teardown.
        with interrupted_by(signal.SIGTERM):
            started = time.monotonic()
            broker.start()
            site = AirflowSite(stack, free_port(), executor=CELERY_EXECUTOR,
                               broker_url=broker.url)
            services = AirflowServices(
                site, components=("api-server", "scheduler", "dag-processor"),
                env=site.env(use_job_schedule=False), celery_workers=WORKERS,
                worker_concurrency=WORKER_CONCURRENCY)
            with services:
                api = AirflowApi(site)
                api.wait_for_dag(DAG_ID)
                print(f"\nredis-server and {', '.join(services.components)} ready, DAG parsed: "
                      f"{time.monotonic() - started:.1f}s")
                api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
                yield api, services
                stopping = time.monotonic()
            print(f"Airflow stopped in {time.monotonic() - stopping:.1f}s")
    finally:
        broker.stop()
    assert services.leftovers() == [], "an Airflow process outlived the test"
    assert not broker.running


def test_a_seeded_day_runs_green_on_two_celery_workers(seeded, celery_airflow, sandbox):
    api, services = celery_airflow
    sandbox.set_faults(latency_ms=CREDLY_LATENCY_MS)

    started = time.monotonic()
    created = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": CONF})
    run_id = created["dag_run_id"]
    run = api.wait_for_run(DAG_ID, run_id, RUN_DEADLINE_S)
    tis = api.get_all(f"/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                      "task_instances")
    print(f"run {run['state']}: {time.monotonic() - started:.1f}s from trigger to end "
          f"({run['duration'] or 0:.1f}s by Airflow)")
    states = Counter((ti["task_id"], ti["state"]) for ti in tis)
    assert run["state"] == "success", sorted(states.items())

    # The same ledger result as under `airflow dags test` (test_daily_run), by the seed.
    assert runs_for(seeded, DAY) == [run_id]
    expected = expected_outcomes(seeded, [DAY], LOOKBACK_DAYS)
    events = terminal_events(seeded, run_id)
    assert staged_ids(seeded, run_id) == set(expected)
    assert all(len(e) == 1 for e in events.values()), "a row has more than one terminal event"
    assert {cert: e[0] for cert, e in events.items()} == expected
    issued = Counter(event for event, _ in expected.values())["issued"]
    assert issued > 20
    assert ledger(seeded) == {"issued": issued}
    assert_sandbox_matches_ledger(seeded, sandbox)
    assert len(sandbox.badges()) == issued
    assert sandbox.state()["duplicates_refused"] == 0

    # Distributed: every task ran on one of the workers, and both workers ran issue batches.
    # Ran nowhere: the guard (skipped on a green run) and the gates' approvals (skipped on an
    # ordinary day).
    assert {ti["task_id"] for ti in tis if ti["state"] == "skipped"} == {
        "fail_run_if_a_task_failed", "volume_gate.approve", "revocation_gate.approve"}
    ran = [ti for ti in tis if ti["state"] != "skipped"]
    per_worker = Counter(ti["hostname"] for ti in ran)
    issue_per_worker = Counter(ti["hostname"] for ti in ran if ti["task_id"] == "issue")
    for worker in services.workers:
        print(f"{worker}: {per_worker[worker]} tasks, of which {issue_per_worker[worker]} "
              f"issue batches")
    assert set(per_worker) == set(services.workers), per_worker
    assert set(issue_per_worker) == set(services.workers), issue_per_worker
    assert sum(issue_per_worker.values()) > 2 * WORKERS, "too few issue tasks to share"

    # Nothing the workers or their tasks logged names a student or holds the Credly token.
    logs = list(files(seeded.paths.airflow_home / "logs"))
    scanned = {Path(where).name for where, _ in logs}
    assert {f"{worker}.log" for worker in services.workers} <= scanned
    assert any("task_id=issue" in where for where, _ in logs), "no issue task log was read"
    assert Secrets.of(seeded).leaks(logs) == []
