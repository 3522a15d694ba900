"""Unit tests for badging.credly.payloads: issued_at, the badge request, the issued badge."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from badging.credly import payloads
from badging.credly.payloads import IssuedBadge, format_issued_at
from tests.unit.badging.credly.scripted import EMAIL, TEMPLATE, make_request

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
        moment = datetime.strptime(text, payloads.ISSUED_AT_FORMAT)
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



# --- expiry and evidence (issue 31) ---------------------------------------------------------


def test_an_expiry_is_sent_like_issued_at_never_as_false_and_the_template_default_left_out():
    moment = datetime(2028, 5, 12, 23, 59, 59, tzinfo=ZoneInfo("America/Chicago"))
    dated = make_request(expiry=payloads.Expiry(at=moment)).to_payload()
    assert dated["expires_at"] == "2028-05-12 23:59:59 -0500"
    assert make_request(expiry=payloads.Expiry(never=True)).to_payload()["expires_at"] is False
    assert "expires_at" not in make_request().to_payload()
    with pytest.raises(ValueError, match="moment or never"):
        payloads.Expiry(at=moment, never=True)
    with pytest.raises(ValueError, match="timezone-aware"):
        payloads.Expiry(at=datetime(2028, 5, 12))


def test_evidence_is_sent_as_given_and_none_when_empty():
    evidence = ({"type": "IdEvidence", "title": "CTIMS certification id", "id": "7"},)
    assert make_request(evidence=evidence).to_payload()["evidence"] == [
        {"type": "IdEvidence", "title": "CTIMS certification id", "id": "7"}]
    assert "evidence" not in make_request().to_payload()


def test_an_issued_badge_keeps_its_expiry_and_a_template_its_default():
    badge = IssuedBadge.from_api({"id": "b", "state": "pending",
                                  "expires_at": "2028-05-13T04:59:59.000Z"})
    assert badge.expires_at == datetime(2028, 5, 13, 4, 59, 59, tzinfo=UTC)
    assert not badge.expired(datetime(2028, 5, 13, 4, 59, 58, tzinfo=UTC))
    assert badge.expired(datetime(2028, 5, 13, 4, 59, 59, tzinfo=UTC))
    assert IssuedBadge.from_api({"id": "b", "expires_at": None}).expires_at is None
    assert payloads.template_expiry_days({"expires_in_days": 1095}) == 1095
    for none in ({}, {"expires_in_days": None}, {"expires_in_days": 0},
                 {"expires_in_days": True}, {"expires_in_days": "365"}):
        assert payloads.template_expiry_days(none) is None
