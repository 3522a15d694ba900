"""Unit tests for badging.credly.client: exactly-once issuing and retry decisions, no network."""

from __future__ import annotations

import pytest
import requests

from badging.core.errors import (
    ConfigurationError,
    CredlyAuthError,
    CredlyInvalidRequest,
    CredlyUnknownOutcome,
    CredlyUnresolvedDuplicate,
)
from badging.credly import CredlyClient
from tests.unit.badging.credly.scripted import (
    api_badge,
    body,
    dropped,
    make_request,
    page,
    refused,
    scripted_client,
)


def test_a_read_timeout_on_issue_is_looked_up_before_posting_again():
    client, session = scripted_client(
        requests.ReadTimeout("lost"),
        page(api_badge()),
    )
    result = client.issue_badge(make_request())
    assert (result.outcome, result.recovered, result.badge.id) == ("issued", True, "b-1")
    assert [c[0] for c in session.calls] == ["POST", "GET"]


def test_a_lookup_that_finds_nothing_lets_the_post_go_again():
    client, session = scripted_client(
        dropped(), page(), (201, {"data": api_badge("b-9"), "metadata": {}})
    )
    result = client.issue_badge(make_request())
    assert (result.outcome, result.recovered, result.badge.id) == ("issued", False, "b-9")
    assert [c[0] for c in session.calls] == ["POST", "GET", "POST"]


def test_our_own_late_landing_badge_is_recorded_as_issued_not_already_issued():
    # The first POST's answer is lost and the lookup misses it (a slow commit); the next
    # POST is throttled, the one after refused as a duplicate — of our own first attempt.
    client, session = scripted_client(
        requests.ReadTimeout("lost"),
        page(),
        (429, body("Too many requests")),
        (422, body("User already has this badge")),
        page(api_badge("b-1")),
    )
    result = client.issue_badge(make_request())
    assert (result.outcome, result.recovered, result.badge.id) == ("issued", True, "b-1")
    assert [c[0] for c in session.calls] == ["POST", "GET", "POST", "POST", "GET"]


def test_a_refused_connection_is_retried_without_a_lookup():
    client, session = scripted_client(refused(), (201, {"data": api_badge()}))
    assert client.issue_badge(make_request()).outcome == "issued"
    assert [c[0] for c in session.calls] == ["POST", "POST"]


def test_auth_errors_are_never_retried():
    client, session = scripted_client((401, body("Unauthorized")))
    with pytest.raises(CredlyAuthError):
        client.issue_badge(make_request())
    assert len(session.calls) == 1


def test_a_duplicate_resolves_to_the_earners_badge_not_a_siblings():
    client, _ = scripted_client(
        (422, body("User already has this badge")),
        page(api_badge("sibling", earner="earner-zzz"), api_badge("mine")),
    )
    result = client.issue_badge(make_request())
    assert (result.outcome, result.badge.id) == ("already_issued", "mine")


def test_a_duplicate_held_by_another_earner_fails_the_row():
    client, _ = scripted_client(
        (422, body("User already has this badge")),
        page(api_badge("sibling", earner="earner-zzz")),
    )
    with pytest.raises(CredlyInvalidRequest, match="another issuer_earner_id"):
        client.issue_badge(make_request())


def test_a_duplicate_under_an_older_email_is_found_by_earner_id():
    client, session = scripted_client(
        (422, body("User already has this badge")),
        page(),
        page(api_badge("old-email", email="old@example.org")),
    )
    result = client.issue_badge(make_request())
    assert (result.outcome, result.badge.id) == ("already_issued", "old-email")
    assert "issuer_earner_id::earner-abc" in session.calls[-1][2]["filter"]


def test_exhausted_attempts_raise_the_last_retryable_error():
    client, session = scripted_client(
        (503, None), page(), (503, None), page(), (503, None), page(), max_attempts=3
    )
    with pytest.raises(CredlyUnknownOutcome):
        client.issue_badge(make_request())
    assert [c[0] for c in session.calls] == ["POST", "GET"] * 3


def test_an_unreadable_success_body_on_a_write_is_an_unknown_outcome():
    client, _ = scripted_client((201, None), page(api_badge()))
    result = client.issue_badge(make_request())
    assert (result.outcome, result.recovered) == ("issued", True)



def test_get_badge_returns_none_on_404_and_retries_5xx():
    client, session = scripted_client((500, None), (404, body("Badge not found")))
    assert client.get_badge("nope") is None
    assert len(session.calls) == 2


def test_revoking_a_revoked_badge_returns_it():
    client, _ = scripted_client(
        (422, body("Badge has already been revoked")), (200, {"data": api_badge(state="revoked")})
    )
    assert client.revoke_badge("b-1", "issued in error").state == "revoked"


def test_client_refuses_missing_configuration_without_secrets():
    with pytest.raises(ConfigurationError, match="token"):
        CredlyClient("http://h/v1", "", "org")
    with pytest.raises(ConfigurationError, match="organization_id"):
        CredlyClient("http://h/v1", "tok-secret", "")




def test_a_lookup_that_fails_ends_the_write_without_another_post_or_lookup():
    client, session = scripted_client(
        requests.ReadTimeout("lost"), (503, None), (503, None), max_attempts=2
    )
    with pytest.raises(CredlyUnknownOutcome, match="looking it up failed"):
        client.issue_badge(make_request())
    assert [c[0] for c in session.calls] == ["POST", "GET", "GET"]


# Issue 16, item 4: a badge without an earner id is this student's only if the email is theirs
# alone.

def test_a_hand_issued_badge_is_taken_when_no_other_student_shares_the_email():
    client, _ = scripted_client((422, body("User already has this badge")),
                                page(api_badge("b-hand", earner=None)))
    result = client.issue_badge(make_request())
    assert (result.outcome, result.badge.id) == ("already_issued", "b-hand")


def test_a_hand_issued_badge_under_a_shared_email_is_not_taken():
    """Before: siblings sharing a parent's address were recorded with each other's badge."""
    client, _ = scripted_client((422, body("User already has this badge")),
                                page(api_badge("b-hand", earner=None)),
                                page())  # the earner-id lookup finds nothing either
    with pytest.raises(CredlyUnresolvedDuplicate, match="several students use the email"):
        client.issue_badge(make_request(email_shared=True))


# Issue 27: a hand-issued badge at the student's own address is theirs only if it names them.

def test_a_duplicate_held_by_hand_under_another_name_is_not_taken():
    """Before: an older sibling's badge at the family address was recorded as the student's."""
    client, _ = scripted_client((422, body("User already has this badge")),
                                page(api_badge("b-sibling", earner=None, first="Grace")),
                                page())  # the earner-id lookup finds nothing either
    with pytest.raises(CredlyUnresolvedDuplicate, match="issued to another name"):
        client.issue_badge(make_request())


def test_a_maybe_landed_badge_is_looked_up_with_the_name_rule():
    client, _ = scripted_client(
        page(api_badge("b-sibling", earner=None, first="Grace")),
        page(api_badge("b-hand", earner=None, first=" JANE", last="Doé")),
    )
    assert client.find_existing_badge(make_request()) is None
    assert client.find_existing_badge(make_request()).id == "b-hand"


def test_the_student_s_own_badge_is_taken_under_a_shared_email():
    client, _ = scripted_client((422, body("User already has this badge")),
                                page(api_badge("b-other", earner=None),
                                     api_badge("b-mine", earner="earner-abc")))
    result = client.issue_badge(make_request(email_shared=True))
    assert result.badge.id == "b-mine"
