"""The append-only audit log: one row per decision or attempt, never student data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from badging.core import db
from badging.core.constants import Event
from badging.core.run import RunInfo


def run_params(run: RunInfo) -> dict[str, Any]:
    """Who writes an audit row: the run, its day and the task try."""
    return {"run_id": run.run_id, "logical_date": run.day, "task_id": run.task_id,
            "map_index": run.map_index, "try_number": run.try_number}


def record_decisions(conn: psycopg.Connection, run: RunInfo, events: Iterable[Event]) -> int:
    """Audit the staged rows whose decision is one of `events`; returns rows added."""
    params = run_params(run) | {"events": [str(e) for e in events]}
    # The calling stage just rewrote the decisions: planned on stale statistics, the
    # anti-join against the audit log turns quadratic in the day's rows.
    db.execute(conn, "core/staging/analyze.sql")
    return db.execute(conn, "core/audit/record_decisions.sql", params).rowcount
