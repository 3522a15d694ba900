"""The row builder: deterministic, realistic, and every row's truth re-derived independently."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import pairwise

from devstack.seed import IdStart, SeedParams, generate
from tests.devstack.unit.seed.world import (
    CHICAGO,
    LAUNCH,
    MIXED,
    REPO,
    World,
    assert_truth_holds,
    dataset,
    dirty,
    entered_day,
    world,
)


def test_same_params_give_the_same_dataset():
    params = SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=3000, dirty_rate=0.2, seed=5)
    assert generate(params) == generate(params)


def test_another_seed_gives_other_data():
    one = SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=500, dirty_rate=0.2, seed=5)
    other = SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=500, dirty_rate=0.2, seed=6)
    a, b = generate(one), generate(other)
    assert a.approved_assessments != b.approved_assessments
    assert a.certifications != b.certifications


def test_the_same_in_another_process():
    """Nothing hangs on str hashing or set order, which change from one process to the next."""
    script = ("import hashlib, sys; from datetime import date; from devstack.seed import *; "
              "d = generate(SeedParams(date(2023, 1, 1), date(2023, 3, 31), 400, 0.3, 21)); "
              "print(hashlib.sha256(repr(d).encode()).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                       text=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": hash_seed,
                                                 "PYTHONPATH": str(REPO)}).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_a_later_seed_starts_at_the_given_ids():
    params = SeedParams(date(2023, 1, 1), date(2023, 6, 30), rows=800, dirty_rate=0.2, seed=3)
    first = dataset(params)
    start = IdStart(max(s.student_id for s in first.students) + 1,
                    max(c.certification_id for c in first.certifications) + 1)
    second = dataset(params, start)
    assert [c.certification_id for c in second.certifications] == list(
        range(start.certification_id, start.certification_id + 800))
    assert min(s.student_id for s in second.students) == start.student_id
    # Not a copy of the first seed with new ids.
    assert ([c.assessment_code for c in first.certifications]
            != [c.assessment_code for c in second.certifications])


def test_rows_fall_in_the_range_with_increasing_ids():
    w = world()
    rows = w.data.certifications
    assert len(rows) == MIXED.rows == len(w.data.truth)
    assert [r.certification_id for r in rows] == list(range(1, MIXED.rows + 1))
    assert all(MIXED.date_from <= entered_day(r) <= MIXED.date_to for r in rows)
    # Ids follow entry order.
    assert all(a.entered_at <= b.entered_at for a, b in pairwise(rows))
    range_end = datetime.combine(MIXED.date_to, datetime.max.time(), CHICAGO)
    assert all(r.entered_at <= r.updated_at <= range_end for r in rows)


def test_students_look_real():
    students = dataset(MIXED).students
    names = [f"{s.first_name} {s.last_name}" for s in students]
    assert any("'" in n for n in names)
    assert any("-" in n for n in names)
    assert any(re.search(r"[éëíóúñáÁï]", n) for n in names)
    assert len(set(names)) > len(names) / 4
    emails = [s.email for s in students if s.email]
    assert len(set(emails)) == len(emails)
    assert all(1_000_000 <= s.student_id < 1_000_000_000 for s in students)
    share_out = sum(s.badge_opt_out for s in students) / len(students)
    assert 0.01 <= share_out <= 0.06


def test_test_dates_come_days_before_entry():
    w = world()
    lags = Counter()
    for t in w.data.truth:
        row = w.rows[t.certification_id]
        if t.dirty_kind in ("null_test_date", "future_test_date", "impossible_test_date",
                            "duplicate"):
            continue  # duplicates: see test_duplicates_repeat_an_earlier_eligible_entry
        if row.test_date < LAUNCH <= entered_day(row):
            continue  # entered retroactively after the launch, months after the test
        lags[(entered_day(row) - row.test_date).days] += 1
    assert set(lags) == set(range(11))
    assert lags[0] > lags[10]


def test_corrections_soft_deletes_and_late_entries():
    rows = world().data.certifications
    corrected = [r for r in rows if r.updated_at > r.entered_at and r.deleted_at is None]
    deleted = [r for r in rows if r.deleted_at is not None]
    assert 0.02 <= len(corrected) / len(rows) <= 0.08
    assert all(r.deleted_at == r.updated_at >= r.entered_at for r in deleted)
    assert all((r.updated_at - r.entered_at) <= timedelta(days=6) for r in rows)
    late = [r for r in rows if r.entered_at.astimezone(CHICAGO).hour == 23]
    assert late
    assert all(r.entered_at.astimezone(CHICAGO).minute >= 50 for r in late)


def test_seasonality():
    params = SeedParams(date(2024, 1, 1), date(2024, 12, 31), rows=20_000, dirty_rate=0.0,
                        seed=4)
    rows = dataset(params).certifications
    by_month = Counter(entered_day(r).month for r in rows)
    assert by_month[5] > 2 * by_month[7]
    assert by_month[4] > by_month[3] > by_month[7]
    assert by_month[12] > by_month[11]
    june = Counter(entered_day(r).day > 15 for r in rows if entered_day(r).month == 6)
    assert june[True] > june[False]  # the rush before the fiscal year closes
    weekend = sum(entered_day(r).weekday() >= 5 for r in rows)
    assert weekend < 0.05 * len(rows)


def test_every_row_gets_the_outcome_its_truth_says():
    assert_truth_holds(world())


def test_duplicates_repeat_an_earlier_eligible_entry():
    w, rows = dirty("duplicate")
    for row in rows:
        original = w.rows[w.truth[row.certification_id].duplicate_of]
        assert w.truth[original.certification_id].expected == "eligible"
        assert (original.student_id, w.code(original), original.test_date) == (
            row.student_id, w.code(row), row.test_date)
        assert original.entered_at < row.entered_at
        assert original.updated_at <= row.updated_at
        assert (entered_day(row) - entered_day(original)).days <= 4


def test_the_badge_key_is_unique_apart_from_duplicates():
    w = world()
    keys = Counter((r.student_id, w.code(r)) for r in w.data.certifications
                   if w.truth[r.certification_id].expected != "duplicate")
    assert max(keys.values()) == 1


def test_ten_rows():
    params = SeedParams(date(2024, 5, 1), date(2024, 5, 1), rows=10, dirty_rate=0.3, seed=1)
    w = World(generate(params))
    assert len(w.data.certifications) == 10
    assert_truth_holds(w)


def test_no_rows():
    data = generate(SeedParams(date(2024, 5, 1), date(2024, 5, 2), rows=0, seed=1))
    assert not data.certifications
    assert not data.students
    assert len(data.sites) == 60


def test_two_hundred_thousand_rows_keep_their_truth():
    # Generation speed is measured by `make bench`, not asserted here.
    params = SeedParams(LAUNCH, date(2025, 11, 30), rows=200_000, dirty_rate=0.05,
                        seed=2024)
    data = generate(params)
    assert len(data.certifications) == 200_000
    assert_truth_holds(World(data))
