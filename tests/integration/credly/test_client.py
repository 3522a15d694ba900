"""The Credly client against the real sandbox over HTTP: every typed outcome, faults, pagination."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from badging.core.errors import (
    CredlyAuthError,
    CredlyInvalidRequest,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
)
from badging.credly import CredlyClient
from badging.credly.ratelimit import TokenBucket
from devstack.credly_sandbox.faults import FaultInjector, Verdict
from devstack.ports import free_port
from tests.fixtures.polling import wait_until
from tests.integration.credly.badges import ACTIVE, ARCHIVED, OTHER, request


def make_client(sandbox, token: str | None = None, **options) -> CredlyClient:
    # Short backoffs keep the suite fast; a private bucket keeps one test's pause from the next.
    settings = {
        "backoff_base": 0.05,
        "backoff_cap": 0.2,
        "read_timeout": 5,
        "limiter": TokenBucket(None),
        **options,
    }
    return CredlyClient(sandbox.base_url, token or sandbox.token, sandbox.org_id, **settings)


def seed_for(knobs: dict, script: list[tuple[str, Callable[[Verdict], bool]]]) -> int:
    """The first seed whose fault draws, replayed with the sandbox's own injector, give `script`."""
    for seed in range(10_000):
        injector = FaultInjector()
        injector.update({**knobs, "seed": seed})
        if all(wanted(injector.judge(method)) for method, wanted in script):
            return seed
    raise AssertionError("no seed gives that sequence of faults")


def failed(verdict: Verdict) -> bool:
    return verdict.status is not None and verdict.status >= 500


def clean(verdict: Verdict) -> bool:
    return verdict.status is None and not verdict.hang_s and not verdict.lose_response


# --- issuing ----------------------------------------------------------------------------------


def test_issue_creates_one_pending_badge(credly):
    result = make_client(credly).issue_badge(request(1))

    assert (result.outcome, result.recovered) == ("issued", False)
    assert result.badge.state == "pending"
    assert (result.badge.template_id, result.badge.issuer_earner_id) == (ACTIVE, "earner-1")
    [stored] = credly.badges()
    assert stored["id"] == result.badge.id
    # 2024-07-01 noon in Chicago (CDT, -0500) is 17:00 UTC, on the same calendar day.
    assert stored["issued_at"].startswith("2024-07-01T17:00:00")
    assert stored["issued_at_date"] == "2024-07-01"


def test_a_duplicate_is_already_issued_not_an_error(credly):
    client = make_client(credly)
    first = client.issue_badge(request(1))
    again = client.issue_badge(request(1))

    assert (again.outcome, again.recovered) == ("already_issued", False)
    assert again.badge.id == first.badge.id
    assert len(credly.badges()) == 1
    assert credly.state()["duplicates_refused"] == 1


def test_a_sibling_sharing_an_email_is_not_given_the_other_badge(credly):
    client = make_client(credly)
    client.issue_badge(request(1, email="parent@example.org"))
    with pytest.raises(CredlyInvalidRequest, match="another issuer_earner_id") as caught:
        client.issue_badge(request(2, email="parent@example.org"))
    assert caught.value.badge_key == "issuance#2"
    assert "parent@example.org" not in str(caught.value)


def test_an_invalid_field_is_a_permanent_error_without_pii(credly):
    with pytest.raises(CredlyInvalidRequest) as caught:
        make_client(credly).issue_badge(request(1, email="not-an-email"))
    error = caught.value
    assert (error.status, error.badge_key, error.retryable) == (422, "issuance#1", False)
    assert "recipient_email" in str(error)
    assert "not-an-email" not in str(error)
    assert credly.badges() == []


def test_an_unknown_template_is_a_permanent_error(credly):
    with pytest.raises(CredlyInvalidRequest) as caught:
        make_client(credly).issue_badge(request(1, template="no-such-template"))
    assert caught.value.status == 422


def test_an_archived_template_cannot_issue(credly):
    with pytest.raises(CredlyInvalidRequest, match="archived") as caught:
        make_client(credly).issue_badge(request(1, template=ARCHIVED))
    assert caught.value.status == 422


def test_a_revoked_token_stops_at_once_with_401(credly):
    credly.set_tokens(revoke=[credly.token])
    with pytest.raises(CredlyAuthError) as caught:
        make_client(credly).issue_badge(request(1))
    assert caught.value.status == 401
    assert credly.token not in str(caught.value)
    # Never hammered: one request, no retries.
    assert credly.state()["requests"] == {"401": 1}


def test_a_read_only_token_can_read_but_not_issue(credly):
    if not credly.read_only_token:
        pytest.skip("sandbox started without a read-only token")
    client = make_client(credly, token=credly.read_only_token)
    assert client.get_organization()["id"] == credly.org_id
    with pytest.raises(CredlyAuthError) as caught:
        client.issue_badge(request(1))
    assert caught.value.status == 403
    assert credly.badges() == []


def test_a_wrong_organization_is_not_found(credly):
    client = CredlyClient(
        credly.base_url, credly.token, "00000000-0000-4000-8000-000000000000",
        limiter=TokenBucket(None),
    )
    with pytest.raises(CredlyInvalidRequest) as caught:
        client.get_organization()
    assert caught.value.status == 404


# --- faults -----------------------------------------------------------------------------------


def test_throttling_honours_retry_after_then_succeeds(credly):
    knobs = {"throttle_rate": 0.5, "retry_after_s": 1}
    seed = seed_for(knobs, [("POST", lambda v: v.status == 429), ("POST", clean)])
    credly.set_faults(**knobs, seed=seed)

    start = time.monotonic()
    result = make_client(credly).issue_badge(request(1))
    took = time.monotonic() - start

    assert result.outcome == "issued"
    assert took >= 1.0
    assert credly.state()["requests"] == {"429": 1, "201": 1}


def test_a_retry_after_pauses_every_thread_sharing_the_bucket(credly):
    bucket = TokenBucket(None)
    clients = [make_client(credly, limiter=bucket) for _ in range(2)]
    # The server lets one request through a second: whoever is second in each second gets 429
    # with Retry-After 1 and must hold back the other thread too.
    credly.set_faults(rate_limit_rps=1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: clients[n % 2].issue_badge(request(n)), range(4)))
    assert [r.outcome for r in results] == ["issued"] * 4
    assert len(credly.badges()) == 4
    # With the pause shared, 429s stay few: roughly one per thread per second, not a storm.
    assert credly.state()["requests"].get("429", 0) <= 8


def test_client_pacing_keeps_under_the_server_limit(credly):
    credly.set_faults(rate_limit_rps=5)
    client = make_client(credly, limiter=TokenBucket(4, burst=1))
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda n: client.issue_badge(request(n)), range(10)))
    assert credly.state()["requests"] == {"201": 10}


def test_persistent_throttling_raises_throttled_after_the_last_attempt(credly):
    credly.set_faults(throttle_rate=1.0)
    with pytest.raises(CredlyThrottled) as caught:
        make_client(credly, max_attempts=3).issue_badge(request(1))
    assert caught.value.retryable
    assert credly.state()["requests"] == {"429": 3}
    assert credly.badges() == []


def test_a_500_on_issue_is_looked_up_then_retried_to_success(credly):
    knobs = {"error_rate": 0.5}
    seed = seed_for(knobs, [("POST", failed), ("GET", clean), ("POST", clean)])
    credly.set_faults(**knobs, seed=seed)

    result = make_client(credly).issue_badge(request(1))

    assert (result.outcome, result.recovered) == ("issued", False)
    assert len(credly.badges()) == 1
    counts = credly.state()["requests"]
    assert counts["201"] == 1
    assert counts["200"] == 1
    assert counts.get("500", 0) + counts.get("503", 0) == 1


def test_a_500_on_a_read_is_retried(credly):
    knobs = {"error_rate": 0.5}
    credly.set_faults(**knobs, seed=seed_for(knobs, [("GET", failed), ("GET", clean)]))
    assert make_client(credly).get_organization()["id"] == credly.org_id


def test_a_read_timeout_on_a_get_is_retried(credly):
    knobs = {"timeout_rate": 0.5, "timeout_hang_s": 0.6}
    seed = seed_for(knobs, [("GET", lambda v: v.hang_s > 0), ("GET", clean)])
    credly.set_faults(**knobs, seed=seed)
    start = time.monotonic()
    assert make_client(credly, read_timeout=0.3).get_organization()["id"] == credly.org_id
    assert time.monotonic() - start >= 0.3


def test_persistent_5xx_on_reads_raises_transient(credly):
    credly.set_faults(error_rate=1.0)
    with pytest.raises(CredlyTransient):
        make_client(credly, max_attempts=2).get_organization()


def test_a_lost_response_is_found_by_lookup_without_a_duplicate(credly):
    # Every write is committed and then answered with 502, as if a proxy lost the reply.
    credly.set_faults(lost_response_rate=1.0)

    result = make_client(credly).issue_badge(request(1))

    assert (result.outcome, result.recovered) == ("issued", True)
    [stored] = credly.badges()
    assert stored["id"] == result.badge.id
    state = credly.state()
    assert state["duplicates_refused"] == 0
    # One POST (the 502) and no second one: a second would be refused as a duplicate (422)
    # or make a second badge. The lookups answer 200: one, or two when a loaded machine
    # made the first outlast the client's read timeout.
    assert state["requests"]["502"] == 1
    assert set(state["requests"]) == {"502", "200"}


def test_a_read_timeout_on_issue_never_creates_a_second_badge(credly):
    # The first POST hangs past the client's read timeout, then commits anyway.
    knobs = {"timeout_rate": 0.5, "timeout_hang_s": 0.6}
    script = [("POST", lambda v: v.hang_s > 0), ("GET", clean), ("POST", clean)]
    credly.set_faults(**knobs, seed=seed_for(knobs, script))

    result = make_client(credly, read_timeout=0.3).issue_badge(request(1))

    assert result.outcome == "issued"
    # The hung request finishes its work on the server after the client gave up on it: the
    # sandbox counts a request once it answers it.
    wait_until(lambda: sum(credly.state()["requests"].values()) == len(script), timeout=5,
               interval=0.05, what="the sandbox to answer the hung POST too")
    [stored] = credly.badges()
    assert stored["id"] == result.badge.id


def test_many_lost_responses_across_threads_still_give_exactly_one_badge_each(credly, caplog):
    caplog.set_level(logging.INFO)
    credly.set_faults(lost_response_rate=0.5, error_rate=0.1, seed=7)
    client = make_client(credly, max_attempts=8)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda n: client.issue_badge(request(n)), range(30)))

    stored = {b["issuer_earner_id"]: b["id"] for b in credly.badges()}
    assert len(stored) == 30 == len(credly.badges())
    assert {f"earner-{n}": r.badge.id for n, r in enumerate(results)} == stored
    assert any(r.recovered for r in results)
    # Logs name badge keys, never the earner.
    text = caplog.text
    assert "issuance#" in text
    assert "@example.org" not in text
    assert "First" not in text


def test_connection_refused_is_transient_and_fast():
    port = free_port()
    client = CredlyClient(
        f"http://127.0.0.1:{port}/v1", "t", "o", max_attempts=2, backoff_base=0.01,
        limiter=TokenBucket(None),
    )
    with pytest.raises(CredlyTransient, match="could not connect"):
        client.issue_badge(request(1))


def test_a_lookup_that_cannot_run_leaves_the_outcome_unknown(credly):
    # Writes lose their response and every read fails: the badge may exist, and we must say so.
    knobs = {"lost_response_rate": 1.0}
    credly.set_faults(**knobs)
    client = make_client(credly, max_attempts=2)
    original = client.find_existing_badge

    def broken_lookup(req):
        credly.set_faults(error_rate=1.0)
        return original(req)

    client.find_existing_badge = broken_lookup
    with pytest.raises(CredlyUnknownOutcome) as caught:
        client.issue_badge(request(1))
    assert caught.value.badge_key == "issuance#1"
    assert len(credly.badges()) == 1


# --- lists ------------------------------------------------------------------------------------


def test_find_badges_follows_every_page(credly):
    client = make_client(credly)
    with ThreadPoolExecutor(8) as pool:
        results = pool.map(lambda n: client.issue_badge(request(n)), range(120))
        issued = {r.badge.id for r in results}
    before = credly.state()["requests"].get("200", 0)

    found = list(client.find_badges({"badge_template_id": ACTIVE}, sort="-issued_at"))

    assert {b["id"] for b in found} == issued
    assert len(found) == 120
    assert credly.state()["requests"]["200"] - before == 3  # pages of 50: 50, 50, 20


def test_find_badges_with_several_values_of_one_key(credly):
    client = make_client(credly)
    a = client.issue_badge(request(1)).badge
    b = client.issue_badge(request(2, template=OTHER)).badge
    client.issue_badge(request(3))
    found = client.find_badges(
        {"recipient_email": ["student1@example.org", "student2@example.org"]}
    )
    assert {x["id"] for x in found} == {a.id, b.id}


def test_list_templates_pages_and_filters_by_state(credly):
    credly.put_templates(
        [{"id": f"bulk-{i:03d}", "name": f"Bulk {i:03d}", "state": "active"} for i in range(60)]
    )
    client = make_client(credly)
    active = client.list_templates(state="active")
    ids = {t["id"] for t in active}
    assert {ACTIVE, OTHER} | {f"bulk-{i:03d}" for i in range(60)} <= ids
    assert ARCHIVED not in ids
    assert {t["id"] for t in client.list_templates(state="archived")} >= {ARCHIVED}
    assert len(client.list_templates()) >= 63


def test_get_template(credly):
    client = make_client(credly)
    template = client.get_template(ARCHIVED)
    assert (template["id"], template["state"]) == (ARCHIVED, "archived")
    assert client.get_template("no-such-template") is None


def test_get_organization_checks_the_token(credly):
    org = make_client(credly).get_organization()
    assert org["id"] == credly.org_id
    assert org["name"]


# --- one badge: get, look up, revoke, replace -------------------------------------------------


def test_get_badge_and_unknown_badge(credly):
    client = make_client(credly)
    issued = client.issue_badge(request(1)).badge
    assert client.get_badge(issued.id) == issued
    assert client.get_badge("00000000-0000-4000-8000-000000000000") is None


def test_find_existing_badge_ignores_revoked_badges(credly):
    client = make_client(credly)
    issued = client.issue_badge(request(1)).badge
    assert client.find_existing_badge(request(1)) == issued
    client.revoke_badge(issued.id, "entered in error", suppress_notification=True)
    assert client.find_existing_badge(request(1)) is None


def test_revoke_is_idempotent(credly):
    client = make_client(credly)
    issued = client.issue_badge(request(1)).badge
    revoked = client.revoke_badge(issued.id, "entered in error")
    assert (revoked.id, revoked.state) == (issued.id, "revoked")
    assert client.revoke_badge(issued.id, "entered in error").state == "revoked"
    with pytest.raises(CredlyInvalidRequest) as caught:
        client.revoke_badge("00000000-0000-4000-8000-000000000000", "x")
    assert caught.value.status == 404


def test_a_duplicate_of_a_revoked_badge_is_reported_plainly(credly):
    # Whether Credly counts a revoked badge as a duplicate is unconfirmed; play the strict reading.
    credly.set_behavior(revoked_blocks_reissue=True)
    client = make_client(credly)
    issued = client.issue_badge(request(1)).badge
    client.revoke_badge(issued.id, "entered in error")
    with pytest.raises(CredlyInvalidRequest, match="revoked badge"):
        client.issue_badge(request(1))


def test_replace_issues_a_new_badge_linked_to_the_old(credly):
    client = make_client(credly)
    old = client.issue_badge(request(1)).badge
    new = client.replace_badge(old.id, OTHER, date(2024, 8, 1), badge_key="issuance#1")
    assert new.id != old.id
    assert (new.template_id, new.issuer_earner_id) == (OTHER, "earner-1")
    assert client.get_badge(old.id).replacement_badge_id == new.id
    stored = {b["id"]: b for b in credly.badges()}
    assert stored[new.id]["replaces_badge_id"] == old.id


def test_a_name_correction_replace_whose_response_is_lost_is_recovered_once(credly):
    # The recipient corrections' replace (docs/recipient-corrections.md): same template, the
    # corrected name; the reply is lost, the old badge's link finds the new one, no second POST.
    client = make_client(credly)
    old = client.issue_badge(request(1)).badge
    credly.set_faults(lost_response_rate=1.0)
    new = client.replace_badge(old.id, ACTIVE, date(2024, 7, 1), last_name="Fixed",
                               badge_key="issuance#1")
    stored = {b["id"]: b for b in credly.badges()}
    assert set(stored) == {old.id, new.id}
    assert stored[old.id]["replacement_badge_id"] == new.id
    assert stored[new.id]["issued_to_last_name"] == "Fixed"
    assert stored[new.id]["recipient_email"] == "student1@example.org"
    assert credly.state()["duplicates_refused"] == 0


def test_a_replace_whose_response_is_lost_is_recovered(credly):
    client = make_client(credly)
    old = client.issue_badge(request(1)).badge
    credly.set_faults(lost_response_rate=1.0)
    new = client.replace_badge(old.id, OTHER, date(2024, 8, 1))
    assert new.template_id == OTHER
    assert len(credly.badges()) == 2
