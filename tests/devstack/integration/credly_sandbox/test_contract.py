"""The sandbox keeps the Credly contract over real HTTP: auth, envelopes, validation, duplicates."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import requests

from tests.devstack.integration.credly_sandbox.contract import (
    ACTIVE,
    ARCHIVED,
    DRAFT,
    DUPES_OK,
    EXPIRED_OFF,
    OTHER,
    assert_error,
    badge_body,
    issue,
    revoke,
)

# -- organization and auth -------------------------------------------------------------------


def test_organization_lookup_with_and_without_trailing_slash(sandbox, api):
    for url in (sandbox.org_url, sandbox.org_url + "/"):
        response = api.get(url)
        assert response.status_code == 200
        assert response.json()["data"]["id"] == sandbox.org_id
        assert response.json()["data"]["name"]


def test_missing_unknown_or_non_basic_credentials_get_401(sandbox):
    anonymous = requests.Session()
    anonymous.trust_env = False
    assert_error(anonymous.get(sandbox.org_url), 401)
    assert_error(sandbox.client("not-a-token").get(f"{sandbox.org_url}/badges"), 401)
    bearer = anonymous.get(sandbox.org_url, headers={"Authorization": f"Bearer {sandbox.token}"})
    assert_error(bearer, 401)


def test_read_only_token_reads_but_cannot_write(sandbox, api):
    badge = issue(sandbox, api)
    reader = sandbox.client(sandbox.read_only_token)
    assert reader.get(f"{sandbox.org_url}/badges/{badge['id']}").status_code == 200
    assert_error(reader.post(f"{sandbox.org_url}/badges", json=badge_body()), 403)
    revoke = reader.put(f"{sandbox.org_url}/badges/{badge['id']}/revoke", json={"reason": "x"})
    assert_error(revoke, 403)
    assert_error(reader.delete(f"{sandbox.org_url}/badges/{badge['id']}"), 403)
    assert len(sandbox.badges()) == 1


def test_unknown_organization_is_404(sandbox, api):
    other = f"{sandbox.base_url}/organizations/{uuid.uuid4()}"
    assert_error(api.get(other), 404)
    assert_error(api.post(f"{other}/badges", json=badge_body()), 404)
    assert sandbox.badges() == []


def test_unknown_route_uses_the_error_envelope(sandbox, api):
    assert_error(api.get(f"{sandbox.org_url}/no_such_thing"), 404)


# -- issuing -----------------------------------------------------------------------------------


def test_issue_returns_201_with_a_pending_issued_badge(sandbox, api):
    body = badge_body(issued_at="2024-03-05 20:30:00 -0600", locale="es-US")
    response = api.post(f"{sandbox.org_url}/badges", json=body)
    assert response.status_code == 201
    envelope = response.json()
    assert envelope["metadata"] == {}
    badge = envelope["data"]
    uuid.UUID(badge["id"])
    assert badge["state"] == "pending"
    assert badge["recipient_email"] == body["recipient_email"]
    assert badge["issued_to_first_name"] == "Test"
    assert badge["issued_to_last_name"] == body["issued_to_last_name"]
    assert badge["issuer_earner_id"] == body["issuer_earner_id"]
    # 20:30 in UTC-6 is 02:30 UTC the next day; the date stays the issuer's local day.
    assert badge["issued_at"] == "2024-03-06T02:30:00.000Z"
    assert badge["issued_at_date"] == "2024-03-05"
    assert badge["expires_at"] is None
    assert badge["badge_template"]["id"] == ACTIVE
    assert badge["badge_template"]["state"] == "active"
    assert badge["badge_template"]["allow_duplicate_badges"] is False
    for url in ("accept_badge_url", "badge_url", "image_url"):
        assert badge[url].startswith("https://")
    for stamp in ("created_at", "updated_at", "state_updated_at"):
        datetime.fromisoformat(badge[stamp])
    assert badge["revocation_reason"] is None
    assert badge["replaces_badge_id"] is None
    assert badge["replacement_badge_id"] is None
    assert badge["locale"] == "es-US"
    assert badge["suppress_badge_notification_email"] is False


def test_issue_accepts_iso_8601_and_a_trailing_slash(sandbox, api):
    response = api.post(
        f"{sandbox.org_url}/badges/", json=badge_body(issued_at="2024-03-05T14:30:00Z")
    )
    assert response.status_code == 201
    assert response.json()["data"]["issued_at"] == "2024-03-05T14:30:00.000Z"


@pytest.mark.parametrize(
    "overrides",
    [
        {"recipient_email": None},
        {"badge_template_id": None},
        {"issued_to_first_name": None},
        {"issued_to_last_name": None},
        {"issued_at": None},
        {"issued_to_first_name": "   "},
        {"issued_at": "yesterday"},
        {"issued_at": "2024-13-40 25:00:00 -0500"},
        {"recipient_email": "no-at-sign.example.org"},
        {"recipient_email": "nobody@"},
        {"recipient_email": "nobody@localhost"},
        {"badge_template_id": "no-such-template"},
        {"badge_template_id": DRAFT},
        {"badge_template_id": ARCHIVED},
        {"expires_at": "2020-01-01 00:00:00 +0000"},
    ],
    ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_invalid_issue_is_422_and_creates_nothing(sandbox, api, overrides):
    body = {k: v for k, v in badge_body(**overrides).items() if v is not None}
    message = assert_error(api.post(f"{sandbox.org_url}/badges", json=body), 422)
    assert "already has this badge" not in message
    assert sandbox.badges() == []
    assert sandbox.state()["duplicates_refused"] == 0


def test_malformed_json_is_an_error_envelope(sandbox, api):
    response = api.post(
        f"{sandbox.org_url}/badges", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400)


# -- duplicates --------------------------------------------------------------------------------


def test_same_template_and_email_is_a_duplicate_whatever_the_case(sandbox, api):
    first = issue(sandbox, api, recipient_email="Sam.Duplicate@example.org")
    again = badge_body(recipient_email="sam.duplicate@EXAMPLE.org")
    response = api.post(f"{sandbox.org_url}/badges", json=again)
    assert assert_error(response, 422) == "User already has this badge"
    assert [badge["id"] for badge in sandbox.badges()] == [first["id"]]
    assert sandbox.state()["duplicates_refused"] == 1


def test_same_template_and_issuer_earner_id_is_a_duplicate(sandbox, api):
    issue(sandbox, api, issuer_earner_id="stable-42", recipient_email="old@example.org")
    body = badge_body(issuer_earner_id="stable-42", recipient_email="new@example.org")
    response = api.post(f"{sandbox.org_url}/badges", json=body)
    assert assert_error(response, 422) == "User already has this badge"
    assert sandbox.state()["duplicates_refused"] == 1


def test_another_template_is_not_a_duplicate(sandbox, api):
    issue(sandbox, api, recipient_email="two@example.org", issuer_earner_id="two")
    issue(
        sandbox, api, recipient_email="two@example.org", issuer_earner_id="two",
        badge_template_id=OTHER,
    )  # fmt: skip
    assert len(sandbox.badges()) == 2


def test_allow_duplicate_badges_template_issues_again(sandbox, api):
    for _ in range(2):
        issue(
            sandbox, api, recipient_email="dup@example.org", issuer_earner_id="dup",
            badge_template_id=DUPES_OK,
        )  # fmt: skip
    assert len(sandbox.badges()) == 2
    assert sandbox.state()["duplicates_refused"] == 0



@pytest.mark.parametrize("same", ["recipient_email", "issuer_earner_id"])
def test_by_default_a_revoked_badge_does_not_block_reissuing(sandbox, api, same):
    assert sandbox.state()["behavior"] == {"revoked_blocks_reissue": False} | EXPIRED_OFF
    badge = issue(sandbox, api)
    revoke(sandbox, api, badge)
    again = issue(sandbox, api, **{same: badge[same]})
    assert again["id"] != badge["id"]
    # The new badge holds the slot again.
    assert_error(api.post(f"{sandbox.org_url}/badges", json=badge_body(**{same: badge[same]})), 422)
    assert sandbox.state()["badges"] == {"revoked": 1, "pending": 1}


@pytest.mark.parametrize("same", ["recipient_email", "issuer_earner_id"])
def test_switched_on_a_revoked_badge_blocks_until_deleted(sandbox, api, same):
    switched = sandbox.set_behavior(revoked_blocks_reissue=True)
    assert switched == {"revoked_blocks_reissue": True} | EXPIRED_OFF
    badge = issue(sandbox, api)
    revoke(sandbox, api, badge)
    again = badge_body(**{same: badge[same]})
    assert assert_error(api.post(f"{sandbox.org_url}/badges", json=again), 422) == (
        "User already has this badge"
    )
    assert sandbox.state()["duplicates_refused"] == 1
    assert api.delete(f"{sandbox.org_url}/badges/{badge['id']}").status_code == 204
    assert api.post(f"{sandbox.org_url}/badges", json=again).status_code == 201


@pytest.mark.parametrize("revoked_blocks", [False, True])
def test_a_replaced_badge_never_blocks(sandbox, api, revoked_blocks):
    sandbox.set_behavior(revoked_blocks_reissue=revoked_blocks)
    old = issue(sandbox, api)
    body = {"badge_template_id": OTHER, "issued_at": "2024-04-01 10:00:00 -0500"}
    assert api.post(f"{sandbox.org_url}/badges/{old['id']}/replace", json=body).status_code == 201
    issue(sandbox, api, recipient_email=old["recipient_email"])
