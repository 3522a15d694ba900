"""Which day a run processes and the window it extracts, across DST and manual runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from badging.core.run import AGENCY_TZ, RunInfo, extract_window, loaded_days, processing_day


def test_the_date_param_wins_over_the_interval():
    interval_start = datetime(2026, 5, 10, 5, tzinfo=UTC)
    assert processing_day(" 2026-05-12 ", interval_start, datetime.now(UTC)) == date(2026, 5, 12)


def test_a_scheduled_run_processes_its_interval_day_in_chicago():
    # 05:00 UTC is midnight CDT: the interval of May 10 in Oklahoma.
    assert processing_day(None, datetime(2026, 5, 10, 5, tzinfo=UTC),
                          datetime(2026, 5, 11, 5, 1, tzinfo=UTC)) == date(2026, 5, 10)


def test_a_manual_run_without_interval_takes_yesterday_in_chicago():
    # 03:00 UTC on the 12th is still the evening of the 11th in Chicago.
    assert processing_day(None, None, datetime(2026, 5, 12, 3, tzinfo=UTC)) == date(2026, 5, 10)
    assert processing_day("", None, datetime(2026, 5, 12, 12, tzinfo=UTC)) == date(2026, 5, 11)


def test_a_malformed_date_param_is_a_clear_error():
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        processing_day("12/05/2026", None, datetime.now(UTC))


@pytest.mark.parametrize(("day", "hours"), [
    (date(2026, 3, 8), 23),   # spring forward
    (date(2026, 11, 1), 25),  # fall back
    (date(2026, 5, 12), 24),
])
def test_the_window_is_the_chicago_day_whatever_the_dst(day, hours):
    start, end = extract_window(day, 0)
    assert start.tzinfo == AGENCY_TZ
    assert (start.hour, end.hour) == (0, 0)
    assert (end.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=hours)


def test_the_lookback_extends_the_window_backwards_only():
    start, end = extract_window(date(2026, 5, 12), 3)
    assert start.date() == date(2026, 5, 9)
    assert end.date() == date(2026, 5, 13)


def test_a_negative_lookback_is_refused():
    with pytest.raises(ValueError, match="lookback_days"):
        extract_window(date(2026, 5, 12), -1)


def test_a_cleared_run_issues_under_a_new_name_but_keeps_its_run_id():
    day = date(2026, 5, 12)
    first = RunInfo("scheduled__2026-05-12", day, *extract_window(day, 3), dry_run=False)
    cleared = replace(first, clear_number=2)
    assert first.issuing_run == "scheduled__2026-05-12"
    assert cleared.issuing_run == "scheduled__2026-05-12#clear2"
    assert cleared.run_id == first.run_id


def test_a_history_load_runs_from_date_to_date_to():
    day = date(2022, 12, 1)
    assert loaded_days(day, None, None) == (day, day)
    assert loaded_days(day, "2022-12-01", " 2026-11-30 ") == (day, date(2026, 11, 30))
    start, end = extract_window(date(2026, 11, 30), 0, first_day=day)
    assert (start.date(), end.date()) == (day, date(2026, 12, 1))
    ranged = RunInfo("manual__x", date(2026, 11, 30), start, end, dry_run=False, first_day=day)
    assert ranged.is_range
    assert not RunInfo("manual__y", day, start, end, dry_run=False).is_range


@pytest.mark.parametrize(("date_param", "date_to", "message"), [
    (None, "2026-11-30", "needs 'date'"),
    ("2022-12-01", "30/11/2026", "must be YYYY-MM-DD"),
    ("2022-12-01", "2022-11-30", "is before 'date'"),
])
def test_a_history_load_range_that_makes_no_sense_is_refused(date_param, date_to, message):
    with pytest.raises(ValueError, match=message):
        loaded_days(date(2022, 12, 1), date_param, date_to)
