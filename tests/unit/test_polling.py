"""tests/fixtures/polling.wait_until: the value it returns, the deadline, a futile wait."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.polling import WaitTimedOut, wait_until


def test_returns_the_first_truthy_value_and_calls_no_more():
    answers = iter([None, 0, [], {"id": 7}, {"id": 8}])
    assert wait_until(lambda: next(answers), timeout=5, what="an answer", interval=0) == {"id": 7}
    assert next(answers) == {"id": 8}


def test_gives_up_at_the_deadline_and_says_what_it_waited_for():
    calls = []
    started = time.monotonic()
    with pytest.raises(WaitTimedOut, match=r"after 0.3 s waiting for the badge to appear"):
        wait_until(lambda: calls.append(1), timeout=0.3, what="the badge to appear",
                   interval=0.05)
    took = time.monotonic() - started
    assert 0.3 <= took < 2
    # Polled until the deadline, not once: the last look is at (or just past) it.
    assert len(calls) >= 3


def test_an_error_in_the_condition_ends_the_wait_at_once():
    def died():
        raise AssertionError("the run ended")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="the run ended"):
        wait_until(died, timeout=60, what="never")
    assert time.monotonic() - started < 1
