"""The pipeline's wall clock: now, which tests and drills may set (docs/lifecycle.md).

The lifecycle's grace is measured in nights and hours of real time, and a night counts only
when a run processes the latest complete day. Both read this clock, so a test or a drill can
replay a week of nights in minutes by setting BADGING_CLOCK (an ISO-8601 moment with its
offset) for each run. A deployment never sets it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

CLOCK_ENV = "BADGING_CLOCK"


def now() -> datetime:
    """The current moment, timezone-aware.

    Raises:
        ValueError: BADGING_CLOCK is set but is not an ISO-8601 moment with an offset.
    """
    fixed = os.environ.get(CLOCK_ENV, "").strip()
    if not fixed:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(fixed)
    if moment.tzinfo is None:
        raise ValueError(f"{CLOCK_ENV} must carry its offset, got {fixed!r}")
    return moment
