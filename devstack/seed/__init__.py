"""Deterministic synthetic CTIMS data, with the outcome each Real-Time row was built to get.

records (rows, params, outcome names) · vocabulary and reference (the seed's fixed world) ·
distributions, placement, defects and rows (the row builder: `generate`) · corrections
(`--correction-rate`: badge-earning rows changed on a later day, with what the ledger must
do about each; the kinds and their expected outcomes are in its docstring) · writer (to
Postgres: `run_seed`) · cli (the one argument parser).
"""

from badging.core.constants import PROGRAM_LAUNCH
from devstack.seed.cli import add_arguments, main, params_from
from devstack.seed.corrections import KINDS as CORRECTION_KINDS
from devstack.seed.records import (
    ASSESSMENT_CODE,
    CHICAGO,
    CLEAN_MIX,
    DIRTY_KINDS,
    QUARANTINE_KINDS,
    STUDENT_ID_START,
    Assessment,
    AssessmentValidity,
    BadgeTemplate,
    Certification,
    Correction,
    Dataset,
    Enrollment,
    IdStart,
    Program,
    ProgramAssessment,
    SeedParams,
    Site,
    Student,
    Truth,
)
from devstack.seed.rows import generate
from devstack.seed.writer import (
    SeedReport,
    has_certifications,
    next_ids,
    run_seed,
    summarise,
    write,
)

__all__ = [
    "ASSESSMENT_CODE", "CHICAGO", "CLEAN_MIX", "CORRECTION_KINDS", "DIRTY_KINDS",
    "PROGRAM_LAUNCH", "QUARANTINE_KINDS", "STUDENT_ID_START", "Assessment",
    "AssessmentValidity", "BadgeTemplate",
    "Certification", "Correction", "Dataset", "Enrollment", "IdStart", "Program",
    "ProgramAssessment", "SeedParams", "SeedReport", "Site", "Student", "Truth",
    "add_arguments", "generate", "has_certifications", "main", "next_ids", "params_from",
    "run_seed", "summarise", "write",
]
