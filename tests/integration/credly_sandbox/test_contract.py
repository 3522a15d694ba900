"""The sandbox keeps the Credly contract over real HTTP: auth, envelopes, validation, duplicates."""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import count
from urllib.parse import urlsplit

import pytest
import requests

# The expired-badge switch (issue 31) at its default, beside the one each test sets.
EXPIRED_OFF = {"expired_blocks_reissue": False}

ACTIVE = "contract-active"
OTHER = "contract-other"
DUPES_OK = "contract-dupes-ok"
DRAFT = "contract-draft"
ARCHIVED = "contract-archived"
TEMPLATES = [
    {"id": ACTIVE, "name": "Welding Level 1", "state": "active"},
    {"id": OTHER, "name": "CPR", "state": "active"},
    {"id": DUPES_OK, "name": "Attendance", "state": "active", "allow_duplicate_badges": True},
    {"id": DRAFT, "name": "Not yet", "state": "draft"},
    {"id": ARCHIVED, "name": "Retired", "state": "archived"},
]
_serial = count()


def badge_body(**overrides):
    n = next(_serial)
    body = {
        "recipient_email": f"earner{n}@example.org",
        "badge_template_id": ACTIVE,
        "issued_to_first_name": "Test",
        "issued_to_last_name": f"Earner{n}",
        "issued_at": "2024-03-05 14:30:00 -0600",
        "issuer_earner_id": f"earner-{n}",
    }
    body.update(overrides)
    return body


@pytest.fixture
def api(sandbox):
    sandbox.put_templates(TEMPLATES)
    return sandbox.client()


def issue(sandbox, api, **overrides):
    response = api.post(f"{sandbox.org_url}/badges", json=badge_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def assert_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data"}
    assert isinstance(body["data"]["message"], str)
    assert body["data"]["message"]
    return body["data"]["message"]


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


def revoke(sandbox, api, badge):
    url = f"{sandbox.org_url}/badges/{badge['id']}/revoke"
    assert api.put(url, json={"reason": "entered in error"}).status_code == 200


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


# -- listing -----------------------------------------------------------------------------------


def test_pagination_follows_absolute_next_page_urls(sandbox, api):
    issued = {issue(sandbox, api)["id"] for _ in range(120)}
    url = f"{sandbox.org_url}/badges?sort=created_at"
    seen, pages = [], []
    while url:
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        pages.append(body["metadata"])
        seen += [badge["id"] for badge in body["data"]]
        url = body["metadata"]["next_page_url"]
        if url:
            parts = urlsplit(url)
            assert parts.scheme == "http"
            assert f"{parts.scheme}://{parts.netloc}" == sandbox.root_url
    assert set(seen) == issued
    assert len(seen) == 120
    assert [page["count"] for page in pages] == [50, 50, 20]
    assert [page["current_page"] for page in pages] == [1, 2, 3]
    assert {page["total_count"] for page in pages} == {120}
    assert {page["total_pages"] for page in pages} == {3}
    assert {page["per"] for page in pages} == {50}
    assert pages[0]["previous_page_url"] is None
    assert "page=1" in pages[1]["previous_page_url"]
    assert pages[2]["next_page_url"] is None


def test_per_is_capped_at_50_and_pages_past_the_end_are_empty(sandbox, api):
    for _ in range(3):
        issue(sandbox, api)
    small = api.get(f"{sandbox.org_url}/badges", params={"per": 2}).json()
    assert small["metadata"]["total_pages"] == 2
    assert small["metadata"]["next_page_url"]
    big = api.get(f"{sandbox.org_url}/badges", params={"per": 500}).json()
    assert big["metadata"]["per"] == 50
    beyond = api.get(f"{sandbox.org_url}/badges", params={"page": 9}).json()
    assert beyond["data"] == []
    assert beyond["metadata"]["next_page_url"] is None
    assert_error(api.get(f"{sandbox.org_url}/badges", params={"page": 0}), 422)


def test_filters(sandbox, api):
    a = issue(sandbox, api, recipient_email="Ada@Example.org", issuer_earner_id="ada")
    b = issue(sandbox, api, recipient_email="bob@example.org", badge_template_id=OTHER)
    c = issue(sandbox, api, recipient_email="cy@example.org", issued_to_first_name="Cyrus")
    api.put(f"{sandbox.org_url}/badges/{c['id']}/revoke", json={"reason": "test"})

    def ids(filter_text):
        response = api.get(f"{sandbox.org_url}/badges", params={"filter": filter_text})
        assert response.status_code == 200, response.text
        return {badge["id"] for badge in response.json()["data"]}

    assert ids("recipient_email::ada@example.org") == {a["id"]}
    assert ids("recipient_email_all::ADA@example.org") == {a["id"]}
    assert ids("recipient_email::ada@example.org,bob@example.org") == {a["id"], b["id"]}
    assert ids(f"badge_template_id::{OTHER}") == {b["id"]}
    assert ids("state::revoked") == {c["id"]}
    assert ids("state::pending,accepted") == {a["id"], b["id"]}
    assert ids("issuer_earner_id::ada") == {a["id"]}
    assert ids("query::cyrus") == {c["id"]}
    assert ids(f"badge_template_id::{ACTIVE}|state::pending") == {a["id"]}
    assert ids("recipient_email::nobody@example.org") == set()
    response = api.get(f"{sandbox.org_url}/badges", params={"filter": "colour::blue"})
    assert_error(response, 422)


def test_sort_orders(sandbox, api):
    early = issue(sandbox, api, issued_at="2024-01-01 09:00:00 -0600")
    late = issue(sandbox, api, issued_at="2024-06-01 09:00:00 -0500")
    middle = issue(sandbox, api, issued_at="2024-03-01 09:00:00 -0600")

    def order(sort):
        response = api.get(f"{sandbox.org_url}/badges", params={"sort": sort})
        assert response.status_code == 200
        return [badge["id"] for badge in response.json()["data"]]

    assert order("-issued_at") == [late["id"], middle["id"], early["id"]]
    assert order("issued_at") == [early["id"], middle["id"], late["id"]]
    assert order("created_at") == [early["id"], late["id"], middle["id"]]
    assert_error(api.get(f"{sandbox.org_url}/badges", params={"sort": "shoe_size"}), 422)


def test_get_badge_and_unknown_badge(sandbox, api):
    badge = issue(sandbox, api)
    response = api.get(f"{sandbox.org_url}/badges/{badge['id']}/")
    assert response.status_code == 200
    assert response.json()["data"] == badge
    assert_error(api.get(f"{sandbox.org_url}/badges/{uuid.uuid4()}"), 404)


# -- revoke, replace, delete -------------------------------------------------------------------


def test_revoke(sandbox, api):
    badge = issue(sandbox, api)
    url = f"{sandbox.org_url}/badges/{badge['id']}/revoke"
    assert_error(api.put(url, json={"suppress_revoke_notification_email": True}), 422)
    assert_error(api.put(url, json={"reason": ""}), 422)
    response = api.put(
        url, json={"reason": "Issued in error", "suppress_revoke_notification_email": True}
    )
    assert response.status_code == 200
    revoked = response.json()["data"]
    assert revoked["id"] == badge["id"]
    assert revoked["state"] == "revoked"
    assert revoked["revocation_reason"] == "Issued in error"
    assert_error(api.put(url, json={"reason": "again"}), 422)
    assert_error(
        api.put(f"{sandbox.org_url}/badges/{uuid.uuid4()}/revoke", json={"reason": "x"}), 404
    )
    assert sandbox.state()["badges"] == {"revoked": 1}


def test_replace_links_old_and_new(sandbox, api):
    old = issue(sandbox, api)
    url = f"{sandbox.org_url}/badges/{old['id']}/replace"
    body = {"badge_template_id": OTHER, "issued_at": "2024-04-01 10:00:00 -0500"}
    # The third-party OpenAPI profile says PUT; Credly uses POST.
    assert_error(api.put(url, json=body), 405)
    assert_error(api.post(url, json={"badge_template_id": OTHER}), 422)
    response = api.post(url, json=body)
    assert response.status_code == 201
    new = response.json()["data"]
    assert new["id"] != old["id"]
    assert new["replaces_badge_id"] == old["id"]
    assert new["badge_template"]["id"] == OTHER
    assert new["recipient_email"] == old["recipient_email"]
    assert new["issuer_earner_id"] == old["issuer_earner_id"]
    refreshed = api.get(f"{sandbox.org_url}/badges/{old['id']}").json()["data"]
    assert refreshed["replacement_badge_id"] == new["id"]
    assert_error(api.post(url, json=body), 422)
    revoke = api.put(f"{sandbox.org_url}/badges/{old['id']}/revoke", json={"reason": "x"})
    assert_error(revoke, 422)


def test_replace_onto_the_same_template_is_not_a_duplicate_of_itself(sandbox, api):
    old = issue(sandbox, api)
    body = {
        "badge_template_id": ACTIVE,
        "issued_at": "2024-04-01T15:00:00Z",
        "issued_to_last_name": "Fixed",
    }
    response = api.post(f"{sandbox.org_url}/badges/{old['id']}/replace", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["issued_to_last_name"] == "Fixed"
    # The replacement now holds the earner's slot on that template.
    assert_error(api.post(f"{sandbox.org_url}/badges", json=badge_body(
        recipient_email=old["recipient_email"])), 422)  # fmt: skip


def test_delete(sandbox, api):
    badge = issue(sandbox, api)
    url = f"{sandbox.org_url}/badges/{badge['id']}"
    response = api.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get(url), 404)
    assert_error(api.delete(url), 404)
    assert sandbox.badges() == []


# -- templates ---------------------------------------------------------------------------------


def test_templates_listing_and_lookup(sandbox, api):
    response = api.get(f"{sandbox.org_url}/badge_templates", params={"filter": "state::active"})
    assert response.status_code == 200
    body = response.json()
    # The session sandbox holds other tests' templates too: read every page.
    templates, page = list(body["data"]), body
    while page["metadata"]["next_page_url"]:
        page = api.get(page["metadata"]["next_page_url"]).json()
        templates += page["data"]
    listed = {template["id"] for template in templates}
    assert {ACTIVE, OTHER, DUPES_OK} <= listed
    assert not {DRAFT, ARCHIVED} & listed
    assert {template["state"] for template in templates} == {"active"}
    assert set(body["metadata"]) == {
        "count", "current_page", "total_count", "total_pages", "per",
        "previous_page_url", "next_page_url",
    }  # fmt: skip
    one = api.get(f"{sandbox.org_url}/badge_templates/{DUPES_OK}").json()["data"]
    assert one["name"] == "Attendance"
    assert one["allow_duplicate_badges"] is True
    assert_error(api.get(f"{sandbox.org_url}/badge_templates/nope"), 404)


def test_template_changes_apply_to_issuing_and_to_embedded_templates(sandbox, api):
    sandbox.put_templates([{"id": "contract-later", "name": "Later", "state": "draft"}])
    body = badge_body(badge_template_id="contract-later")
    assert_error(api.post(f"{sandbox.org_url}/badges", json=body), 422)
    sandbox.put_templates([{"id": "contract-later", "name": "Later", "state": "active"}])
    badge = issue(sandbox, api, badge_template_id="contract-later")
    sandbox.put_templates([{"id": "contract-later", "name": "Later", "state": "archived"}])
    fetched = api.get(f"{sandbox.org_url}/badges/{badge['id']}").json()["data"]
    assert fetched["badge_template"]["state"] == "archived"
