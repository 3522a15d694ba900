"""Who sees what (docs/outcomes.md): operators every site, a site's contact their own (another
site's page is 403), nobody else anything; Credly badge ids for operators only; the Access
form only from the console's own pages. The same rules through a real API server:
tests/e2e/test_outcomes.py (anonymous 401 included)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from badging.console.access import (
    ALL_SITES,
    Forbidden,
    redact_badge_ids,
    same_origin,
    site_of,
    viewer_for,
)
from badging.console.trail import AuditStep, Badge, Correction, Staged, Trail

AT = datetime(2026, 5, 13, 6, tzinfo=UTC)
A, B = "111111111", "222222222"


def test_an_operator_sees_every_site():
    operator = viewer_for("ops", operator=True, sites=set())
    assert operator.scope() is None
    operator.require_site(B)
    operator.require_operator()


def test_a_sites_contact_sees_their_site_and_asking_for_another_is_forbidden():
    contact = viewer_for("contact", operator=False, sites={A})
    assert contact.scope() == [A]
    contact.require_site(A)
    with pytest.raises(Forbidden):
        contact.require_site(B)
    with pytest.raises(Forbidden):
        contact.require_site(None)
    with pytest.raises(Forbidden):
        contact.require_operator()


def test_a_reader_mapped_to_no_site_sees_nothing_and_every_site_is_a_mapping():
    with pytest.raises(Forbidden, match="no technology center"):
        viewer_for("reader", operator=False, sites=set())
    leader = viewer_for("leader", operator=False, sites={ALL_SITES})
    assert leader.scope() is None
    leader.require_site(B)
    with pytest.raises(Forbidden):
        leader.require_operator()  # every site, still no student and no badge id


def test_an_operators_mapping_is_ignored():
    assert viewer_for("ops", operator=True, sites={A}).sites == frozenset()


def _trail(site: str | None = A) -> Trail:
    staged = Staged("r1", date(2026, 5, 12), AT, "planned", None, None, [], "CTTC1", site, "P1",
                    date(2026, 5, 1), False, "Z***", "z***@example.org", "/r1")
    badge = Badge({"credly_badge_id": "b-123", "state": "issued", "site_code": A},
                  "accepted", True, {})
    correction = Correction({"credly_badge_id": "b-123", "replacement_badge_id": "b-456",
                             "run_id": "r1"}, {})
    step = AuditStep(AT, "r1", None, "revoke", -1, 1, "replaced", None, None,
                     {"replacement_badge_id": "b-456", "attempt": 1}, "", "")
    return Trail(7, "Badge issued (Credly badge b-123, Credly state accepted).", None,
                 [staged], [step], [badge], [correction], 14)


def test_credly_badge_ids_are_gone_from_every_part_of_a_trail_for_non_operators():
    shown = redact_badge_ids(_trail())
    text = repr(shown.to_json())
    assert "b-123" not in text
    assert "b-456" not in text
    assert shown.headline.startswith("Badge issued (Credly badge (shown to operators)")
    assert shown.events[0].detail == {"attempt": 1}
    assert _trail().badges[0].fields["credly_badge_id"] == "b-123"  # a copy, not the trail


def test_a_certifications_site_is_its_newest_staged_rows_else_its_badges():
    assert site_of(_trail()) == A
    assert site_of(_trail(site=None)) == A
    assert site_of(Trail(8, "No run has seen it.", None)) is None


@pytest.mark.parametrize(("headers", "allowed"), [
    ({"origin": "http://127.0.0.1:8080"}, True),
    ({"referer": "http://127.0.0.1:8080/badging/access"}, True),
    ({"origin": "https://evil.example.org"}, False),
    ({"origin": "http://127.0.0.1:9999"}, False),
    ({"origin": "null"}, False),
    ({}, False),
    ({"authorization": "Bearer abc"}, True),
    ({"referer": "http://127.0.0.1:8080.evil.example.org/"}, False),
])
def test_the_access_form_is_accepted_from_this_server_only(headers, allowed):
    assert same_origin(headers, "http://127.0.0.1:8080/") is allowed
