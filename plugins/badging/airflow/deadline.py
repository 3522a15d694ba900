"""The lateness deadline's reference: a run's logical date, except a backfill's (no deadline).

`DeadlineReference.DAGRUN_LOGICAL_DATE` gives every backfill run of an old day a deadline
already past when the run is created, and the DAG page shows each one "Missed" in red.
`DAGRUN_QUEUED_AT` would not keep 06:00: a scheduled run queued late (a scheduler restart,
max_active_runs reached) gets a later deadline, and a backfill whose runs wait in the queue
longer than the interval still reads missed. This reference keeps the logical date for every
other run (a scheduled run's is 00:00 in Chicago of the day processed) and gives a backfill's
run none: Airflow creates no deadline when a reference evaluates to None.

Airflow evaluates it in the scheduler and the API server (where runs are created) and finds
it through a plugin (plugins/badging_deadline.py: `deadline_references`); a deployment that
lacks the plugin cannot create runs of this DAG (docs/notifications.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk.definitions.deadline import BaseDeadlineReference

from badging.core.constants import RUN_TYPE_BACKFILL


class LogicalDateUnlessBackfill(BaseDeadlineReference):
    """A run's logical date, or None (no deadline) for a backfill's run."""

    required_kwargs = frozenset({"dag_id", "run_id"})

    def _evaluate_with(self, *, session: Any, dag_id: str, run_id: str,
                       **kwargs: Any) -> datetime | None:
        # Core imports inside: the DAG file imports this module when it is parsed.
        from airflow.models import DagRun
        from sqlalchemy import select

        row = session.execute(select(DagRun.logical_date, DagRun.run_type).where(
            DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one_or_none()
        if row is None or str(getattr(row.run_type, "value", row.run_type)) == RUN_TYPE_BACKFILL:
            return None
        return row.logical_date
