"""A badge's expiry: test date + validity, month ends, leap days, the Chicago day, never, and
the template's default (badging/core/validity.py, docs/ledger.md "Expiry")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from badging.core.constants import AGENCY_TZ
from badging.core.validity import Validity, add_months, end_of_day


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),     # into a leap February
    (date(2023, 1, 31), 1, date(2023, 2, 28)),     # into a common one
    (date(2024, 3, 31), 1, date(2024, 4, 30)),     # a 31st into a 30-day month
    (date(2024, 8, 31), 24, date(2026, 8, 31)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),    # over the year's end
    (date(2024, 2, 29), 12, date(2025, 2, 28)),    # a leap day a year on
    (date(2024, 2, 29), 48, date(2028, 2, 29)),    # and four years on
    (date(2023, 2, 28), 12, date(2024, 2, 28)),    # not moved to the 29th
])
def test_months_are_calendar_months_clamped_to_the_month_s_last_day(day, months, expected):
    assert add_months(day, months) == expected
    assert Validity(months=months).expiry_day(day) == expected


def test_days_are_plain_days_across_a_leap_day():
    assert Validity(days=365).expiry_day(date(2024, 2, 1)) == date(2025, 1, 31)
    assert Validity(days=1095).expiry_day(date(2026, 5, 11)) == date(2029, 5, 10)


def test_a_badge_expires_at_the_last_second_of_its_expiry_day_in_chicago():
    summer = Validity(months=24).expires_at(date(2024, 5, 12))
    assert summer == datetime(2026, 5, 12, 23, 59, 59, tzinfo=AGENCY_TZ)
    assert summer.utcoffset() == timedelta(hours=-5)
    assert summer.astimezone(UTC) == datetime(2026, 5, 13, 4, 59, 59, tzinfo=UTC)
    winter = Validity(months=24).expires_at(date(2024, 12, 3))
    assert winter.utcoffset() == timedelta(hours=-6)
    assert winter.astimezone(UTC) == datetime(2026, 12, 4, 5, 59, 59, tzinfo=UTC)
    # The night the clocks change: the day still ends at 23:59:59 local time.
    assert end_of_day(date(2026, 3, 8)).astimezone(UTC) == datetime(2026, 3, 9, 4, 59, 59,
                                                                    tzinfo=UTC)


def test_expired_turns_on_the_chicago_day_boundary_not_the_utc_one():
    validity = Validity(months=12)
    tested = date(2025, 5, 12)
    # 23:30 in Chicago on the expiry day is 04:30 UTC the next day: still valid.
    assert not validity.expired(tested, datetime(2026, 5, 13, 4, 30, tzinfo=UTC))
    assert not validity.expired(tested, datetime(2026, 5, 13, 4, 59, 58, tzinfo=UTC))
    assert validity.expired(tested, datetime(2026, 5, 13, 4, 59, 59, tzinfo=UTC))
    assert validity.expired(tested, datetime(2026, 5, 13, 0, 0, tzinfo=AGENCY_TZ))


def test_never_and_unknown_never_expire_and_have_no_moment():
    for validity in (Validity(never=True), Validity()):
        assert validity.expiry_day(date(2020, 1, 1)) is None
        assert validity.expires_at(date(2020, 1, 1)) is None
        assert not validity.expired(date(2000, 1, 1), datetime(2099, 1, 1, tzinfo=UTC))
    assert Validity(never=True).known
    assert not Validity().known


def test_the_agency_s_setting_wins_over_the_template_s_default():
    read = {"template_read": True, "template_days": 730}
    assert Validity.resolve(valid_months=36, never=False, **read) == Validity(months=36)
    assert Validity.resolve(valid_months=None, never=True, **read) == Validity(never=True)
    # No setting: the template's own default, as plan last read it from Credly ...
    assert Validity.resolve(valid_months=None, never=None, **read) == Validity(days=730)
    # ... a template with none never expires ...
    assert Validity.resolve(valid_months=None, never=None, template_read=True,
                            template_days=None) == Validity(never=True)
    # ... and one not read yet is unknown: Credly applies its default, nothing is decided.
    assert Validity.resolve(valid_months=None, never=None, template_read=False,
                            template_days=None) == Validity()


def test_a_validity_is_one_thing_and_positive():
    with pytest.raises(ValueError, match="not several"):
        Validity(months=12, never=True)
    with pytest.raises(ValueError, match="at least 1"):
        Validity(months=0)
    assert [v.describe() for v in (Validity(months=24), Validity(days=1095),
                                    Validity(never=True), Validity())] == [
        "24 months", "1095 days", "never", "template default"]
