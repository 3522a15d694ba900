"""The Outcomes page's data: figures from the summary for a filter, and the CSV of its badges.

The figures are the report task's summary (badging.outcome_summary, docs/outcomes.md), read in
one pass over the rows the filter keeps; the CSV is one row per badge, streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from badging.console import names as console_names
from badging.console import source
from badging.core.constants import AGENCY_TIMEZONE, AGENCY_TZ, CredlyState
from badging.outcomes import calendar
from badging.pipeline.extract import Names

# The outcomes a badge can have, in the order the page shows them.
OUTCOMES = (CredlyState.ACCEPTED, CredlyState.PENDING, CredlyState.REJECTED,
            CredlyState.EXPIRED, CredlyState.REVOKED)
DIMENSIONS = ("month", "site", "program", "cluster", "assessment")
_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# Bytes of CSV the console sends at a time.
CSV_CHUNK = 256 * 1024
CSV_COLUMNS = ("certification_id", "school_year", "issued_on", "outcome", "accepted_on",
               "site_code", "site_name", "program_code", "program_name", "cip_code",
               "cluster", "cluster_title", "assessment_code", "assessment_name", "entered_by")
# Only for users who may see students (operators): docs/outcomes.md.
STUDENT_COLUMN = "student_id"


@dataclass(frozen=True)
class Filters:
    """What the page, the JSON and the CSV are about; each None means all. In the URL, so a
    view can be linked."""

    year: int | None = None
    month: date | None = None
    site: str | None = None
    program: str | None = None
    cluster: str | None = None
    assessment: str | None = None
    outcome: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str], today: date | None = None) -> Filters:
        """Filters from a query string; the current school year when none is named.

        Raises:
            ValueError: a value that is not one (the message names the parameter only).
        """
        def text(name: str, pattern: re.Pattern[str] = _CODE) -> str | None:
            value = (query.get(name) or "").strip()
            if value and not pattern.match(value):
                raise ValueError(f"{name}: not a valid value")
            return value or None

        month = None
        if raw := text("month", _MONTH):
            try:
                month = date(int(raw[:4]), int(raw[5:]), 1)
            except ValueError:
                raise ValueError("month: write it 2026-03") from None
        year_text = (query.get("year") or "").strip()
        if year_text == "all":
            year = None
        elif year_text:
            year = calendar.parse_year(year_text)
        else:
            year = calendar.school_year(month or today or datetime.now(AGENCY_TZ).date())
        if month and year is not None and calendar.school_year(month) != year:
            raise ValueError("month: not in that school year")
        site = text("site", re.compile(r"^[0-9]{9}$"))
        cluster = text("cluster", re.compile(r"^[0-9]{2}$"))
        outcome = text("outcome")
        if outcome and outcome not in OUTCOMES:
            raise ValueError("outcome: one of " + ", ".join(OUTCOMES))
        assessment = text("assessment")
        return cls(year, month, site, text("program"), cluster,
                   assessment.upper() if assessment else None, outcome)

    def query(self, **changes: Any) -> str:
        """This filter (with `changes`) as a query string, for links ("?year=2025-26&…")."""
        chosen = replace(self, **changes)
        pairs = {"year": "all" if chosen.year is None else calendar.label(chosen.year),
                 "month": chosen.month.strftime("%Y-%m") if chosen.month else None,
                 **{f.name: getattr(chosen, f.name) for f in fields(chosen)
                    if f.name not in ("year", "month")}}
        return "?" + urlencode({k: v for k, v in pairs.items() if v is not None})

    def narrow(self, dimension: str, code: str) -> str | None:
        """The query string of this filter narrowed to one line of a breakdown (None for a
        line without a code: no site, no CIP family)."""
        if not code:
            return None
        if dimension == "month":
            return self.query(month=date.fromisoformat(f"{code}-01"))
        return self.query(**{dimension: code})

    def params(self, scope: list[str] | None) -> dict[str, Any]:
        return {"year": self.year, "month": self.month, "sites": scope, "site": self.site,
                "program": self.program, "cluster": self.cluster,
                "assessment": self.assessment, "outcome": self.outcome}

    def to_json(self) -> dict[str, Any]:
        return {"school_year": calendar.label(self.year) if self.year is not None else None,
                "month": self.month.strftime("%Y-%m") if self.month else None,
                "site": self.site, "program": self.program, "cluster": self.cluster,
                "assessment": self.assessment, "outcome": self.outcome}


@dataclass
class Figures:
    """Badges per outcome and the days-to-accept histogram of one group."""

    counts: dict[str, int] = field(default_factory=dict)
    bins: list[int] = field(default_factory=lambda: [0] * len(calendar.BIN_COLUMNS))

    def add(self, row: Mapping[str, Any]) -> None:
        state = row["credly_state"]
        self.counts[state] = self.counts.get(state, 0) + row["badges"]
        self.bins = [a + (row[c] or 0) for a, c in zip(self.bins, calendar.BIN_COLUMNS,
                                                       strict=True)]

    @property
    def issued(self) -> int:
        return sum(self.counts.values())

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted over the badges issued less those revoked (taken away, not refused)."""
        standing = self.issued - self.count(CredlyState.REVOKED)
        return round(self.count(CredlyState.ACCEPTED) / standing, 4) if standing > 0 else None

    @property
    def median_days_to_accept(self) -> float | None:
        return calendar.median_days(self.bins)

    def to_json(self) -> dict[str, Any]:
        return {"issued": self.issued, **{str(o): self.count(o) for o in OUTCOMES},
                "acceptance_rate": self.acceptance_rate,
                "median_days_to_accept": self.median_days_to_accept}


@dataclass
class Group:
    """One line of a breakdown: a month, site, program, cluster or assessment."""

    code: str
    name: str | None
    figures: Figures

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, **self.figures.to_json()}


@dataclass
class Outcomes:
    """Everything the Outcomes page shows for a filter."""

    filters: Filters
    totals: Figures
    groups: dict[str, list[Group]]
    years: list[int]
    refreshed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"filters": self.filters.to_json(), "totals": self.totals.to_json(),
                **{f"by_{d}": [g.to_json() for g in self.groups[d]] for d in DIMENSIONS},
                "school_years": [calendar.label(y) for y in self.years],
                "refreshed_at": self.refreshed_at}


def read(conn: Any, filters: Filters, scope: list[str] | None) -> Outcomes:
    """The figures for a filter, within the viewer's sites (`scope`; None: all)."""
    totals = Figures()
    by: dict[str, dict[str, Figures]] = {d: {} for d in DIMENSIONS}
    for row in source.rows(conn, "console/outcomes_figures.sql", filters.params(scope)):
        if row["dimension"] == "total":
            totals.add(row)
        else:
            by[row["dimension"]].setdefault(row["code"], Figures()).add(row)
    if filters.year is not None and filters.month is None and totals.issued:
        # Every month of the school year, so the chart's columns are the year's.
        for first in calendar.months(filters.year):
            by["month"].setdefault(first.strftime("%Y-%m"), Figures())
    found = console_names.read(conn, sites=by["site"], programs=by["program"],
                               assessments=by["assessment"])
    groups = {d: _groups(d, figures, found) for d, figures in by.items()}
    years = [row["year"] for row in source.rows(conn, "console/outcomes_years.sql", {})]
    refreshed = source.rows(conn, "console/outcomes_refreshed.sql", {})
    return Outcomes(filters, totals, groups, years,
                    refreshed[0]["refreshed_at"] if refreshed else None)


def _groups(dimension: str, figures: dict[str, Figures], found: Names) -> list[Group]:
    def name(code: str) -> str | None:
        if dimension == "cluster":
            return calendar.cluster_title(code)
        if dimension == "month":
            return date.fromisoformat(f"{code}-01").strftime("%B %Y")
        return {"site": found.sites, "program": found.programs,
                "assessment": found.assessments}[dimension].get(code)

    groups = [Group(code, name(code), f) for code, f in figures.items()]
    if dimension == "month":
        return sorted(groups, key=lambda g: g.code)
    return sorted(groups, key=lambda g: (-g.figures.issued, g.code))


def csv_header(with_students: bool) -> list[str]:
    """The CSV's columns (console/outcomes_badges.sql's, in its order)."""
    return [*CSV_COLUMNS, *((STUDENT_COLUMN,) if with_students else ())]


def csv_statement(with_students: bool) -> Any:
    """console/outcomes_badges.sql as COPY … CSV, with the student id column for operators
    only (a column, not a value: composed, never formatted from input)."""
    from psycopg import sql as psql

    from badging.core import sql

    query = psql.SQL(sql.load("console/outcomes_badges.sql")).format(
        student_id=psql.SQL(", badge.student_id") if with_students else psql.SQL(""))
    return psql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(query)


def csv_chunks(conn: Any, filters: Filters, scope: list[str] | None,
               with_students: bool) -> Iterator[bytes]:
    """The CSV, written by Postgres (COPY) and sent as it comes, CSV_CHUNK bytes at a time.

    Rows come in the order Postgres reads them (no sort: a sort would hold back the first
    row until the last was read, seconds for an agency-wide export).
    """
    params = filters.params(scope) | {
        "time_zone": AGENCY_TIMEZONE, "with_students": with_students,
        "family_codes": list(calendar.CIP_FAMILIES),
        "family_titles": list(calendar.CIP_FAMILIES.values())}
    source.rows(conn, "console/csv_bounds.sql", {})
    buffered = bytearray()
    with conn.cursor() as cursor, cursor.copy(csv_statement(with_students), params) as copy:
        for data in copy:
            buffered += data
            if len(buffered) >= CSV_CHUNK:
                yield bytes(buffered)
                buffered.clear()
    if buffered:
        yield bytes(buffered)


def csv_filename(filters: Filters) -> str:
    parts = ["badges", calendar.label(filters.year) if filters.year is not None else "all"]
    parts += [v for v in (filters.month and filters.month.strftime("%Y-%m"), filters.site,
                          filters.program, filters.cluster and f"cip{filters.cluster}",
                          filters.assessment, filters.outcome) if v]
    return "_".join(parts) + ".csv"
