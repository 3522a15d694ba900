"""Unit tests for badging.credly: payloads, wire helpers, error classification, retry decisions."""

from __future__ import annotations

import json
import logging
import pickle
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from badging import credly
from badging.credly import (
    BadgeRequest,
    CredlyClient,
    IssuedBadge,
    classify_response,
    classify_transport_error,
    encode_filter,
    format_issued_at,
    parse_retry_after,
    safe_detail,
)
from badging.errors import (
    BadgingError,
    ConfigurationError,
    CredlyAuthError,
    CredlyDuplicateBadge,
    CredlyError,
    CredlyInvalidRequest,
    CredlyRetryableError,
    CredlyThrottled,
    CredlyTransient,
    CredlyUnknownOutcome,
)
from badging.ratelimit import TokenBucket

EMAIL = "jane.doe@example.org"
TEMPLATE = "6f0e7a52-0000-4000-8000-000000000001"


def make_request(**overrides) -> BadgeRequest:
    fields = {
        "recipient_email": EMAIL,
        "first_name": "Jane",
        "last_name": "Doe",
        "template_id": TEMPLATE,
        "issued_at": date(2024, 7, 1),
        "earner_id": "earner-abc",
        "badge_key": "issuance#7",
    }
    fields.update(overrides)
    return BadgeRequest(**fields)


# --- issued_at ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 7, 1), "2024-07-01 12:00:00 -0500"),  # daylight time
        (date(2024, 1, 15), "2024-01-15 12:00:00 -0600"),  # standard time
        (date(2024, 3, 10), "2024-03-10 12:00:00 -0500"),  # DST starts at 02:00 that day
        (date(2024, 11, 3), "2024-11-03 12:00:00 -0600"),  # DST ends at 02:00 that day
    ],
)
def test_a_date_is_noon_in_chicago_with_the_offset_of_the_day(day, expected):
    assert format_issued_at(day) == expected


def test_an_aware_datetime_is_converted_to_chicago_time():
    assert format_issued_at(datetime(2024, 7, 1, 3, 30, tzinfo=UTC)) == "2024-06-30 22:30:00 -0500"
    assert format_issued_at(datetime(2024, 1, 1, 3, 30, tzinfo=UTC)) == "2023-12-31 21:30:00 -0600"
    tokyo = datetime(2024, 3, 10, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 08:00 UTC
    assert format_issued_at(tokyo) == "2024-03-10 03:00:00 -0500"


def test_noon_lands_on_the_same_utc_day():
    # Credly stores UTC; noon Chicago must not move the badge to another calendar day.
    for day in (date(2024, 1, 15), date(2024, 7, 1)):
        text = format_issued_at(day)
        moment = datetime.strptime(text, credly.ISSUED_AT_FORMAT)
        assert moment.astimezone(UTC).date() == day


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        format_issued_at(datetime(2024, 7, 1, 12, 0))


def test_a_string_is_refused():
    with pytest.raises(TypeError):
        format_issued_at("2024-07-01")


# --- BadgeRequest -----------------------------------------------------------------------------


def test_payload_has_the_required_fields_and_the_earner_surrogate():
    payload = make_request().to_payload()
    assert payload == {
        "recipient_email": EMAIL,
        "badge_template_id": TEMPLATE,
        "issued_to_first_name": "Jane",
        "issued_to_last_name": "Doe",
        "issued_at": "2024-07-01 12:00:00 -0500",
        "issuer_earner_id": "earner-abc",
    }


def test_payload_carries_locale_and_suppression_only_when_configured():
    payload = make_request().to_payload(locale="es-US", suppress_notification=True)
    assert payload["locale"] == "es-US"
    assert payload["suppress_badge_notification_email"] is True


def test_repr_hides_names_and_email():
    text = repr(make_request())
    assert "issuance#7" in text
    for secret in (EMAIL, "Jane", "Doe"):
        assert secret not in text


@pytest.mark.parametrize("field", ["recipient_email", "first_name", "template_id", "earner_id"])
def test_missing_fields_are_refused_without_echoing_values(field):
    with pytest.raises(ValueError, match=field) as caught:
        make_request(**{field: "  "})
    assert EMAIL not in str(caught.value)


def test_a_naive_issued_at_is_refused_when_the_request_is_built():
    with pytest.raises(ValueError, match="timezone-aware"):
        make_request(issued_at=datetime(2024, 7, 1, 9, 0))


# --- IssuedBadge ------------------------------------------------------------------------------


def test_issued_badge_keeps_only_what_the_pipeline_needs():
    badge = IssuedBadge.from_api(
        {
            "id": "b-1",
            "state": "pending",
            "recipient_email": EMAIL,
            "issued_to_first_name": "Jane",
            "issuer_earner_id": "earner-abc",
            "issued_at": "2024-07-01T17:00:00.000Z",
            "badge_template": {"id": TEMPLATE, "name": "Welding"},
        }
    )
    assert badge == IssuedBadge(
        id="b-1",
        state="pending",
        template_id=TEMPLATE,
        issuer_earner_id="earner-abc",
        issued_at=datetime(2024, 7, 1, 17, 0, tzinfo=UTC),
    )
    assert EMAIL not in repr(badge)


def test_issued_badge_tolerates_missing_optional_fields():
    badge = IssuedBadge.from_api({"id": "b-2", "issued_at": "garbage", "issuer_earner_id": ""})
    assert (badge.template_id, badge.issuer_earner_id, badge.issued_at) == (None, None, None)


# --- filter -----------------------------------------------------------------------------------


def test_filter_joins_keys_with_pipes_and_values_with_commas():
    text = encode_filter(
        {"badge_template_id": TEMPLATE, "state": ["pending", "accepted"], "recipient_email": EMAIL}
    )
    assert text == f"badge_template_id::{TEMPLATE}|state::pending,accepted|recipient_email::{EMAIL}"


def test_filter_is_url_encoded_as_a_whole_when_sent():
    text = encode_filter({"recipient_email": "a+b@x.org", "state": ["pending", "accepted"]})
    url = requests.Request("GET", "https://h/v1/b", params={"filter": text}).prepare().url
    assert url == (
        "https://h/v1/b?filter=recipient_email%3A%3Aa%2Bb%40x.org%7Cstate%3A%3Apending%2Caccepted"
    )


@pytest.mark.parametrize("value", ["a|b@x.org", "a,b@x.org", "a::b"])
def test_filter_refuses_values_holding_separators_without_echoing_them(value):
    with pytest.raises(ValueError, match="separator") as caught:
        encode_filter({"recipient_email": value})
    assert value not in str(caught.value)


def test_filter_refuses_empty_value_lists_and_odd_keys():
    with pytest.raises(ValueError, match="simple key"):
        encode_filter({"state": []})
    with pytest.raises(ValueError, match="simple key"):
        encode_filter({"state|x": "a"})


# --- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_retry_after_as_an_http_date():
    now = datetime(2024, 7, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(90.0)
    past = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


# --- error tree -------------------------------------------------------------------------------


def test_retryability_is_a_property_of_the_class():
    for cls in (CredlyThrottled, CredlyTransient, CredlyUnknownOutcome):
        assert issubclass(cls, CredlyRetryableError)
        assert cls.retryable is True
    for cls in (CredlyAuthError, CredlyInvalidRequest, CredlyDuplicateBadge):
        assert issubclass(cls, CredlyError)
        assert cls.retryable is False
    assert issubclass(CredlyError, BadgingError)
    assert issubclass(ConfigurationError, BadgingError)


def test_errors_carry_status_and_badge_key_and_survive_pickling():
    error = CredlyThrottled("slow down", badge_key="issuance#7", retry_after=3.0)
    assert str(error) == "slow down | HTTP 429 | badge issuance#7"
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status, copy.badge_key, copy.retry_after, str(copy)) == (
        CredlyThrottled, 429, "issuance#7", 3.0, str(error),
    )


# --- response classification ------------------------------------------------------------------


def body(message: str) -> dict:
    return {"data": {"message": message}}


@pytest.mark.parametrize(
    ("status", "write", "expected"),
    [
        (400, True, CredlyInvalidRequest),
        (401, True, CredlyAuthError),
        (403, False, CredlyAuthError),
        (404, False, CredlyInvalidRequest),
        (408, True, CredlyTransient),
        (409, True, CredlyInvalidRequest),
        (422, True, CredlyInvalidRequest),
        (429, True, CredlyThrottled),
        (500, False, CredlyTransient),
        (503, False, CredlyTransient),
        (500, True, CredlyUnknownOutcome),
        (502, True, CredlyUnknownOutcome),
    ],
)
def test_status_classification(status, write, expected):
    error = classify_response(status, body("x"), write=write, badge_key="issuance#7")
    assert type(error) is expected
    assert (error.status, error.badge_key) == (status, "issuance#7")


def test_duplicate_422_is_recognised_by_its_message():
    error = classify_response(422, body("User already has this badge"), write=True)
    assert isinstance(error, CredlyDuplicateBadge)
    assert "already has this badge" in str(error)


def test_throttle_carries_retry_after():
    error = classify_response(429, body("Too many requests"), "12", write=False)
    assert isinstance(error, CredlyThrottled)
    assert error.retry_after == 12.0
    assert classify_response(429, None, None, write=False).retry_after is None


def test_known_messages_get_fixed_wording():
    archived = body("Badge template is archived and cannot issue badges")
    assert safe_detail(422, archived) == "badge template is archived"


@pytest.mark.parametrize(
    "message",
    [
        f"Recipient email {EMAIL} is invalid",
        "Issued to first name 'Jane' is too long",
        f"Validation failed: {EMAIL} / Jane Doe",
    ],
)
def test_unknown_messages_never_reach_the_error(message):
    error = classify_response(422, body(message), write=True, badge_key="issuance#7")
    for secret in (EMAIL, "Jane", "Doe"):
        assert secret not in str(error)
        assert secret not in error.detail


def test_unknown_messages_still_name_the_fields_they_mention():
    detail = safe_detail(422, body(f"Recipient email {EMAIL} is invalid"))
    assert detail == "Credly rejected the badge as invalid (fields: recipient_email)"
    assert safe_detail(422, body("badge_template_id does not match a badge template")).endswith(
        "(fields: badge_template_id)"
    )


def test_an_unreadable_error_body_gets_a_generic_detail():
    assert safe_detail(503, None) == "Credly server error"
    assert safe_detail(418, "<html>") == "Credly refused the request"


# --- transport classification -----------------------------------------------------------------

SECRET_URL = f"/v1/organizations/o/badges?filter=recipient_email%3A%3A{EMAIL}"


def refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111]")
    return requests.ConnectionError(MaxRetryError(None, SECRET_URL, reason))


def dropped() -> requests.ConnectionError:
    return requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
    )


@pytest.mark.parametrize(
    ("make", "write", "expected"),
    [
        (refused, True, CredlyTransient),
        (lambda: requests.ConnectTimeout(SECRET_URL), True, CredlyTransient),
        (lambda: requests.ReadTimeout(SECRET_URL), True, CredlyUnknownOutcome),
        (lambda: requests.ReadTimeout(SECRET_URL), False, CredlyTransient),
        (dropped, True, CredlyUnknownOutcome),
        (dropped, False, CredlyTransient),
        (lambda: requests.exceptions.MissingSchema(SECRET_URL), False, ConfigurationError),
    ],
)
def test_transport_classification_and_no_url_in_the_message(make, write, expected):
    error = classify_transport_error(make(), write=write, badge_key="issuance#7")
    assert type(error) is expected
    assert EMAIL not in str(error)
    assert "filter" not in str(error)


# --- connection -------------------------------------------------------------------------------


def conn(host, schema=None, port=None):
    return SimpleNamespace(host=host, schema=schema, port=port)


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        (conn("https://api.credly.com/v1"), "https://api.credly.com/v1"),
        (conn("https://api.credly.com/v1/"), "https://api.credly.com/v1"),
        (conn("http://127.0.0.1:8765/v1"), "http://127.0.0.1:8765/v1"),
        (conn("http://127.0.0.1/v1", port=8765), "http://127.0.0.1:8765/v1"),
        (conn("api.credly.com/v1", schema="https"), "https://api.credly.com/v1"),
        (conn("localhost/v1", schema="http", port=8765), "http://localhost:8765/v1"),
        (conn("api.credly.com", schema="v1"), "https://api.credly.com/v1"),
        (conn("api.credly.com"), "https://api.credly.com/v1"),
    ],
)
def test_base_url_from_the_forms_a_connection_takes(connection, expected):
    assert credly._base_url_from(connection) == expected


def test_a_connection_without_host_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        credly._base_url_from(conn(""))


def connection_env(monkeypatch, **fields):
    monkeypatch.setenv("AIRFLOW_CONN_CREDLY_TEST", json.dumps({"conn_type": "http", **fields}))


def test_from_connection_reads_host_password_and_extra(monkeypatch):
    pytest.importorskip("airflow.sdk")
    connection_env(
        monkeypatch,
        host="http://127.0.0.1:8765/v1",
        password="s3cret-token-value",
        extra={
            "organization_id": "org-1",
            "locale": "en",
            "suppress_badge_notification_email": "true",
            "read_timeout": "12",
        },
    )
    client = CredlyClient.from_connection("credly_test", limiter=TokenBucket(None))
    assert client.base_url == "http://127.0.0.1:8765/v1"
    assert client.organization_id == "org-1"
    assert client.timeout == (5.0, 12.0)
    assert (client.locale, client.suppress_notification) == ("en", True)
    assert "s3cret-token-value" not in repr(client)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"host": "http://h/v1", "password": "t0ken-value"}, "organization_id"),
        ({"host": "http://h/v1", "extra": {"organization_id": "o"}}, "token"),
        ({"host": "http://h/v1", "login": "t0ken-value", "extra": {"organization_id": "o"}},
         "password"),
    ],
)
def test_from_connection_refuses_incomplete_connections(monkeypatch, fields, complaint):
    pytest.importorskip("airflow.sdk")
    connection_env(monkeypatch, **fields)
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        CredlyClient.from_connection("credly_test")
    assert "t0ken-value" not in str(caught.value)


def test_next_page_links_never_leave_the_configured_host():
    client = CredlyClient("http://127.0.0.1:8765/v1", "t", "o", limiter=TokenBucket(None))
    assert client._same_origin("http://evil.example/v1/x?page=2") == (
        "http://127.0.0.1:8765/v1/x?page=2"
    )
    assert client._same_origin("/v1/x?page=3") == "http://127.0.0.1:8765/v1/x?page=3"


def test_backoff_is_full_jitter_under_a_doubling_cap():
    client = CredlyClient(
        "http://h/v1", "t", "o", backoff_base=0.5, backoff_cap=3, limiter=TokenBucket(None)
    )
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)):
        delays = [client._backoff_delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # really spread, not a constant


# --- retry decisions, with a scripted session (no network) ------------------------------------


class Scripted:
    """A stand-in Session that replays a script of responses or exceptions, recording calls."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls: list[tuple[str, str]] = []

    def request(self, method, url, **kwargs):
        assert kwargs["timeout"] == (5.0, 30.0)
        assert kwargs["auth"] == ("tok", "")
        self.calls.append((method, url.rsplit("/v1", 1)[1], kwargs.get("params")))
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        status, payload = step[:2]
        response = requests.Response()
        response.status_code = status
        response._content = b"" if payload is None else json.dumps(payload).encode()
        response.headers.update(step[2] if len(step) > 2 else {})
        return response


def scripted_client(*steps, **options) -> tuple[CredlyClient, Scripted]:
    session = Scripted(*steps)
    options = {"backoff_base": 0.001, "backoff_cap": 0.002, "limiter": TokenBucket(None), **options}
    return CredlyClient("http://h/v1", "tok", "o", session=session, **options), session


def api_badge(badge_id="b-1", earner="earner-abc", state="pending", email=EMAIL):
    return {
        "id": badge_id,
        "state": state,
        "recipient_email": email,
        "issuer_earner_id": earner,
        "badge_template": {"id": TEMPLATE},
        "issued_at": "2024-07-01T17:00:00.000Z",
    }


def page(*badges):
    return (200, {"data": list(badges), "metadata": {"next_page_url": None}})


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


@pytest.mark.parametrize(
    ("message", "wording"),
    [
        ("Badge not found", "badge not found"),
        ("Badge template not found", "badge template not found"),
        ("Organization not found", "organization not found"),
        ("Badge has already been revoked", "badge is already revoked"),
    ],
)
def test_known_lookup_messages(message, wording):
    assert safe_detail(404, body(message)) == wording
