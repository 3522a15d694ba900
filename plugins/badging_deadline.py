"""Registers the DAG's lateness deadline reference (badging/airflow/deadline.py) with Airflow.

Airflow finds a custom deadline reference only through a plugin's `deadline_references`,
in the scheduler and the API server, which create the runs and their deadlines. Cheap to
import: the reference's module imports nothing from Airflow's core until it is evaluated.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from badging.airflow.deadline import LogicalDateUnlessBackfill


class BadgingDeadlinePlugin(AirflowPlugin):
    """The lateness deadline of credly_badge_issuance: none for backfill runs."""

    name = "badging_deadline"
    deadline_references: ClassVar[list[Any]] = [LogicalDateUnlessBackfill]
