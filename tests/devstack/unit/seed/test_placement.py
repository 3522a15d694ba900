"""Clean rows: each outcome built the way the rules decide it, every reason shown."""
from __future__ import annotations

from collections import Counter
from datetime import date

from devstack.seed import SeedParams
from tests.devstack.unit.seed.world import (
    LAUNCH,
    World,
    assert_truth_holds,
    dataset,
    world,
)


def test_eligible_rows_meet_every_rule():
    w = world()
    for row in w.rows_of(expected="eligible"):
        code = w.code(row)
        assert w.valid(row)
        assert row.deleted_at is None
        assert code in w.assessments
        assert w.effective(code, row.test_date)
        assert not w.assessments[code].vendor_issues_badge
        assert w.aligned(row)
        assert row.test_date >= LAUNCH
        assert code in w.active
        assert not w.students[row.student_id].badge_opt_out


def test_vendor_badge_rows_are_listed_effective_and_vendor_badged():
    w = world()
    rows = w.rows_of(expected="ineligible:vendor_badge")
    assert rows
    for row in rows:
        code = w.code(row)
        assert w.effective(code, row.test_date)
        assert w.assessments[code].vendor_issues_badge


def test_no_aligned_program_happens_in_every_way():
    w = world(SeedParams(date(2023, 1, 1), date(2024, 12, 31), rows=20_000, dirty_rate=0.0,
                         seed=8))
    ways = Counter()
    for row in w.rows_of(expected="ineligible:no_aligned_program"):
        enrollments = w.enrollments[row.student_id]
        programs = [w.programs[e.program_code] for e in enrollments]
        if not enrollments:
            ways["not enrolled"] += 1
        elif any(e.start_date > row.test_date for e in enrollments):
            ways["enrolled after the test"] += 1
        elif any(not p.approved for p in programs):
            ways["unapproved program"] += 1
        elif any(p.site_code not in w.accredited for p in programs):
            ways["unaccredited site"] += 1
        else:
            ways["blueprint does not cover it"] += 1
    assert len(ways) == 5, ways


def test_clean_rows_are_mostly_eligible_with_every_reason_shown():
    params = SeedParams(date(2023, 1, 1), date(2024, 12, 31), rows=20_000, dirty_rate=0.0,
                        seed=12)
    shares = Counter(t.expected for t in dataset(params).truth)
    assert 0.65 <= shares["eligible"] / params.rows <= 0.75
    for reason in ("deleted", "assessment_not_effective", "vendor_badge", "no_aligned_program",
                   "before_program_launch", "no_badge_template", "opted_out"):
        assert shares[f"ineligible:{reason}"] / params.rows >= 0.015, reason


def test_entries_before_the_launch_are_never_eligible():
    params = SeedParams(date(2022, 9, 1), date(2022, 11, 30), rows=1000, dirty_rate=0.2, seed=3)
    w = World(dataset(params))
    assert_truth_holds(w)
    assert not w.rows_of(expected="eligible")
