"""Staged-row DataFrames built from devstack.seed datasets, normalised as the extract does."""

from __future__ import annotations

from badging.core.run import AGENCY_TZ
from badging.pipeline.validate import staged_frame
from devstack.seed import Dataset

COLUMNS = ["certification_id", "student_id", "email", "first_name", "last_name",
           "assessment_code", "site_code", "test_date", "entered_date", "entry_lag_days",
           "approved_from", "approved_to", "text_valid_utf8"]


def _trim(text: str | None) -> str | None:
    # Postgres btrim() strips spaces only, as pipeline/extract/realtime_rows.sql does.
    return None if text is None else text.strip(" ")


def staged_records(dataset: Dataset) -> list[tuple]:
    """One record per Real-Time row, as pipeline/validate/staged_rows.sql would return it."""
    students = {s.student_id: s for s in dataset.students}
    approvals = {a.assessment_code: a for a in dataset.approved_assessments}
    records = []
    for row in dataset.certifications:
        student = students[row.student_id]
        code = _trim(row.assessment_code)
        code = code.upper() if code is not None else None
        approval = approvals.get(code or "")
        entered = row.entered_at.astimezone(AGENCY_TZ).date()
        email = _trim(student.email)
        records.append((
            row.certification_id, row.student_id, email.lower() if email else email,
            _trim(student.first_name), _trim(student.last_name), code, _trim(row.site_code),
            row.test_date, entered,
            (entered - row.test_date).days if row.test_date else None,
            approval.approved_from if approval else None,
            approval.approved_to if approval else None,
            True,
        ))
    return records


def frame_from_dataset(dataset: Dataset):
    """The DataFrame validate builds for a run whose staging holds all of `dataset`'s rows."""
    return staged_frame(staged_records(dataset), COLUMNS)
