"""Eligibility: whether each validated row earns a badge, or why not (docs/eligibility.md)."""

from __future__ import annotations

import logging
from datetime import date

from badging.core import audit, db
from badging.core.constants import PROGRAM_LAUNCH, Event
from badging.core.run import RunInfo

log = logging.getLogger(__name__)


def decide(run: RunInfo, *, program_launch: date = PROGRAM_LAUNCH,
           badging: str = db.BADGING_CONN_ID) -> dict[str, int]:
    """Apply the rules; audit each ineligible row. Returns counts: "eligible" and per reason."""
    params = {"run_id": run.run_id, "program_launch": program_launch}
    with db.connect(badging) as conn:
        db.execute(conn, "pipeline/eligibility/decide.sql", params)
        audit.record_decisions(conn, run, [Event.INELIGIBLE])
        counts = dict(db.execute(conn, "pipeline/eligibility/counts.sql", params).fetchall())
    log.info("eligibility: %s", counts or "no validated rows")
    return counts
