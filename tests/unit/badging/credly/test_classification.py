"""Unit tests for badging.credly.classification: filters, Retry-After, typed errors."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from badging.core.errors import (
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
from badging.credly.classification import (
    classify_response,
    classify_transport_error,
    encode_filter,
    parse_retry_after,
    safe_detail,
)
from tests.unit.badging.credly.scripted import (
    EMAIL,
    SECRET_URL,
    TEMPLATE,
    body,
    dropped,
    refused,
)

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

