"""Corrections: reproducible, every kind, and each expected outcome re-derived from the rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from devstack.seed import CORRECTION_KINDS, SeedParams, generate
from tests.devstack.unit.seed.world import (
    CHICAGO,
    MIXED,
    World,
    assert_truth_holds,
    dataset,
    entered_day,
)

CORRECTED = replace(MIXED, correction_rate=0.3)
REVOKING = ("soft_delete", "hard_delete", "reassigned_student", "reassigned_assessment")


def worlds(params: SeedParams = CORRECTED) -> tuple[World, World]:
    """The seed with its corrections, and the same seed without (the rows before them)."""
    return World(dataset(params)), World(dataset(replace(params, correction_rate=0.0)))


def test_the_same_seed_gives_the_same_corrections():
    params = SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=3000, dirty_rate=0.2,
                        seed=5, correction_rate=0.2)
    first, again = generate(params), generate(params)
    assert first.corrections
    assert first == again
    other = generate(replace(params, seed=6))
    assert [c.kind for c in other.corrections] != [c.kind for c in first.corrections]


def test_every_kind_appears_about_as_often_as_the_others():
    after, before = worlds()
    kinds = Counter(c.kind for c in after.data.corrections)
    assert set(kinds) == set(CORRECTION_KINDS)
    assert max(kinds.values()) - min(kinds.values()) <= 1
    earning = sum(t.expected in ("eligible", "duplicate") for t in before.data.truth)
    assert 0.2 * earning < len(after.data.corrections) <= 0.3 * earning + 1


def test_rows_the_corrections_leave_alone_are_the_seed_without_them():
    after, before = worlds()
    touched = {c.certification_id for c in after.data.corrections}
    added = {c.reentered_as for c in after.data.corrections if c.reentered_as}
    assert {cid: row for cid, row in after.rows.items() if cid not in touched | added} == {
        cid: row for cid, row in before.rows.items() if cid not in touched}
    fixed = {c.student_id for c in after.data.corrections
             if c.kind in ("email_fixed", "name_fixed")}
    assert {s for s in after.data.students if s.student_id not in fixed} == {
        s for s in before.data.students if s.student_id not in fixed}
    assert after.data.enrollments == before.data.enrollments
    # Re-entered rows take ids after the seed's last, in the order they were entered.
    assert sorted(added) == list(range(MIXED.rows + 1, MIXED.rows + 1 + len(added)))


def test_each_kind_changes_what_it_says_on_a_later_day():
    after, before = worlds()
    for c in after.data.corrections:
        was = before.rows[c.certification_id]
        assert (was.student_id, before.code(was)) == (c.student_id, c.assessment_code)
        assert before.truth[c.certification_id].expected in ("eligible", "duplicate")
        assert was.updated_at.astimezone(CHICAGO).date() < c.corrected_on <= CORRECTED.date_to
        if c.kind == "hard_delete":
            assert c.certification_id not in after.rows
            assert c.certification_id not in after.truth
            continue
        now = after.rows[c.certification_id]
        assert now.updated_at > was.updated_at
        assert now.updated_at.astimezone(CHICAGO).date() == c.corrected_on
        changed = {f for f in now._fields if getattr(now, f) != getattr(was, f)}
        student_now = after.students[was.student_id]
        student_was = before.students[was.student_id]
        if c.kind in ("soft_delete", "reentered"):
            assert changed == {"updated_at", "deleted_at"}
            assert now.deleted_at == now.updated_at
        elif c.kind == "reassigned_student":
            assert changed == {"updated_at", "student_id"}
            assert c.assessment_code not in {before.code(r) for r in before.rows.values()
                                             if r.student_id == now.student_id}
        elif c.kind == "reassigned_assessment":
            assert changed == {"updated_at", "assessment_code"}
            assert after.code(now) not in after.assessments
        else:
            assert changed == {"updated_at"}
            # A student may have had more than one fix, on different rows.
            differs = {f for f in student_now._fields
                       if getattr(student_now, f) != getattr(student_was, f)}
            fields = {"email"} if c.kind == "email_fixed" else {"first_name", "last_name"}
            assert differs & fields
            assert differs <= {"email", "first_name", "last_name"}
        assert (c.reentered_as is not None) == (c.kind == "reentered")
        if c.reentered_as:
            again = after.rows[c.reentered_as]
            assert again._replace(certification_id=was.certification_id,
                                  entered_at=was.entered_at, updated_at=was.updated_at) == was
            assert entered_day(again) == c.corrected_on
            assert again.entered_at > now.deleted_at


def test_the_truth_still_matches_the_rows():
    after, _ = worlds()
    assert_truth_holds(after)


def test_expected_outcomes_follow_from_the_corrected_rows():
    after, _ = worlds()
    # Re-derived from the raw rows: which badge keys a live row still earns.
    outcomes = after.outcomes()
    earned = {(row.student_id, after.code(row)) for cid, row in after.rows.items()
              if outcomes[cid][0] in ("eligible", "duplicate")}
    expected = Counter()
    for c in after.data.corrections:
        key = (c.student_id, c.assessment_code)
        expected[c.kind, c.expected] += 1
        if c.kind in REVOKING:
            assert c.expected == ("nothing" if key in earned else "revoke"), c
        elif c.kind == "reentered":
            assert c.expected == "nothing"
            assert key in earned
        else:
            assert c.expected == {"email_fixed": "move_email", "name_fixed": "replace_name"}[
                c.kind]
            assert key in earned
    # Both readings of a revoking kind occur: a duplicate entry keeps the badge justified.
    assert all(expected[kind, "revoke"] for kind in REVOKING)
    assert sum(expected[kind, "nothing"] for kind in REVOKING)


def test_a_tiny_seed_with_corrections_keeps_its_truth():
    params = SeedParams(date(2024, 5, 1), date(2024, 5, 3), rows=12, dirty_rate=0.3, seed=1,
                        correction_rate=1.0)
    after = World(dataset(params))
    assert_truth_holds(after)
    # Nothing entered on the last day can be corrected later.
    assert all(c.corrected_on > date(2024, 5, 1) for c in after.data.corrections)
