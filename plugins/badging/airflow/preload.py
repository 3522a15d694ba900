"""What a task process would import each time, imported once by the executor instead.

Each task of the DAG runs in a process forked from an executor worker, which the scheduler
forks when the LocalExecutor starts. The task bodies import the pipeline lazily (the DAG file
stays light for the DAG processor), so without this every task process paid pandas and Great
Expectations again: 3.3 s of `validate`'s start on this machine. Imported in the scheduler
before it forks its workers, they are in every task's memory already (copy on write).

A deployment turns it on with `[core] executor =
badging.airflow.preload.PreloadingLocalExecutor` (docs/production.md, "Task starts");
`make airflow` and the bench run it.
"""

from __future__ import annotations

import importlib
import logging

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

# The modules the task bodies (badging.airflow.tasks) import, and the heavy libraries they
# import in turn; tests/unit/badging/airflow/test_preload.py keeps the list whole.
MODULES = (
    "pandas",
    "great_expectations",
    "great_expectations.core.run_identifier",
    "great_expectations.data_context.types.base",
    "badging.reports.data_docs_site",
    "badging.core.errors",
    "badging.credly.hook",
    "badging.gates.revocation",
    "badging.gates.volume",
    "badging.lifecycle.adoption",
    "badging.lifecycle.check",
    "badging.lifecycle.revocation",
    "badging.lifecycle.sync",
    "badging.notify.alerts",
    "badging.notify.site_lists",
    "badging.outcomes.health",
    "badging.outcomes.keep",
    "badging.outcomes.task",
    "badging.pipeline.eligibility",
    "badging.pipeline.extract",
    "badging.pipeline.issue",
    "badging.pipeline.plan",
    "badging.pipeline.report",
    "badging.pipeline.validate",
    "badging.reports.data_docs",
    "badging.reports.evidence",
)


def preload() -> None:
    """Import MODULES; one that fails to import is left to the task that needs it (and its
    error to that task's log), never a reason for the scheduler not to start."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:  # the task that needs it raises it where it matters
            log.warning("could not preload %s: %s", name, type(error).__name__)


class PreloadingLocalExecutor(LocalExecutor):
    """Airflow's LocalExecutor, with MODULES imported before it forks its workers."""

    def start(self) -> None:
        preload()
        super().start()
