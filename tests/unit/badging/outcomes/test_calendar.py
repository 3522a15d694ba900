"""School years (July-June, Chicago), career clusters (CIP families) and the days-to-accept
histogram, and the SQL that counts them holding to the same bins."""

from __future__ import annotations

import re
import statistics
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from badging.outcomes import calendar

SQL = Path(__file__).resolve().parents[4] / "include" / "sql"


@pytest.mark.parametrize(("day", "year"), [
    (date(2025, 7, 1), 2025), (date(2026, 6, 30), 2025), (date(2025, 6, 30), 2024),
    (date(2025, 12, 31), 2025), (date(2026, 1, 1), 2025), (date(2022, 12, 1), 2022)])
def test_a_school_year_runs_july_to_june(day, year):
    assert calendar.school_year(day) == year


def test_an_instant_belongs_to_chicagos_day():
    # 04:30 UTC on July 1st is still June 30th in Chicago (CDT, UTC-5).
    assert calendar.school_year_of(datetime(2025, 7, 1, 4, 30, tzinfo=UTC)) == 2024
    assert calendar.school_year_of(datetime(2025, 7, 1, 5, 0, tzinfo=UTC)) == 2025
    start, end = calendar.bounds(2025)
    assert (start, end) == (datetime(2025, 7, 1, 5, tzinfo=UTC), datetime(2026, 7, 1, 5,
                                                                           tzinfo=UTC))


def test_labels_and_their_parsing():
    assert calendar.label(2025) == "2025-26"
    assert calendar.label(2099) == "2099-00"
    assert calendar.parse_year("2025-26") == calendar.parse_year("2025") == 2025
    assert calendar.parse_year("2025-2026") == 2025
    for bad in ("2025-27", "25-26", "twenty", "2025-", "2025-2"):
        with pytest.raises(ValueError, match="a school year is written 2025-26"):
            calendar.parse_year(bad)


def test_a_school_years_months_start_in_july():
    months = calendar.months(2025)
    assert months[0] == date(2025, 7, 1)
    assert months[-1] == date(2026, 6, 1)
    assert len(set(months)) == 12
    assert {calendar.school_year(m) for m in months} == {2025}


@pytest.mark.parametrize(("cip", "family"), [
    ("47.0604", "47"), (" 51.3901", "51"), ("01.0000", "01"), ("4", ""), (None, ""),
    ("", ""), ("AB.12", "")])
def test_a_programs_cluster_is_its_cip_family(cip, family):
    assert calendar.cluster(cip) == family


def test_the_families_are_cips_two_digit_series():
    assert calendar.cluster_title("47") == "Mechanic and Repair Technologies/Technicians"
    assert calendar.cluster_title("") is None
    assert all(re.fullmatch(r"[0-9]{2}", code) for code in calendar.CIP_FAMILIES)
    # The seed's programs all have a titled family (devstack/seed/vocabulary.py).
    from devstack.seed.vocabulary import FAMILIES

    assert all(calendar.cluster_title(calendar.cluster(f.cip)) for f in FAMILIES)


@pytest.mark.parametrize(("days", "column"), [
    (-1, "d0"), (0, "d0"), (3, "d3"), (7, "d7"), (8, "d8_14"), (14, "d8_14"),
    (30, "d15_30"), (31, "d31_60"), (90, "d61_90"), (91, "d91_plus"), (4000, "d91_plus")])
def test_days_fall_in_their_bin(days, column):
    assert calendar.accept_bin(days) == column


def _histogram(days: list[int]) -> list[int]:
    counts = [0] * len(calendar.BIN_COLUMNS)
    for d in days:
        counts[calendar.BIN_COLUMNS.index(calendar.accept_bin(d))] += 1
    return counts


@pytest.mark.parametrize("days", [[0], [0, 1], [1, 2, 3], [0, 0, 5, 6, 6, 7],
                                  [2, 2, 2, 40, 41], [7, 7, 7, 7, 100]])
def test_the_median_is_exact_in_single_day_bins(days):
    assert calendar.median_days(_histogram(days)) == statistics.median_low(days)


def test_the_median_is_interpolated_in_a_wider_bin_and_bounded_by_it():
    median = calendar.median_days(_histogram([10, 11, 12]))
    assert 8 <= median <= 14
    assert calendar.median_days(_histogram([200, 300, 400])) == 91
    assert calendar.median_days(_histogram([])) is None


def test_the_summarys_sql_counts_in_the_same_bins():
    text = (SQL / "outcomes" / "summary_count.sql").read_text()
    found = []
    for low, high, column in re.findall(r"BETWEEN (\d+) AND (\d+)\) AS (\w+)", text):
        found.append((int(low), int(high), column))
    found += [(int(low), None, column)
              for low, column in re.findall(r">= (\d+)\) AS (\w+)", text)]
    assert tuple(found) == calendar.ACCEPT_BINS
    migration = (SQL / "core" / "migrations" / "badging" / "014_outcomes.sql").read_text()
    assert all(f"{column} integer NOT NULL" in migration for column in calendar.BIN_COLUMNS)
