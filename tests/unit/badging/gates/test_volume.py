"""The volume band and judgement on synthetic series, and the ask rate on the seeded history."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from badging.gates import band as volume_band
from badging.gates import volume
from badging.gates.band import (
    FACTOR,
    FLOOR,
    Band,
    DayVolume,
    RunJudgement,
    SiteVolume,
    band,
    judge,
)

MONDAY = date(2026, 5, 11)


def series(start: date, end: date, weekday: int, weekend: int = 0) -> dict[date, int]:
    days = (start + timedelta(days=n) for n in range((end - start).days))
    return {d: weekend if d.weekday() >= 5 else weekday for d in days}


def seasonal(years: int, *, quiet: int, peak: int, peak_from: date, peak_to: date,
             until: date) -> dict[date, int]:
    """`years` of a quiet level with a peak every year in [peak_from, peak_to] (month-day)."""
    history = {}
    day = date(until.year - years, 1, 1)
    while day < until:
        in_peak = (peak_from.month, peak_from.day) <= (day.month, day.day) <= (
            peak_to.month, peak_to.day)
        if day.weekday() < 5:
            history[day] = peak if in_peak else quiet
        day += timedelta(days=1)
    return history


def test_no_history_gives_the_floor():
    b = band(MONDAY, {})
    assert (b.expected, b.maximum, b.recent, b.seasonal) == (0.0, FLOOR, None, None)
    assert not judge(DayVolume(rows=FLOOR), b).ask
    assert judge(DayVolume(rows=FLOOR + 1), b).ask


def test_a_busy_day_after_a_quiet_stretch_asks_without_earlier_years():
    # The case: weeks of a trickle, then a normal busy day of 544 entries.
    history = series(MONDAY - timedelta(days=40), MONDAY, weekday=19, weekend=2)
    b = band(MONDAY, history)
    assert b.recent == pytest.approx(19)
    assert b.maximum == FLOOR
    judged = judge(DayVolume(rows=544), b)
    assert judged.ask
    assert "544 rows is above the band up to 150 rows" in judged.summary()


def test_the_same_weeks_of_earlier_years_open_the_band_for_a_seasonal_peak():
    # Quiet until the May peak, as in every earlier year: its first day is expected.
    peak_day = date(2026, 5, 4)
    history = seasonal(3, quiet=20, peak=400, peak_from=date(2000, 5, 1),
                       peak_to=date(2000, 5, 31), until=peak_day)
    history.update({d: 20 for d in (date(2026, 5, 1),)})
    b = band(peak_day, history)
    assert b.years == 3
    assert b.recent == pytest.approx(20)
    assert b.seasonal is not None
    assert b.seasonal > 150
    assert not judge(DayVolume(rows=544), b).ask
    # Far beyond what the calendar explains still asks.
    assert judge(DayVolume(rows=int(FACTOR * b.expected) + 1), b).ask


def test_weekends_are_compared_with_weekends():
    history = series(MONDAY - timedelta(days=60), MONDAY, weekday=300, weekend=3)
    saturday = MONDAY + timedelta(days=5)
    history.update(series(MONDAY, saturday, weekday=300, weekend=3))
    assert band(saturday, history).recent == pytest.approx(3)
    assert band(MONDAY, history).recent == pytest.approx(300)


def test_the_level_of_this_year_scales_earlier_years():
    # Twice as many entries as a year ago: the seasonal expectation doubles too.
    day = date(2026, 3, 10)
    history = {d: (40 if d >= day - timedelta(days=40) else 20)
               for d in (day - timedelta(days=n) for n in range(1, 500)) if d.weekday() < 5}
    b = band(day, history)
    assert b.years == 1
    assert b.seasonal == pytest.approx(40)


def test_the_level_ratio_is_clamped():
    day = date(2026, 3, 10)
    history = {d: (1000 if d >= day - timedelta(days=40) else 10)
               for d in (day - timedelta(days=n) for n in range(1, 500)) if d.weekday() < 5}
    assert band(day, history).seasonal == pytest.approx(10 * volume_band.LEVEL_CLAMP[1])


def test_a_low_day_never_asks():
    history = series(MONDAY - timedelta(days=60), MONDAY, weekday=500)
    assert not judge(DayVolume(rows=0), band(MONDAY, history)).ask


def test_a_replayed_feed_asks_inside_the_band():
    b = band(MONDAY, series(MONDAY - timedelta(days=60), MONDAY, weekday=100))
    normal = judge(DayVolume(rows=110, duplicates=3), b)
    assert not normal.ask
    replay = judge(DayVolume(rows=120, duplicates=60), b)
    assert replay.ask
    assert "60 of 120 rows (50%) repeat certifications" in replay.summary()
    assert "above the band" not in replay.summary()


def test_the_operators_view_holds_counts_and_site_codes_only():
    b = Band(day=MONDAY, expected=19, recent=19, seasonal=None, years=0, maximum=150,
             minimum=6)
    sites = (SiteVolume("OK0000001", 400, 0.05), SiteVolume("OK0000002", 144, 0.5),
             SiteVolume("OK0000003", 25, None))
    judged = judge(DayVolume(rows=569, duplicates=4, sites=sites), b)
    text = judged.markdown()
    assert "**569 rows**" in text
    assert "up to **150**" in text
    assert "| OK0000001 ⚠ | 400 | 70.3% | 5.0% |" in text
    assert "| OK0000002 | 144 | 25.3% | 50.0% |" in text
    assert "| OK0000003 ⚠ | 25 | 4.4% | new |" in text
    assert judged.as_xcom()["ask"] is True


def test_the_gate_asks_a_few_days_a_year_on_the_seeded_history_and_on_every_replay():
    # A property of the algorithm on deterministic data (bench/volume_asks.py, docs/gates.md).
    from bench.volume_asks import measure

    measured = measure()
    print(measured.as_json()["asks_by_year"], measured.as_json()["asks"])
    assert measured.days > 3 * 365
    assert all(n <= 4 for n in measured.by_year.values()), measured.by_year
    assert measured.replays > 1000
    assert measured.replays_missed == []


def test_the_subject_names_the_day_and_the_count():
    b = Band(day=date(2026, 8, 10), expected=86, recent=86, seasonal=None, years=0,
             maximum=257, minimum=28)
    judged = RunJudgement(day=b.day, days=(judge(DayVolume(rows=4500), b),))
    assert judged.subject() == "Volume of 2026-08-10: 4,500 rows — real?"


def test_every_site_code_in_the_forms_is_escaped():
    b = Band(day=MONDAY, expected=19, recent=19, seasonal=None, years=0, maximum=150,
             minimum=6)
    hostile = "0012|**x**\n| 999 | 1 |"
    volume_ = DayVolume(rows=40, sites=(SiteVolume(hostile, 30, 0.1), SiteVolume("OK0000002",
                                                                                10, 0.2)))
    escaped = "| 0012\\|\\*\\*x\\*\\* \\| 999 \\| 1 \\| ⚠ | 30 | 75.0% | 10.0% |"
    assert escaped in judge(volume_, b).markdown().splitlines()
    ranged = volume.range_markdown(MONDAY, MONDAY + timedelta(days=3), volume_)
    assert "| 0012\\|\\*\\*x\\*\\* \\| 999 \\| 1 \\| | 30 | 75.0% |" in ranged.splitlines()
    # Nothing a site typed adds a cell or a line to a table row.
    for text, cells in ((judge(volume_, b).markdown(), 4), (ranged, 3)):
        site_rows = [line for line in text.splitlines() if line.startswith(("| 0012", "| OK"))]
        assert [len(re.findall(r"(?<!\\)\|", line)) - 1 for line in site_rows] == [cells] * 2


def test_each_day_is_judged_against_its_own_band_and_the_form_says_what_is_judged():
    # The first run of a backfill, on a Monday, also judges its lookback's Friday, Saturday
    # and Sunday, which no gate judged: four days of rows against four bands. Their sum is
    # above Monday's band; no day is above its own.
    friday, saturday, sunday = (MONDAY - timedelta(days=n) for n in (3, 2, 1))
    history = series(MONDAY - timedelta(days=60), MONDAY, weekday=100, weekend=10)
    days = tuple(judge(DayVolume(rows=n), band(d, history))
                 for d, n in ((friday, 210), (saturday, 12), (sunday, 9), (MONDAY, 110)))
    quiet = RunJudgement(day=MONDAY, days=days, judged_before=300, held=4500)
    assert quiet.rows > band(MONDAY, history).maximum
    assert not quiet.ask
    assert quiet.earlier == 231
    text = quiet.markdown()
    assert text.startswith(f"**341 rows** to judge for {MONDAY}: 110 changed on the day, 231 on "
                           "earlier days that no gate judged before")
    assert "300 rows an earlier gate let through, 4500 rows an earlier decision holds" in text
    assert f"| {saturday} | 12 | 150 | 0 | no |" in text
    assert quiet.as_xcom()["days"][1] == {"day": saturday.isoformat(), "rows": 12,
                                          "duplicates": 0, "maximum": 150, "ask": False}
    # A flood that arrived late for Sunday asks, named by its day.
    late = RunJudgement(day=MONDAY, days=(judge(DayVolume(rows=400), band(sunday, history)),
                                          days[3]))
    assert late.ask
    assert late.summary().startswith(f"{sunday}: 400 rows is above the band up to 150 rows")
    assert "**400 rows** changed on" in late.markdown()
