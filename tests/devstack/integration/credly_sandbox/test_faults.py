"""Fault injection and runtime controls: 429s, 5xx, lost responses, hangs, rate limit, tokens."""

from __future__ import annotations

import math
import time
from itertools import count

import pytest
import requests

from tests.devstack.integration.credly_sandbox.contract import EXPIRED_OFF
from tests.fixtures.polling import wait_until

TEMPLATE = "faults-active"
_serial = count()


def badge_body():
    n = next(_serial)
    return {
        "recipient_email": f"fault{n}@example.org",
        "badge_template_id": TEMPLATE,
        "issued_to_first_name": "Fault",
        "issued_to_last_name": f"Earner{n}",
        "issued_at": "2024-03-05 14:30:00 -0600",
        "issuer_earner_id": f"fault-{n}",
    }


@pytest.fixture
def api(sandbox):
    sandbox.put_templates([{"id": TEMPLATE, "name": "Faults", "state": "active"}])
    return sandbox.client()


def post_badge(sandbox, api, **kwargs):
    return api.post(f"{sandbox.org_url}/badges", json=badge_body(), **kwargs)


def test_faults_endpoint_changes_only_the_named_knobs(sandbox):
    first = sandbox.set_faults(error_rate=0.25, latency_ms=5)
    assert first["error_rate"] == 0.25
    assert first["latency_ms"] == 5
    second = sandbox.set_faults(throttle_rate=0.5)
    assert second["error_rate"] == 0.25
    assert second["throttle_rate"] == 0.5
    assert set(second) == {
        "latency_ms", "latency_jitter_ms", "error_rate", "throttle_rate", "retry_after_s",
        "timeout_rate", "timeout_hang_s", "lost_response_rate", "rate_limit_rps", "seed",
    }  # fmt: skip
    assert sandbox.state()["faults"] == second
    for bad in ({"error_rate": 2}, {"latency_ms": -1}, {"colour": "red"}, {"seed": "x"}):
        response = requests.post(f"{sandbox.root_url}/_sandbox/faults", json=bad)
        assert response.status_code == 422
        assert response.json()["data"]["message"]


def test_behavior_endpoint_sets_validates_and_restores_switches(sandbox):
    assert requests.get(f"{sandbox.root_url}/_sandbox/behavior").json() == {
        "revoked_blocks_reissue": False
    } | EXPIRED_OFF
    switched = sandbox.set_behavior(revoked_blocks_reissue=True)
    assert switched == {"revoked_blocks_reissue": True} | EXPIRED_OFF
    assert sandbox.state()["behavior"] == {"revoked_blocks_reissue": True} | EXPIRED_OFF
    for bad in ({"revoked_blocks_reissue": 1}, {"revoked_blocks_reissue": "yes"}, {"x": True}, []):
        response = requests.post(f"{sandbox.root_url}/_sandbox/behavior", json=bad)
        assert response.status_code == 422
        assert response.json()["data"]["message"]
    assert sandbox.state()["behavior"] == {"revoked_blocks_reissue": True} | EXPIRED_OFF
    # Reset and DELETE both go back to the launch setting (off for the session sandbox).
    assert sandbox.reset()["behavior"] == {"revoked_blocks_reissue": False} | EXPIRED_OFF
    sandbox.set_behavior(revoked_blocks_reissue=True)
    assert sandbox.restore_behavior() == {"revoked_blocks_reissue": False} | EXPIRED_OFF


def test_throttle_with_retry_after(sandbox, api):
    sandbox.set_faults(throttle_rate=1, retry_after_s=2)
    response = post_badge(sandbox, api)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["data"]["message"]
    assert sandbox.badges() == []


def test_throttle_without_retry_after(sandbox, api):
    sandbox.set_faults(throttle_rate=1, retry_after_s=None)
    response = post_badge(sandbox, api)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_server_errors_do_no_work(sandbox, api):
    sandbox.set_faults(error_rate=1)
    statuses = {post_badge(sandbox, api).status_code for _ in range(20)}
    assert statuses <= {500, 503}
    assert sandbox.badges() == []
    assert sum(sandbox.state()["requests"].values()) == 20


def test_seed_makes_faults_reproducible(sandbox, api):
    def run():
        sandbox.set_faults(error_rate=0.5, throttle_rate=0.2, seed=1234)
        return [api.get(sandbox.org_url).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert len(set(first)) > 1


def test_lost_response_commits_the_badge(sandbox, api):
    sandbox.set_faults(lost_response_rate=1)
    body = badge_body()
    response = api.post(f"{sandbox.org_url}/badges", json=body)
    assert response.status_code == 502
    assert response.json()["data"]["message"]
    [badge] = sandbox.badges()
    assert badge["issuer_earner_id"] == body["issuer_earner_id"]
    # A client that looks the badge up after the 502 finds it; reads are never lost.
    lookup = api.get(
        f"{sandbox.org_url}/badges",
        params={"filter": f"recipient_email::{body['recipient_email']}"},
    )
    assert lookup.status_code == 200
    assert [found["id"] for found in lookup.json()["data"]] == [badge["id"]]
    # And a blind retry is refused as the duplicate it is.
    sandbox.clear_faults()
    retry = api.post(f"{sandbox.org_url}/badges", json=body)
    assert retry.status_code == 422
    assert "already has this badge" in retry.json()["data"]["message"]


def test_timeout_hangs_then_does_the_work(sandbox, api):
    sandbox.set_faults(timeout_rate=1, timeout_hang_s=0.6)
    body = badge_body()
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(f"{sandbox.org_url}/badges", json=body, timeout=0.2)
    # The client gave up, but the server goes on and commits once the hang is over.
    stored = wait_until(sandbox.badges, timeout=5, interval=0.05, what="the hung POST's badge")
    assert [badge["recipient_email"] for badge in stored] == [body["recipient_email"]]

    started = time.monotonic()
    assert post_badge(sandbox, api).status_code == 201
    assert time.monotonic() - started >= 0.55


def test_latency_applies_to_v1_only(sandbox, api):
    sandbox.set_faults(latency_ms=150)
    started = time.monotonic()
    assert api.get(sandbox.org_url).status_code == 200
    assert time.monotonic() - started >= 0.14
    started = time.monotonic()
    sandbox.state()
    assert time.monotonic() - started < 0.14


def test_sandbox_controls_are_never_faulted(sandbox, api):
    sandbox.set_faults(error_rate=1, throttle_rate=1)
    assert sandbox.state()["faults"]["error_rate"] == 1
    assert requests.get(f"{sandbox.root_url}/_sandbox/health").status_code == 200


def test_rate_limit_refuses_beyond_the_bucket(sandbox, api):
    sandbox.set_faults(rate_limit_rps=5)
    started = time.monotonic()
    responses = [api.get(sandbox.org_url) for _ in range(15)]
    elapsed = time.monotonic() - started
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    # A full bucket of 5, plus whatever refilled while the requests ran on a slow machine.
    assert 5 <= len(ok) <= 5 + math.ceil(elapsed * 5)
    assert len(ok) + len(limited) == 15
    assert {r.headers["Retry-After"] for r in limited} == {"1"}
    # What the header promises, tested as a client would use it: wait that long, then retry.
    time.sleep(1.0)
    assert api.get(sandbox.org_url).status_code == 200


def test_revoked_token_gets_401_from_then_on(sandbox, api):
    assert post_badge(sandbox, api).status_code == 201
    sandbox.set_tokens(revoke=[sandbox.token])
    response = post_badge(sandbox, api)
    assert response.status_code == 401
    assert response.json()["data"]["message"]
    sandbox.set_tokens(add={"fresh-token": "read_write"})
    assert post_badge(sandbox, sandbox.client("fresh-token")).status_code == 201
    sandbox.set_tokens(add={"fresh-token": "read_only"})
    assert post_badge(sandbox, sandbox.client("fresh-token")).status_code == 403


def test_state_counts_requests_by_status(sandbox, api):
    post_badge(sandbox, api)
    api.get(f"{sandbox.org_url}/badges/missing")
    sandbox.set_faults(throttle_rate=1)
    api.get(sandbox.org_url)
    state = sandbox.state()
    assert state["requests"] == {"201": 1, "404": 1, "429": 1}
    assert state["badges"] == {"pending": 1}
