"""A process-wide token bucket with a shared pause: all Credly calls of a process keep one pace."""

from __future__ import annotations

import logging
import math
import threading
import time

log = logging.getLogger(__name__)


class TokenBucket:
    """Thread-safe token bucket plus a pause that every thread sharing the bucket honours.

    ``acquire()`` takes one token, sleeping until one is due. A caller that is told to back
    off (HTTP 429 with Retry-After) calls ``pause_until()``; from then on every ``acquire()``
    in the process waits until the deadline, so one throttled thread slows all of them.

    Tokens are reserved under the lock and waited for outside it: the count may go negative,
    which queues callers in arrival order without holding the lock while sleeping.

    Args:
        rate_per_s: tokens added per second; None means no rate limit (the pause still works).
        burst: most tokens that can accumulate while idle (at least 1).
    """

    def __init__(self, rate_per_s: float | None, burst: int = 1) -> None:
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._configure(rate_per_s, burst)

    def _configure(self, rate_per_s: float | None, burst: int) -> None:
        if rate_per_s is not None and rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive, or None for no limit")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()

    def reconfigure(self, rate_per_s: float | None, burst: int = 1) -> None:
        """Change the rate and burst in place; threads already waiting keep their reservations.

        Args:
            rate_per_s: new rate, or None for unlimited.
            burst: new burst size.

        Raises:
            ValueError: if the rate is not positive or the burst is below 1.
        """
        with self._lock:
            self._configure(rate_per_s, burst)

    def acquire(self) -> float:
        """Take one token, blocking while the process is paused or the bucket is empty.

        Returns:
            Seconds spent waiting (pause plus rate), useful for logs and metrics.
        """
        waited = self.wait_if_paused()
        with self._lock:
            if self.rate_per_s is None:
                return waited
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= 1.0
            delay = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if delay > 0:
            time.sleep(delay)
            waited += delay
        # A 429 may have arrived on another thread while this one slept for its token.
        return waited + self.wait_if_paused()

    def pause_until(self, deadline: float) -> None:
        """Hold every ``acquire()`` of this bucket until ``deadline``, a ``time.monotonic()`` value.

        A pause is only ever extended, never shortened, so concurrent 429s keep the longest wait.

        Args:
            deadline: the monotonic time at which calls may resume.
        """
        with self._lock:
            if deadline > self._paused_until:
                self._paused_until = deadline

    def paused_for(self) -> float:
        """Return the seconds left in the current pause (0 when not paused)."""
        with self._lock:
            return max(0.0, self._paused_until - time.monotonic())

    def wait_if_paused(self) -> float:
        """Block until no pause is in force.

        Returns:
            Seconds spent waiting.
        """
        waited = 0.0
        # Loop: another thread may extend the pause while this one sleeps.
        while (remaining := self.paused_for()) > 0:
            time.sleep(remaining)
            waited += remaining
        return waited


_shared: TokenBucket | None = None
_shared_lock = threading.Lock()


def default_burst(rate_per_s: float | None) -> int:
    """Return the burst used when none is configured: about one second's worth of tokens.

    Args:
        rate_per_s: the configured rate, or None.

    Returns:
        A burst of at least 1.
    """
    if rate_per_s is None:
        return 1
    return max(1, math.floor(rate_per_s))


def shared_limiter(rate_per_s: float | None, burst: int | None = None) -> TokenBucket:
    """Return the process's one token bucket, creating or re-pacing it as asked.

    Every Credly client in a process shares this bucket, so threads and batches in one worker
    together stay under the configured ceiling and all honour a Retry-After pause. If a caller
    asks for a different rate, the bucket is re-paced rather than duplicated: two buckets
    would double the real rate.

    Args:
        rate_per_s: requests per second for the whole process, or None for no limit.
        burst: tokens that may be spent at once after idling; default about one second's worth.

    Returns:
        The shared TokenBucket.
    """
    global _shared
    burst = burst if burst is not None else default_burst(rate_per_s)
    with _shared_lock:
        if _shared is None:
            _shared = TokenBucket(rate_per_s, burst)
        elif (_shared.rate_per_s, _shared.burst) != (rate_per_s, burst):
            log.info(
                "Re-pacing the shared Credly rate limiter: %s/s burst %s -> %s/s burst %s",
                _shared.rate_per_s, _shared.burst, rate_per_s, burst,
            )
            _shared.reconfigure(rate_per_s, burst)
        return _shared
