"""Dirty rows: each kind in its share, each defect what validation must catch."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date

from devstack.seed import DIRTY_KINDS, SeedParams
from tests.devstack.unit.seed.world import (
    CODE,
    EMAIL,
    MIXED,
    SITE,
    btrim,
    dataset,
    dirty,
    world,
)


def test_each_dirty_kind_appears_in_even_shares():
    truth = world().data.truth
    kinds = Counter(t.dirty_kind for t in truth if t.dirty_kind)
    assert set(kinds) == set(DIRTY_KINDS)
    expected = MIXED.rows * MIXED.dirty_rate / len(DIRTY_KINDS)
    assert all(abs(n - expected) <= 1 for n in kinds.values()), kinds


def test_no_dirty_rows_at_rate_zero():
    params = SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=2000, dirty_rate=0.0, seed=2)
    truth = dataset(params).truth
    assert all(t.dirty_kind is None for t in truth)
    assert {t.expected for t in truth} >= {"eligible", "ineligible:opted_out"}


def test_missing_emails_are_missing():
    w, rows = dirty("missing_email")
    assert all(w.students[r.student_id].email is None for r in rows)


def test_malformed_emails_fail_even_after_normalising():
    w, rows = dirty("malformed_email")
    for row in rows:
        email = w.email(row)
        assert email is not None
        assert not EMAIL.match(email)
        assert not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)


def test_blank_names_are_blank():
    w, rows = dirty("blank_name")
    for row in rows:
        student = w.students[row.student_id]
        assert not btrim(student.first_name) or not btrim(student.last_name)


def test_malformed_codes_fail_even_after_normalising():
    w, rows = dirty("malformed_assessment_code")
    assert all(not CODE.match(w.code(r) or "") for r in rows)


def test_test_date_defects():
    _, missing = dirty("null_test_date")
    assert all(r.test_date is None for r in missing)
    _, future = dirty("future_test_date")
    # After the day of entry in Chicago, and in UTC too, whichever a check uses.
    assert all(r.test_date > r.entered_at.astimezone(UTC).date() for r in future)
    _, impossible = dirty("impossible_test_date")
    assert all(r.test_date < date(2000, 1, 1) for r in impossible)


def test_bad_site_codes_are_not_nine_digits():
    _, rows = dirty("bad_site_code")
    assert all(not SITE.match(btrim(r.site_code) or "") for r in rows)


def test_unknown_assessments_are_well_formed_but_not_approved():
    w, rows = dirty("unknown_assessment")
    assert all(CODE.match(w.code(r)) and w.code(r) not in w.assessments for r in rows)
    assert all(w.valid(r) for r in rows)


def test_noise_is_only_whitespace_and_case():
    w, rows = dirty("noise")
    for row in rows:
        student = w.students[row.student_id]
        raw = (row.assessment_code, row.site_code, student.email, student.first_name,
               student.last_name)
        assert raw != (w.code(row), btrim(row.site_code), w.email(row),
                       btrim(student.first_name), btrim(student.last_name))
        assert w.valid(row)
    noisy_truth = Counter(w.truth[r.certification_id].expected for r in rows)
    assert "quarantined" not in noisy_truth
    assert noisy_truth.most_common(1)[0][0] == "eligible"
