"""The sandbox's badges and templates over real HTTP: listing (pages, filters, sorts), one
badge, revoke, replace, delete, and the templates."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from tests.devstack.integration.credly_sandbox.contract import (
    ACTIVE,
    ARCHIVED,
    DRAFT,
    DUPES_OK,
    OTHER,
    assert_error,
    badge_body,
    issue,
)

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
