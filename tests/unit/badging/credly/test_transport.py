"""Unit tests for badging.credly.transport: origin pinning, backoff, throttling, redaction."""

from __future__ import annotations

import logging
import time

import pytest
from tenacity import RetryCallState

from badging.core.errors import (
    ClaimLost,
    CredlyAuthError,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
)
from badging.credly import CredlyClient
from badging.credly.ratelimit import TokenBucket
from tests.unit.badging.credly.scripted import body, make_request, page, scripted_client


def test_next_page_links_never_leave_the_configured_host():
    client = CredlyClient("http://127.0.0.1:8765/v1", "t", "o", limiter=TokenBucket(None))
    assert client.transport.same_origin("http://evil.example/v1/x?page=2") == (
        "http://127.0.0.1:8765/v1/x?page=2"
    )
    assert client.transport.same_origin("/v1/x?page=3") == "http://127.0.0.1:8765/v1/x?page=3"


def failed_attempt(attempt: int, error: Exception) -> RetryCallState:
    """Tenacity's state after the given attempt failed with error."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def wait_of(client: CredlyClient):
    """The wait strategy the client's calls really retry with."""
    return client.transport.retrying("GET", "http://h/v1/x").wait


@pytest.mark.parametrize(
    "error", [CredlyTransient("5xx"), CredlyThrottled("429 without Retry-After")])
def test_backoff_is_full_jitter_under_a_doubling_cap(error):
    client = CredlyClient(
        "http://h/v1", "t", "o", backoff_base=0.5, backoff_cap=3, limiter=TokenBucket(None)
    )
    wait = wait_of(client)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)):
        delays = [wait(failed_attempt(attempt, error)) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # really spread, not a constant


def test_the_wait_is_what_retry_after_asks():
    client = CredlyClient("http://h/v1", "t", "o", backoff_cap=3, limiter=TokenBucket(None))
    throttled = CredlyThrottled("slow down", retry_after=12.0)
    assert wait_of(client)(failed_attempt(1, throttled)) == 12.0  # above the backoff cap too


def test_a_retry_after_pauses_the_shared_bucket_then_the_call_succeeds():
    limiter = TokenBucket(None)
    client, session = scripted_client(
        (429, body("Too many requests"), {"Retry-After": "0.2"}),
        (200, {"data": {"id": "o", "name": "Org"}}),
        limiter=limiter,
    )
    start = time.monotonic()
    assert client.get_organization()["id"] == "o"
    assert time.monotonic() - start >= 0.2
    assert len(session.calls) == 2



def test_a_long_retry_after_gives_up_at_once():
    limiter = TokenBucket(None)
    client, session = scripted_client(
        (429, body("Too many requests"), {"Retry-After": "3600"}),
        max_retry_after=0.05,
        limiter=limiter,
    )
    with pytest.raises(CredlyThrottled) as caught:
        client.issue_badge(make_request())
    assert caught.value.retry_after == 3600
    assert len(session.calls) == 1
    assert 0 < limiter.paused_for() <= 0.05



def test_urllib3_request_lines_lose_their_query_strings(caplog):
    CredlyClient("http://h/v1", "tok", "o", limiter=TokenBucket(None))
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.credly.com", 443, "GET",
        "/v1/organizations/o/badges?filter=recipient_email%3A%3Ajane%40example.org",
        "HTTP/1.1", 200, 512,
    )
    assert "/v1/organizations/o/badges?…" in caplog.text
    assert "jane" not in caplog.text


# Issue 27: a badge's public page names its earner, so its id is never logged.
BADGE_ID = "3f2b9c1e-8d4a-4f6b-9a7e-2c5d1e0f4b6a"


def test_urllib3_request_lines_lose_their_badge_ids(caplog):
    CredlyClient("http://h/v1", "tok", "o", limiter=TokenBucket(None))
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.credly.com", 443, "PUT",
        f"/v1/organizations/o/badges/{BADGE_ID}/revoke", "HTTP/1.1", 200, 512,
    )
    assert "/v1/organizations/o/badges/…/revoke" in caplog.text
    assert BADGE_ID not in caplog.text


def test_a_retried_revoke_names_its_badge_by_the_ledger_s_key_only(caplog):
    """Before: the retry warning logged the path with the badge id, and the key was
    `credly#<id>` in every warning and error."""
    caplog.set_level(logging.INFO, logger="badging")
    client, _ = scripted_client(
        (503, body("Service unavailable")),
        (200, {"data": {"id": BADGE_ID, "state": "pending"}}),      # not revoked yet
        (503, body("Service unavailable")),
        (200, {"data": {"id": BADGE_ID, "state": "pending"}}),
        max_attempts=2,
    )
    with pytest.raises(CredlyUnknownOutcome) as caught:
        client.revoke_badge(BADGE_ID, "corrected", badge_key="revocation#12")
    assert "retrying" in caplog.text
    assert "[badge revocation#12]" in caplog.text
    assert "/badges/…/revoke" in caplog.text
    assert BADGE_ID not in caplog.text
    assert "revocation#12" in str(caught.value)
    assert BADGE_ID not in str(caught.value)




# Issue 16, item 2: once a write may have landed, every way out of it says so.

def test_a_long_retry_after_after_a_lost_response_says_the_badge_may_exist():
    """Before: the CredlyThrottled escaped plain; the row went back to pending and the next
    claimer POSTed without looking."""
    client, _ = scripted_client(
        (502, body("Bad gateway")),                                  # POST: response lost
        page(),                                                      # lookup: nothing yet
        (429, body("Too many requests"), {"Retry-After": "3600"}),   # POST again: throttled
        max_retry_after=0.05, backoff_base=0.001, limiter=TokenBucket(None),
    )
    with pytest.raises(CredlyThrottled) as caught:
        client.issue_badge(make_request())
    assert caught.value.maybe_applied is True


def test_a_refused_lookup_after_a_lost_response_says_the_badge_may_exist():
    client, _ = scripted_client(
        (502, body("Bad gateway")),           # POST: response lost
        (401, body("Unauthorized")),          # lookup: the token was revoked meanwhile
        backoff_base=0.001, limiter=TokenBucket(None),
    )
    with pytest.raises(CredlyAuthError) as caught:
        client.issue_badge(make_request())
    assert caught.value.maybe_applied is True


def test_a_refusal_with_no_lost_response_before_it_is_not_maybe_applied():
    client, _ = scripted_client((429, body("Too many requests"), {"Retry-After": "3600"}),
                                max_retry_after=0.05, limiter=TokenBucket(None))
    with pytest.raises(CredlyThrottled) as caught:
        client.issue_badge(make_request())
    assert caught.value.maybe_applied is False


def test_the_fence_runs_before_every_post_and_stops_the_call():
    client, session = scripted_client((502, body("Bad gateway")), page(),
                                      backoff_base=0.001, limiter=TokenBucket(None))
    fenced = []

    def fence():
        fenced.append(len(session.calls))
        if len(fenced) == 2:
            raise ClaimLost("taken over")

    with pytest.raises(ClaimLost):
        client.issue_badge(make_request(), fence=fence)
    # Fenced before the first POST and before the second, which was never sent.
    assert fenced == [0, 2]
    assert [method for method, *_ in session.calls] == ["POST", "GET"]
