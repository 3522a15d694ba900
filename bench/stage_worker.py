"""Run one pipeline stage in a fresh process and print its wall time and peak RSS as JSON.

`python -m bench.stage_worker SPEC` from the repo root, with the stack's Airflow environment
(the connections ctims_db, badging_db and credly_api): each stage is its task body in
badging.airflow.tasks, called as Airflow calls it, so the bench times what a task does.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from badging.airflow import tasks
from badging.core.run import RunInfo
from devstack.task_context import task_context


def _extract(context: dict[str, Any], spec: dict[str, Any]) -> int:
    """tasks.extract, but over the spec's window: the bench cuts windows that hold an exact
    number of rows, where the task takes whole days from its `date` and `lookback_days`."""
    from badging.pipeline.extract import extract

    run = replace(RunInfo.from_context(context),
                  window_start=datetime.fromisoformat(spec["window_start"]),
                  window_end=datetime.fromisoformat(spec["window_end"]))
    return extract(run)


def _validate(context: dict[str, Any]) -> dict[str, Any]:
    try:
        return tasks.validate(context)
    except AirflowFailException as error:
        # Raised after everything is recorded: the work was done, the feed judged broken.
        return {"data_quality_error": str(error)}


def _issue(spec: dict[str, Any]) -> dict[str, int]:
    """The batches one after another, each its own task: what `dags test` does."""
    totals: Counter[str] = Counter()
    for index, batch in enumerate(spec["batches"]):
        context = task_context("issue", run_id=spec["run_id"], map_index=index,
                               date=spec["day"], **spec["params"])
        totals.update(tasks.issue(context, batch))
    return dict(totals)


def run_stage(spec: dict[str, Any]) -> Any:
    """Call the stage's task body with a context for the spec's run, day and params."""
    stage = spec["stage"]
    context = task_context(stage, run_id=spec["run_id"], date=spec["day"], **spec["params"])
    if stage == "extract":
        return _extract(context, spec)
    if stage == "validate":
        return _validate(context)
    if stage == "eligibility":
        tasks.decide_eligibility(context)
        return context["ti"].pushed[tasks.DECIDED_KEY]
    if stage == "plan":
        return tasks.plan(context)
    if stage == "issue":
        return _issue(spec)
    raise SystemExit(f"unknown stage {stage!r}")


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries that over from the parent
    across fork and exec, so it would report the bench driver's peak, not the stage's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    spec = json.loads(sys.argv[1])
    # A task process has Airflow loaded before its body runs: so does this one, untimed.
    from airflow.sdk import BaseHook  # noqa: F401

    started = time.perf_counter()
    result = run_stage(spec)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "result": result}))


if __name__ == "__main__":
    main()
