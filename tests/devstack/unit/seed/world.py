"""What the seed tests share: the rules re-derived from the raw rows, and cached datasets."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from badging.core.constants import AGENCY_TZ, PROGRAM_LAUNCH
from devstack.seed import Dataset, IdStart, SeedParams, generate

REPO = Path(__file__).resolve().parents[4]
CHICAGO = AGENCY_TZ
LAUNCH = PROGRAM_LAUNCH
# The rules as the brief and the GX suite state them, written out again here on purpose:
# the generator's own constants are not trusted to check the generator.
CODE = re.compile(r"^[A-Z]{2,6}[0-9]{3,6}$")
SITE = re.compile(r"^[0-9]{9}$")
EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                   r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,}$")
MIXED = SeedParams(date(2022, 6, 1), date(2025, 6, 30), rows=6000, dirty_rate=0.3, seed=11)


@cache
def dataset(params: SeedParams, start_ids: IdStart | None = None) -> Dataset:
    return generate(params, start_ids=start_ids)


def btrim(value: str | None) -> str | None:
    """Postgres btrim(x): spaces only."""
    return None if value is None else value.strip(" ")


def entered_day(row) -> date:
    return row.entered_at.astimezone(CHICAGO).date()


@dataclass
class World:
    """A dataset indexed the way the pipeline's joins read it."""

    data: Dataset

    def __post_init__(self) -> None:
        d = self.data
        self.students = {s.student_id: s for s in d.students}
        self.assessments = {a.assessment_code: a for a in d.approved_assessments}
        self.programs = {p.program_code: p for p in d.programs}
        self.accredited = {s.site_code for s in d.sites if s.accredited}
        self.links = {(pa.program_code, pa.assessment_code) for pa in d.program_assessments}
        self.active = {t.assessment_code for t in d.badge_templates if t.active}
        self.enrollments = defaultdict(list)
        for e in d.enrollments:
            self.enrollments[e.student_id].append(e)
        self.truth = {t.certification_id: t for t in d.truth}
        self.rows = {c.certification_id: c for c in d.certifications}

    def code(self, row) -> str | None:
        return None if row.assessment_code is None else btrim(row.assessment_code).upper()

    def email(self, row) -> str | None:
        raw = self.students[row.student_id].email
        return None if raw is None else btrim(raw).lower()

    def valid(self, row) -> bool:
        student = self.students[row.student_id]
        email, code = self.email(row), self.code(row)
        return (email is not None and EMAIL.match(email) is not None
                and bool(btrim(student.first_name)) and bool(btrim(student.last_name))
                and code is not None and CODE.match(code) is not None
                and row.test_date is not None
                and date(2000, 1, 1) <= row.test_date <= entered_day(row)
                and SITE.match(btrim(row.site_code) or "") is not None)

    def effective(self, code: str, on: date) -> bool:
        a = self.assessments[code]
        return a.approved_from <= on and (a.approved_to is None or on <= a.approved_to)

    def aligned(self, row) -> bool:
        code = self.code(row)
        for e in self.enrollments[row.student_id]:
            program = self.programs[e.program_code]
            if (e.start_date <= row.test_date and program.approved
                    and program.site_code in self.accredited
                    and (program.program_code, code) in self.links):
                return True
        return False

    def outcome(self, row) -> str:
        """The rules in the pipeline's order, from the raw row."""
        if not self.valid(row):
            return "quarantined"
        code = self.code(row)
        if row.deleted_at is not None:
            return "ineligible:deleted"
        if code not in self.assessments:
            return "ineligible:not_approved_assessment"
        if not self.effective(code, row.test_date):
            return "ineligible:assessment_not_effective"
        if self.assessments[code].vendor_issues_badge:
            return "ineligible:vendor_badge"
        if not self.aligned(row):
            return "ineligible:no_aligned_program"
        if row.test_date < LAUNCH:
            return "ineligible:before_program_launch"
        if code not in self.active:
            return "ineligible:no_badge_template"
        if self.students[row.student_id].badge_opt_out:
            return "ineligible:opted_out"
        return "eligible"

    def outcomes(self) -> dict[int, tuple[str, int | None]]:
        """Every row's outcome; of eligible rows sharing a certification, the first keeps it."""
        found = {}
        first_of: dict[tuple, int] = {}
        for row in sorted(self.data.certifications, key=lambda r: r.certification_id):
            outcome = self.outcome(row)
            original = None
            if outcome == "eligible":
                key = (row.student_id, self.code(row), row.test_date)
                original = first_of.setdefault(key, row.certification_id)
                if original != row.certification_id:
                    outcome = "duplicate"
                else:
                    original = None
            found[row.certification_id] = (outcome, original)
        return found

    def rows_of(self, *, kind: str | None = None, expected: str | None = None) -> list:
        return [self.rows[t.certification_id] for t in self.data.truth
                if (kind is None or t.dirty_kind == kind)
                and (expected is None or t.expected == expected)]


@cache
def world(params: SeedParams = MIXED) -> World:
    return World(dataset(params))


def assert_truth_holds(w: World) -> None:
    derived = w.outcomes()
    wrong = [(cid, w.truth[cid].expected, w.truth[cid].dirty_kind, got)
             for cid, got in derived.items()
             if (w.truth[cid].expected, w.truth[cid].duplicate_of) != got]
    assert not wrong, f"{len(wrong)} rows disagree, e.g. {wrong[:5]}"


def dirty(kind: str) -> tuple[World, list]:
    """The mixed world and its rows of one dirty kind (at least one)."""
    w = world()
    rows = w.rows_of(kind=kind)
    assert rows, kind
    return w, rows
