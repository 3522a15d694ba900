"""Unit tests for badging.credly.ratelimit: pace, burst, thread safety and the process-wide
pause."""

from __future__ import annotations

import threading
import time

import pytest

from badging.credly import ratelimit
from badging.credly.ratelimit import TokenBucket, default_burst, shared_limiter

# time.sleep can wake a hair early relative to time.monotonic on some kernels.
EPS = 0.01


def elapsed(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def test_unlimited_bucket_never_waits():
    bucket = TokenBucket(None)
    assert elapsed(lambda: [bucket.acquire() for _ in range(1000)]) < 0.2


def test_the_rate_is_kept():
    bucket = TokenBucket(20, burst=1)
    # The first token is there; the next ten come every 1/20 s.
    took = elapsed(lambda: [bucket.acquire() for _ in range(11)])
    assert 0.5 - EPS <= took < 0.9


def test_a_burst_is_served_at_once_then_the_rate_applies():
    bucket = TokenBucket(10, burst=5)
    assert elapsed(lambda: [bucket.acquire() for _ in range(5)]) < 0.05
    assert elapsed(bucket.acquire) >= 0.1 - EPS


def test_threads_share_the_rate():
    bucket = TokenBucket(50, burst=1)

    def worker():
        for _ in range(5):
            bucket.acquire()

    def run():
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # 20 tokens, 1 in hand: 19 more at 50/s whatever the number of threads.
    assert 19 / 50 - EPS <= elapsed(run) < 0.8


def test_a_pause_holds_every_thread():
    bucket = TokenBucket(None)
    released: list[float] = []
    lock = threading.Lock()

    def worker():
        bucket.acquire()
        with lock:
            released.append(time.monotonic())

    deadline = time.monotonic() + 0.3
    bucket.pause_until(deadline)
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(released) == 6
    assert min(released) >= deadline - EPS


def test_a_pause_set_by_one_thread_reaches_threads_already_waiting_for_tokens():
    bucket = TokenBucket(5, burst=1)
    bucket.acquire()  # empty the bucket: the next token is 0.2 s away
    released: list[float] = []

    thread = threading.Thread(target=lambda: (bucket.acquire(), released.append(time.monotonic())))
    thread.start()
    time.sleep(0.05)
    # A 429 on another thread while this one sleeps for its token: Retry-After 0.5 s.
    deadline = time.monotonic() + 0.5
    bucket.pause_until(deadline)
    thread.join()
    assert released[0] >= deadline - EPS


def test_a_pause_is_extended_never_shortened():
    bucket = TokenBucket(None)
    now = time.monotonic()
    bucket.pause_until(now + 0.3)
    bucket.pause_until(now + 0.1)
    assert bucket.paused_for() > 0.2
    bucket.wait_if_paused()
    assert time.monotonic() >= now + 0.3 - EPS


def test_no_pause_means_no_wait():
    bucket = TokenBucket(None)
    assert bucket.paused_for() == 0
    assert bucket.wait_if_paused() == 0


@pytest.mark.parametrize(
    ("rate", "burst", "complaint"), [(0, 1, "rate"), (-1, 1, "rate"), (1, 0, "burst")]
)
def test_bad_settings_are_refused(rate, burst, complaint):
    with pytest.raises(ValueError, match=complaint):
        TokenBucket(rate, burst)


def test_default_burst_is_about_one_second():
    assert default_burst(None) == 1
    assert default_burst(0.5) == 1
    assert default_burst(12.7) == 12


def test_every_caller_in_a_process_gets_the_same_bucket(monkeypatch):
    monkeypatch.setattr(ratelimit, "_shared", None)
    first = shared_limiter(10)
    assert shared_limiter(10) is first
    assert (first.rate_per_s, first.burst) == (10, 10)
    # A different rate re-paces the one bucket rather than adding a second.
    first.pause_until(time.monotonic() + 60)
    again = shared_limiter(4, burst=2)
    assert again is first
    assert (again.rate_per_s, again.burst) == (4, 2)
    assert again.paused_for() > 50  # re-pacing keeps a pause in force
    assert shared_limiter(None).rate_per_s is None
