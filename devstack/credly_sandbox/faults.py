"""Fault injection for /v1: latency, 5xx, 429s, hangs, lost responses and a global rate limit."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from devstack.credly_sandbox.model import ApiError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Faults:
    """The knobs; every default means "no fault"."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after_s: float | None = None
    timeout_rate: float = 0.0
    timeout_hang_s: float = 30.0
    lost_response_rate: float = 0.0
    rate_limit_rps: float | None = None
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


KNOBS = tuple(field.name for field in fields(Faults))
_RATES = ("error_rate", "throttle_rate", "timeout_rate", "lost_response_rate")
_DURATIONS = ("latency_ms", "latency_jitter_ms", "timeout_hang_s")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ApiError(422, f"{name} must be a non-negative number")
    return float(value)


def parse_knobs(raw: Any) -> dict[str, Any]:
    """Validate a partial set of knobs (the JSON body of POST /_sandbox/faults)."""
    if not isinstance(raw, Mapping):
        raise ApiError(422, "faults must be a JSON object")
    unknown = sorted(set(raw) - set(KNOBS))
    if unknown:
        raise ApiError(422, f"unknown fault knobs: {', '.join(unknown)}")
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _RATES:
            clean[name] = _number(name, value)
            if clean[name] > 1:
                raise ApiError(422, f"{name} must be between 0 and 1")
        elif name in _DURATIONS:
            clean[name] = _number(name, value)
        elif name in ("retry_after_s", "rate_limit_rps"):
            number = None if value is None else _number(name, value)
            # A rate limit of 0 would refuse everything forever; read it as "no limit".
            clean[name] = None if name == "rate_limit_rps" and not number else number
        elif name == "seed":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ApiError(422, "seed must be an integer or null")
            clean[name] = value
    return clean


@dataclass(frozen=True)
class Verdict:
    """What the fault layer does to one request."""

    delay_s: float = 0.0
    # When set, answer with this status at once and never do the work.
    status: int | None = None
    retry_after: str | None = None
    # Wait this long before doing the work (a slow server; the client may give up first).
    hang_s: float = 0.0
    # Do the work and commit it, then answer 502 as if a proxy lost the upstream reply.
    lose_response: bool = False


class FaultInjector:
    """Draws a Verdict per /v1 request from the current knobs and a seedable RNG."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = Faults()
        self._rng = random.Random()
        self._tokens = 0.0
        self._refilled_at = time.monotonic()
        self.update((faults or Faults()).as_dict())

    def update(self, knobs: Mapping[str, Any]) -> Faults:
        """Apply validated knobs; omitted ones keep their value. Setting `seed` restarts the RNG."""
        self.faults = replace(self.faults, **knobs)
        if "seed" in knobs:
            self._rng = random.Random(self.faults.seed)
        if "rate_limit_rps" in knobs:
            self._tokens = self.faults.rate_limit_rps or 0.0
            self._refilled_at = time.monotonic()
        return self.faults

    def clear(self) -> Faults:
        return self.update(Faults().as_dict())

    def _take_token(self) -> bool:
        rps = self.faults.rate_limit_rps
        if not rps:
            return True
        moment = time.monotonic()
        # The bucket holds one second's worth, so a burst up to the limit passes.
        capacity = max(rps, 1.0)
        self._tokens = min(capacity, self._tokens + (moment - self._refilled_at) * rps)
        self._refilled_at = moment
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _hit(self, rate: float) -> bool:
        # Draw only for active knobs so a seeded run replays identically for the same traffic.
        return rate > 0 and self._rng.random() < rate

    def judge(self, method: str) -> Verdict:
        f = self.faults
        delay_s = f.latency_ms / 1000
        if f.latency_jitter_ms:
            delay_s += self._rng.uniform(-f.latency_jitter_ms, f.latency_jitter_ms) / 1000
        delay_s = max(delay_s, 0.0)
        if not self._take_token():
            return Verdict(delay_s=delay_s, status=429, retry_after="1")
        if self._hit(f.throttle_rate):
            retry_after = None if f.retry_after_s is None else str(math.ceil(f.retry_after_s))
            return Verdict(delay_s=delay_s, status=429, retry_after=retry_after)
        if self._hit(f.error_rate):
            return Verdict(delay_s=delay_s, status=self._rng.choice((500, 503)))
        hang_s = f.timeout_hang_s if self._hit(f.timeout_rate) else 0.0
        lose = method in WRITE_METHODS and self._hit(f.lost_response_rate)
        return Verdict(delay_s=delay_s, hang_s=hang_s, lose_response=lose)
