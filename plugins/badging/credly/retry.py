"""The retry policy's Credly-specific parts (tenacity): honour Retry-After, and give up on a
throttle longer than a worker slot should sleep."""

from __future__ import annotations

from tenacity import RetryCallState
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from badging.core.errors import CredlyThrottled


class wait_retry_after(wait_base):
    """Wait as long as a 429's Retry-After asks; otherwise as the fallback strategy says."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, CredlyThrottled) and error.retry_after is not None:
            return error.retry_after
        return self.fallback(retry_state)


class stop_when_throttled_longer_than(stop_base):
    """Stop when Credly throttles for longer than we will sleep in a worker slot."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        # Tenacity computes the wait before asking whether to stop.
        return isinstance(error, CredlyThrottled) and retry_state.upcoming_sleep > self.limit
