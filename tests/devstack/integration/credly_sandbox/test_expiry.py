"""The sandbox follows Credly on what a badge says (issue 31; docs/credly-api.md): template-level
expiry, `expires_at` (a time, null for the template's default, false for never), evidence
types, and expiry reached on the sandbox's clock, which tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

PLAIN = "expiry-plain"
THREE_YEARS = "expiry-three-years"
TEMPLATES = [
    {"id": PLAIN, "name": "CPR", "state": "active"},
    # Credly's "Template Level Expiration Dates": badges expire this long after issued_at
    # unless issued with an expiry of their own.
    {"id": THREE_YEARS, "name": "ServSafe", "state": "active", "expires_in_days": 1095},
]
ISSUED_AT = "2024-03-05 12:00:00 -0600"  # 18:00 UTC
_serial = count()


def body(**overrides):
    n = next(_serial)
    fields = {"recipient_email": f"expiry{n}@example.org", "badge_template_id": PLAIN,
              "issued_to_first_name": "Test", "issued_to_last_name": f"Earner{n}",
              "issued_at": ISSUED_AT, "issuer_earner_id": f"expiry-{n}"}
    return fields | overrides


@pytest.fixture
def api(sandbox):
    sandbox.put_templates(TEMPLATES)
    return sandbox.client()


def post(sandbox, api, **overrides):
    return api.post(f"{sandbox.org_url}/badges", json=body(**overrides))


def issued(sandbox, api, **overrides):
    response = post(sandbox, api, **overrides)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_a_template_s_default_expiry_applies_when_expires_at_is_null_or_left_out(sandbox, api):
    # Credly: "If left null the badge template's default expiration is used."
    for how in ({}, {"expires_at": None}):
        badge = issued(sandbox, api, badge_template_id=THREE_YEARS, **how)
        assert badge["expires_at"] == "2027-03-05T18:00:00.000Z"
    assert issued(sandbox, api)["expires_at"] is None  # a template without one
    listed = api.get(f"{sandbox.org_url}/badge_templates/{THREE_YEARS}").json()["data"]
    assert listed["expires_in_days"] == 1095


def test_an_expiry_of_the_badge_s_own_wins_and_false_means_never(sandbox, api):
    own = issued(sandbox, api, badge_template_id=THREE_YEARS,
                 expires_at="2026-03-05 23:59:59 -0600")
    assert own["expires_at"] == "2026-03-06T05:59:59.000Z"
    # "Set this to false to indicate 'no expiration'", whatever the template says.
    assert issued(sandbox, api, badge_template_id=THREE_YEARS,
                  expires_at=False)["expires_at"] is None


@pytest.mark.parametrize("expires_at", ["soon", "2024-03-05 11:00:00 -0600", True, 42])
def test_an_invalid_expires_at_is_refused(sandbox, api, expires_at):
    response = post(sandbox, api, expires_at=expires_at)
    assert response.status_code == 422, response.text
    assert "expires_at" in response.json()["data"]["message"]
    assert sandbox.badges() == []


def test_evidence_of_each_type_is_kept_as_sent(sandbox, api):
    evidence = [
        {"type": "IdEvidence", "title": "CTIMS certification id", "description": "entry",
         "id": "4711"},
        {"type": "PlainTextEvidence", "title": "Course work", "description": "Welding"},
        {"type": "UrlEvidence", "name": "Program", "url": "https://example.org/p"},
    ]
    badge = issued(sandbox, api, evidence=evidence)
    assert badge["evidence"] == evidence
    assert api.get(f"{sandbox.org_url}/badges/{badge['id']}").json()["data"][
        "evidence"] == evidence


@pytest.mark.parametrize("evidence", [
    "free text",
    ["free text"],
    [{"type": "VideoEvidence", "title": "x"}],
    [{"type": "IdEvidence", "title": "CTIMS certification id"}],
    [{"type": "PlainTextEvidence", "title": "Course work", "description": "  "}],
    [{"type": "UrlEvidence", "name": "Program", "url": "ftp://example.org"}],
])
def test_malformed_evidence_is_refused(sandbox, api, evidence):
    response = post(sandbox, api, evidence=evidence)
    assert response.status_code == 422, response.text
    assert "evidence" in response.json()["data"]["message"].lower()
    assert sandbox.badges() == []


def test_a_badge_expires_when_the_sandbox_s_clock_passes_its_expires_at(sandbox, api):
    badge = issued(sandbox, api, expires_at="2030-01-31 23:59:59 -0600")
    never = issued(sandbox, api, expires_at=False)
    sandbox.set_clock(datetime(2030, 2, 1, 5, 59, 58, tzinfo=UTC))
    assert api.get(f"{sandbox.org_url}/badges/{badge['id']}").json()["data"]["state"] == "pending"
    clock = sandbox.advance_clock(2)
    assert clock["now"] >= "2030-02-01T05:59:59"
    seen = api.get(f"{sandbox.org_url}/badges/{badge['id']}").json()["data"]
    assert seen["state"] == "expired"
    assert seen["state_updated_at"] == "2030-02-01T05:59:59.000Z"
    listed = api.get(f"{sandbox.org_url}/badges", params={"filter": "state::expired"}).json()
    assert [b["id"] for b in listed["data"]] == [badge["id"]]
    assert api.get(f"{sandbox.org_url}/badges/{never['id']}").json()["data"]["state"] == \
        "pending"
    # New badges are stamped on the sandbox's clock too; reset goes back to the real one.
    assert issued(sandbox, api)["created_at"].startswith("2030-02-01")
    assert sandbox.reset()["clock"]["offset_s"] == 0


def test_by_default_an_expired_badge_does_not_block_earning_it_again(sandbox, api):
    first = issued(sandbox, api, recipient_email="renew@example.org", issuer_earner_id="renew",
                   expires_at="2025-03-05 23:59:59 -0600")
    live = body(recipient_email="renew@example.org", issuer_earner_id="renew",
                issued_at="2025-02-01 12:00:00 -0600")
    # Still live (the real clock is past 2025, so move it back): a duplicate, as always.
    sandbox.set_clock(datetime(2025, 3, 1, tzinfo=UTC))
    refused = api.post(f"{sandbox.org_url}/badges", json=live)
    assert refused.status_code == 422
    assert "already has this badge" in refused.json()["data"]["message"]
    sandbox.set_clock(datetime(2025, 3, 6, 6, tzinfo=UTC))
    renewed = api.post(f"{sandbox.org_url}/badges", json=live)
    assert renewed.status_code == 201, renewed.text
    states = {b["id"]: b["state"] for b in sandbox.badges()}
    assert states == {first["id"]: "expired", renewed.json()["data"]["id"]: "pending"}


def test_switched_on_an_expired_badge_still_blocks(sandbox, api):
    sandbox.set_behavior(expired_blocks_reissue=True)
    issued(sandbox, api, recipient_email="stuck@example.org", issuer_earner_id="stuck",
           expires_at="2025-03-05 23:59:59 -0600")
    sandbox.set_clock(datetime.now(UTC) + timedelta(days=1))
    again = post(sandbox, api, recipient_email="stuck@example.org", issuer_earner_id="stuck",
                 issued_at="2025-04-01 12:00:00 -0500")
    assert again.status_code == 422
    assert sandbox.state()["badges"] == {"expired": 1}


def test_the_clock_control_refuses_what_it_does_not_understand(sandbox):
    import requests

    for bad in ({}, {"now": "tomorrow"}, {"advance_s": "1"}, {"now": "x", "advance_s": 1}):
        response = requests.post(f"{sandbox.root_url}/_sandbox/clock", json=bad, timeout=10)
        assert response.status_code == 422, bad
    assert requests.delete(f"{sandbox.root_url}/_sandbox/clock", timeout=10).json()[
        "offset_s"] == 0
