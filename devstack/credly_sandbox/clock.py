"""The sandbox's clock: Credly's "now", which a test may move (POST /_sandbox/clock).

Credly expires a badge when its expires_at passes; a test cannot wait years, so the sandbox
reads the time here, the real clock plus an offset a test sets. Every stamp the sandbox writes
(created_at, state changes, earners' decisions, expiry) comes from it. `/_sandbox/reset` puts
it back to the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def set_now(moment: datetime) -> datetime:
    """From now on the clock reads `moment` (and runs on from there)."""
    global _offset
    _offset = moment - datetime.now(UTC)
    return now()


def advance(seconds: float) -> datetime:
    global _offset
    _offset += timedelta(seconds=seconds)
    return now()


def reset() -> datetime:
    global _offset
    _offset = timedelta(0)
    return now()


def as_dict() -> dict[str, object]:
    return {"now": now().isoformat(), "offset_s": _offset.total_seconds()}
