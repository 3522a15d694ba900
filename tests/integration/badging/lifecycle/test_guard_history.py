"""The source guard's thresholds against the seeded multi-year history (lifecycle/guard.py):
replayed night by night, with the seed's corrections, no normal night trips them; the same
history with a table lost for a night does."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import psycopg
import pytest

from badging.core import db
from badging.lifecycle.guard import census_of, trips
from devstack.seed import SeedParams

# Three school years of entries with their corrections (deletions, reassignments, fixes).
HISTORY = SeedParams(date_from=date(2023, 7, 1), date_to=date(2026, 6, 30), rows=30_000,
                     dirty_rate=0.05, seed=27, correction_rate=0.03)
# The guard compares with the last night that passed; the first weeks of a deployment are a
# history load, not nights.
FROM_NIGHT = HISTORY.date_from + timedelta(days=30)

# The Real-Time rows live and deleted at the end of each day, per site: the seed writes its
# whole history at once, so each night's census is rebuilt from the rows' own times (a row
# removed outright by a correction is missing from every night, which only makes the history
# calmer than it was).
_PER_NIGHT = """
WITH nights AS (
    SELECT d::date AS night
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
)
SELECT n.night, coalesce(btrim(r.site_code), '') AS site,
       count(*) FILTER (WHERE r.deleted_at IS NULL OR r.deleted_at >= n.night + 1) AS live,
       count(*) FILTER (WHERE r.deleted_at < n.night + 1) AS deleted
FROM nights n
JOIN ctims.realtime_certifications r ON r.entered_at < n.night + 1
GROUP BY 1, 2
"""


@pytest.fixture(scope="module")
def history(stack):
    from tests.fixtures.stack import empty_ctims

    empty_ctims(stack)
    stack.seed(HISTORY)
    yield stack
    empty_ctims(stack)


def nightly_censuses(stack) -> list[dict]:
    """Every night's census from FROM_NIGHT, oldest first: the tables as of that night."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        today = census_of(db.execute(conn, "lifecycle/check/census.sql").fetchall())
        rows = conn.execute(_PER_NIGHT, {"first": FROM_NIGHT,
                                         "last": HISTORY.date_to}).fetchall()
    by_night: dict[date, dict] = {}
    for night, site, live, deleted in rows:
        census = by_night.setdefault(night, {
            **{k: v for k, v in today.items() if not k.startswith(("realtime", "site:realtime"))},
            "realtime_live": 0, "realtime_deleted": 0, "site:realtime_live": {}})
        census["realtime_live"] += live
        census["realtime_deleted"] += deleted
        census["site:realtime_live"][site] = live
    return [by_night[night] for night in sorted(by_night)]


def test_no_normal_night_of_the_history_trips_the_guard(history):
    censuses = nightly_censuses(history)
    assert len(censuses) > 1000
    tripped = [(n, [t.describe() for t in found])
               for n, (before, after) in enumerate(pairwise(censuses))
               if (found := trips(before, after))]
    assert tripped == []


def test_a_night_that_loses_one_site_or_a_table_trips_it(history):
    censuses = nightly_censuses(history)
    night = dict(censuses[-1])
    busiest = max(night["site:realtime_live"], key=night["site:realtime_live"].get)
    partial = dict(night, **{"site:realtime_live": dict(night["site:realtime_live"],
                                                        **{busiest: 0})})
    partial["realtime_live"] -= night["site:realtime_live"][busiest]
    assert trips(night, partial)[0].measure == "realtime_live"
    assert [t.measure for t in trips(night, dict(night, programs=0))] == ["programs"]


def test_the_census_counts_unusable_addresses_and_names_by_their_indexes(history):
    """The census's predicates are ctims migration 007's partial indexes' (the planner reads
    an index only if they are the same), and count what the guard means by unusable."""
    import re

    from badging.core import sql

    usable = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    with psycopg.connect(history.dsn("ctims"), autocommit=True) as conn:
        # As autovacuum keeps a replica's table: its statistics and visibility map current.
        conn.execute("VACUUM ANALYZE ctims.students")
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN " + sql.load("lifecycle/check/census.sql")))
        census = census_of(db.execute(conn, "lifecycle/check/census.sql").fetchall())
        students = conn.execute(
            "SELECT email, first_name, last_name FROM ctims.students").fetchall()
    assert "students_unusable_email_idx" in plan
    assert "students_blank_name_idx" in plan
    unusable = sum(not usable.match((email or "").strip(" ")) for email, _, _ in students)
    assert 0 < unusable < len(students)
    assert census["students_blank_email"] == unusable
    nameless = sum(not (first or "").strip(" ") or not (last or "").strip(" ")
                   for _, first, last in students)
    assert census["students_blank_name"] == nameless


def test_the_census_s_per_site_counts_are_the_rows_own(history):
    """Grouped by raw values before trimming and joining (census.sql), the counts are still
    those of every row: padded and blank site codes, deleted entries, unknown programs."""
    from collections import Counter

    with psycopg.connect(history.dsn("ctims"), autocommit=True) as conn:
        census = census_of(db.execute(conn, "lifecycle/check/census.sql").fetchall())
        entries = conn.execute(
            "SELECT site_code, deleted_at IS NOT NULL FROM ctims.realtime_certifications"
        ).fetchall()
        site_of = dict(conn.execute("SELECT program_code, site_code FROM ctims.programs"))
        enrolled = [site_of.get(code) for (code,) in conn.execute(
            "SELECT program_code FROM ctims.enrollments")]
    live = Counter((site or "").strip(" ") for site, deleted in entries if not deleted)
    assert census["site:realtime_live"] == dict(live)
    assert census["realtime_deleted"] == sum(deleted for _, deleted in entries) > 0
    assert len({(site or "").strip(" ") for site, _ in entries}) < len(
        {site for site, _ in entries})  # padded codes are in the history: trimming is tested
    assert census["site:enrollments"] == dict(Counter(s for s in enrolled if s is not None))
    assert census["enrollments"] == len(enrolled)
