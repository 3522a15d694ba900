"""Earners in the sandbox: a share of pending badges is accepted or rejected after a delay.

Credly's earners decide in its web app, which the sandbox has not got. The knob (POST
/_sandbox/earners) says what share of badges their earners accept, what share they reject
and how long after the badge's creation; the rest stay pending for good. Which badge does
what follows from its id (a hash), so a test can predict it and a rerun repeats it.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from devstack.credly_sandbox.model import ApiError


@dataclass(frozen=True)
class Earners:
    """Every default means "earners never act" (badges stay pending, as before issue 14)."""

    accept_share: float = 0.0
    reject_share: float = 0.0
    delay_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def active(self) -> bool:
        return self.accept_share > 0 or self.reject_share > 0

    def decision(self, badge_id: str) -> str | None:
        """``accepted``, ``rejected`` or None (never acts) for this badge, from its id."""
        draw = int(hashlib.sha256(badge_id.encode()).hexdigest()[:8], 16) / 2**32
        if draw < self.accept_share:
            return "accepted"
        if draw < self.accept_share + self.reject_share:
            return "rejected"
        return None


def parse_earners(raw: Any, current: Earners) -> Earners:
    """Validate a partial knob set (the JSON body of POST /_sandbox/earners)."""
    if not isinstance(raw, Mapping):
        raise ApiError(422, "earners must be a JSON object")
    unknown = sorted(set(raw) - set(asdict(current)))
    if unknown:
        raise ApiError(422, f"unknown earner knobs: {', '.join(unknown)}")
    values = current.as_dict()
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ApiError(422, f"{name} must be a non-negative number")
        values[name] = float(value)
    earners = Earners(**values)
    if earners.accept_share + earners.reject_share > 1:
        raise ApiError(422, "accept_share + reject_share must be at most 1")
    return earners


class EarnerQueue:
    """Badges whose earners have not decided yet, in creation order (so the due ones are at
    the front): each read of the API first lets the due earners act, at O(1) per badge."""

    def __init__(self) -> None:
        self._waiting: deque[tuple[datetime, str]] = deque()

    def add(self, created: datetime, badge_id: str) -> None:
        self._waiting.append((created, badge_id))

    def clear(self) -> None:
        self._waiting.clear()

    def due(self, earners: Earners, now: datetime) -> list[tuple[str, str, datetime]]:
        """(badge id, its new state, when) for every badge whose delay has passed; badges
        whose earners never act leave the queue too. Nothing leaves while earners are idle."""
        if not earners.active:
            return []
        delay = timedelta(seconds=earners.delay_s)
        acted = []
        while self._waiting and self._waiting[0][0] + delay <= now:
            created, badge_id = self._waiting.popleft()
            state = earners.decision(badge_id)
            if state is not None:
                acted.append((badge_id, state, created + delay))
        return acted
