"""The seed's records (field for field the columns they COPY into), its parameters
and the outcome vocabulary every row is built to get."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from badging.core.constants import AGENCY_TZ

CHICAGO = AGENCY_TZ
# The truth assumes the DAG's program_launch param keeps its default,
# badging.core.constants.PROGRAM_LAUNCH.
ASSESSMENT_CODE = re.compile(r"^([A-Z]{2,6})([0-9]{3,6})$")

# Dirty rows that validation must quarantine; the other three kinds pass validation.
QUARANTINE_KINDS = (
    "missing_email", "malformed_email", "blank_name", "malformed_assessment_code",
    "null_test_date", "future_test_date", "impossible_test_date", "bad_site_code",
)
DIRTY_KINDS = (*QUARANTINE_KINDS, "unknown_assessment", "duplicate", "noise")

# Outcomes of clean rows, as shares. Every ineligible reason gets a few percent so that
# a seed of a few hundred rows still shows each of them.
CLEAN_MIX = (
    ("eligible", 0.70),
    ("deleted", 0.02),
    ("assessment_not_effective", 0.04),
    ("vendor_badge", 0.07),
    ("no_aligned_program", 0.06),
    ("before_program_launch", 0.04),
    ("no_badge_template", 0.04),
    ("opted_out", 0.03),
)
# When a row cannot be built as intended (say, an eligible row whose test date falls
# before the launch), the first of these that can be built is used instead.
FALLBACK = ("eligible", "before_program_launch", "no_aligned_program",
            "assessment_not_effective")

STUDENT_ID_START = 1_000_001


# Records, field for field the columns of their tables, so they COPY as they are.
class Site(NamedTuple):
    site_code: str
    name: str
    accredited: bool
    # The testing contact who gets the site's morning list (ctims/003_site_contacts.sql).
    contact_email: str | None


class Program(NamedTuple):
    program_code: str
    name: str
    cip_code: str
    site_code: str
    approved: bool


class Assessment(NamedTuple):
    assessment_code: str
    name: str
    vendor: str
    credential_type: str
    vendor_issues_badge: bool
    approved_from: date
    approved_to: date | None


class ProgramAssessment(NamedTuple):
    program_code: str
    assessment_code: str


class Student(NamedTuple):
    student_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    badge_opt_out: bool


class Enrollment(NamedTuple):
    student_id: int
    program_code: str
    start_date: date
    end_date: date | None


class Certification(NamedTuple):
    certification_id: int
    student_id: int
    assessment_code: str | None
    site_code: str | None
    program_code: str | None
    test_date: date | None
    entered_by: str
    entered_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class BadgeTemplate(NamedTuple):
    assessment_code: str
    credly_template_id: str
    active: bool


class AssessmentValidity(NamedTuple):
    """How long the agency says a badge of the assessment is valid (badging.assessment_validity):
    months, or never."""

    assessment_code: str
    valid_months: int | None
    never: bool


class Truth(NamedTuple):
    certification_id: int
    expected: str
    dirty_kind: str | None
    duplicate_of: int | None


class Correction(NamedTuple):
    """A change CTIMS saw on a later day to a badge-earning row (devstack.seed_correction)."""

    certification_id: int
    kind: str
    corrected_on: date
    # The badge the correction concerns: the row's student and assessment (upper-cased,
    # trimmed) before it.
    student_id: int
    assessment_code: str
    expected: str
    # For kind = 'reentered': the row entered in its place.
    reentered_as: int | None


@dataclass(frozen=True)
class SeedParams:
    """What to generate: `rows` Real-Time rows entered between two Chicago days, inclusive."""

    date_from: date
    date_to: date
    rows: int
    dirty_rate: float = 0.05
    seed: int = 1
    correction_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.date_from < date(2001, 1, 1):
            # Earlier entries would carry test dates the pipeline treats as impossible.
            raise ValueError("date_from must be 2001-01-01 or later")
        if self.rows < 0:
            raise ValueError("rows must not be negative")
        if not 0.0 <= self.dirty_rate <= 1.0:
            raise ValueError("dirty_rate must be between 0 and 1")
        if not 0.0 <= self.correction_rate <= 1.0:
            raise ValueError("correction_rate must be between 0 and 1")


@dataclass(frozen=True)
class IdStart:
    """The next free ids, so that a second seed adds rows next to the first one's."""

    student_id: int = STUDENT_ID_START
    certification_id: int = 1


@dataclass(frozen=True)
class Dataset:
    """Everything one seed writes. Reference tables depend on the seed alone."""

    sites: tuple[Site, ...]
    programs: tuple[Program, ...]
    approved_assessments: tuple[Assessment, ...]
    program_assessments: tuple[ProgramAssessment, ...]
    badge_templates: tuple[BadgeTemplate, ...]
    students: tuple[Student, ...]
    enrollments: tuple[Enrollment, ...]
    certifications: tuple[Certification, ...]
    truth: tuple[Truth, ...]
    corrections: tuple[Correction, ...] = ()
    assessment_validity: tuple[AssessmentValidity, ...] = ()

