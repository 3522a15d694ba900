"""The source guard (docs/lifecycle.md, "The source guard"): what every CTIMS table the rules
read holds tonight, against the last check that passed. A replica that is empty or partial for
a night looks like mass corrections; beyond these thresholds the run changes no badge.

The census is counts only (tables, and per site where one site's rows can go missing on
their own), so it is safe to keep, log and mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Whole tables, by the census's measure names (lifecycle/check/census.sql).
TABLE_MEASURES = ("realtime_live", "realtime_deleted", "students", "enrollments", "programs",
                  "sites", "approved_assessments", "program_assessments")
# Fewer soft-deleted rows is no threat (an entry undeleted, a deleted one purged): only a jump
# of them is (mass deletion shows as a drop of the live rows too).
JUMP_ONLY = frozenset({"realtime_deleted"})
# Students CTIMS names no usable recipient for (a rise is a replica clearing fields).
BLANK_MEASURES = ("students_blank_email", "students_blank_name")
# Per site: a small site's rows missing are a small share of the whole table.
SITE_MEASURES = ("realtime_live", "enrollments", "programs")

# The thresholds, set on the seeded multi-year history (tests/integration/badging/
# lifecycle/test_guard_history.py replays it night by night: no normal night trips them).
# A table that lost more than DROP_SHARE of its rows since the baseline and at least
# DROP_MIN_ROWS (a day's deletions in a young table are not a glitch), or more than
# WHOLESALE_DROP_SHARE of them whatever its size (a small reference table half gone).
DROP_SHARE = 0.02
DROP_MIN_ROWS = 10
WHOLESALE_DROP_SHARE = 0.25
# A table that grew by more than this share and at least JUMP_MIN_ROWS rows: a duplicated
# load or a replayed table. A normal day adds a day's entries to a year's (a few percent).
JUMP_SHARE = 0.5
JUMP_MIN_ROWS = 50
# More students newly without a usable name or email than this (and this share of all).
BLANK_RISE_MIN = 10
BLANK_RISE_SHARE = 0.005
# A site that lost more than this share of its rows, and at least SITE_MIN_DROP of them (an
# instructor deleting a few duplicates of a small site is no glitch).
SITE_DROP_SHARE = 0.25
SITE_MIN_DROP = 5
# How many findings a blocked check's reason names (the rest are counted).
REASONS_SHOWN = 5

Census = Mapping[str, Any]


@dataclass(frozen=True)
class Trip:
    """One measure beyond its threshold: counts and a site code only."""

    measure: str
    before: int
    now: int
    site: str | None = None

    def describe(self) -> str:
        where = f"ctims.{_table(self.measure)}"
        if self.site is not None:
            where += f" at site {self.site}"
        elif self.measure in BLANK_MEASURES:
            where = f"students without a usable {self.measure.rsplit('_', 1)[1]}"
        change = (f"{(self.now - self.before) / self.before:+.0%}" if self.before
                  else "from none")
        return f"{where}: {self.before} at the baseline, {self.now} now ({change})"


def _table(measure: str) -> str:
    return {"realtime_live": "realtime_certifications (live)",
            "realtime_deleted": "realtime_certifications (deleted)"}.get(measure, measure)


def census_of(rows: list[tuple[str, str | None, int]]) -> dict[str, Any]:
    """The census as kept in badging.badge_check: {measure: n, "site:<measure>": {site: n}}."""
    census: dict[str, Any] = {}
    for measure, site, count in rows:
        if site is None:
            census[measure] = int(count)
        else:
            census.setdefault(f"site:{measure}", {})[site] = int(count)
    return census


def trips(baseline: Census, now: Census) -> list[Trip]:
    """Every measure of `now` beyond its threshold against `baseline`, largest change first.

    A count of 0 is a baseline like any other: a table that had none and now has many trips.
    """
    found = []
    for measure in TABLE_MEASURES:
        before, after = int(baseline.get(measure, 0)), int(now.get(measure, 0))
        lost = before - after
        dropped = measure not in JUMP_ONLY and (
            (lost > DROP_SHARE * before and lost >= DROP_MIN_ROWS)
            or lost > WHOLESALE_DROP_SHARE * before)
        jumped = after - before >= JUMP_MIN_ROWS and after - before > JUMP_SHARE * before
        if dropped or jumped:
            found.append(Trip(measure, before, after))
    students = int(now.get("students", 0))
    for measure in BLANK_MEASURES:
        before, after = int(baseline.get(measure, 0)), int(now.get(measure, 0))
        if after - before > max(BLANK_RISE_MIN, BLANK_RISE_SHARE * students):
            found.append(Trip(measure, before, after))
    for measure in SITE_MEASURES:
        sites_now = now.get(f"site:{measure}", {})
        for site, before in baseline.get(f"site:{measure}", {}).items():
            after = int(sites_now.get(site, 0))
            if before - after >= SITE_MIN_DROP and before - after > SITE_DROP_SHARE * before:
                found.append(Trip(measure, int(before), after, site))
    return sorted(found, key=lambda t: -abs(t.now - t.before))


def blocked_reason(found: list[Trip]) -> str | None:
    """The one line a blocked check records and mails, or None when nothing tripped."""
    if not found:
        return None
    named = "; ".join(t.describe() for t in found[:REASONS_SHOWN])
    more = f"; and {len(found) - REASONS_SHOWN} more" if len(found) > REASONS_SHOWN else ""
    return (f"the CTIMS replica changed beyond the source guard's thresholds ({named}{more}): "
            "no badge revoked, replaced or moved tonight")
