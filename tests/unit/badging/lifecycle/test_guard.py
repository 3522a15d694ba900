"""The source guard's thresholds (lifecycle/guard.py): a replica that is empty or partial for a
night trips them, a normal night does not. The seeded multi-year history is replayed against
them in tests/integration/badging/lifecycle/test_guard_history.py."""

from __future__ import annotations

from badging.lifecycle.guard import blocked_reason, census_of, trips

BASELINE = census_of([
    ("realtime_live", None, 100_000), ("realtime_deleted", None, 800),
    ("students", None, 40_000), ("students_blank_email", None, 120),
    ("students_blank_name", None, 15), ("enrollments", None, 60_000), ("programs", None, 400),
    ("sites", None, 60), ("approved_assessments", None, 600),
    ("program_assessments", None, 2_500),
    ("realtime_live", "905101001", 900), ("realtime_live", "905101002", 12),
    ("enrollments", "905101001", 500), ("enrollments", "905101002", 30),
    ("programs", "905101001", 8), ("programs", "905101002", 2),
])


def changed(**changes) -> dict:
    census = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASELINE.items()}
    for key, value in changes.items():
        measure, _, site = key.partition("__")
        if site:
            census[f"site:{measure}"][site] = value
        else:
            census[measure] = value
    return census


def test_a_normal_night_passes():
    night = changed(realtime_live=100_480, realtime_deleted=805, students=40_030,
                    enrollments=60_020, students_blank_email=124,
                    realtime_live__905101001=930, realtime_live__905101002=11)
    assert trips(BASELINE, night) == []
    assert blocked_reason(trips(BASELINE, night)) is None


def test_an_empty_table_trips():
    found = trips(BASELINE, changed(enrollments=0))
    assert (found[0].measure, found[0].before, found[0].now) == ("enrollments", 60_000, 0)
    assert "ctims.enrollments: 60000 at the baseline, 0 now (-100%)" in blocked_reason(found)


def test_one_small_sites_missing_enrollments_trip_although_the_table_barely_moved():
    found = trips(BASELINE, changed(enrollments=59_970, enrollments__905101002=0))
    assert [(t.measure, t.site) for t in found] == [("enrollments", "905101002")]
    assert "at site 905101002: 30 at the baseline, 0 now" in blocked_reason(found)


def test_a_partial_reference_table_trips():
    for table, partial in [("programs", 380), ("sites", 40), ("approved_assessments", 550),
                           ("program_assessments", 2_300), ("students", 30_000),
                           ("realtime_live", 90_000)]:
        assert [t.measure for t in trips(BASELINE, changed(**{table: partial}))] == [table]
    # Fewer soft-deleted rows (undeleted, purged) threaten no badge; a jump of them does.
    assert trips(BASELINE, changed(realtime_deleted=500)) == []
    assert [t.measure for t in trips(BASELINE, changed(realtime_deleted=5_000))] == [
        "realtime_deleted"]


def test_a_young_tables_few_deletions_do_not_trip_but_a_wholesale_loss_does():
    young = census_of([("realtime_live", None, 216), ("sites", None, 12)])
    assert trips(young, census_of([("realtime_live", None, 208), ("sites", None, 12)])) == []
    assert [t.measure for t in trips(young, census_of(
        [("realtime_live", None, 150), ("sites", None, 12)]))] == ["realtime_live"]
    assert [t.measure for t in trips(young, census_of(
        [("realtime_live", None, 216), ("sites", None, 8)]))] == ["sites"]


def test_a_jump_trips_and_a_count_of_zero_is_a_baseline():
    assert [t.measure for t in trips(BASELINE, changed(enrollments=120_000))] == ["enrollments"]
    empty = changed(programs=0)
    assert [t.measure for t in trips(empty, BASELINE)] == ["programs"]


def test_cleared_emails_and_names_trip_beyond_a_few_students():
    assert trips(BASELINE, changed(students_blank_email=125)) == []
    found = trips(BASELINE, changed(students_blank_email=900, students_blank_name=400))
    assert {t.measure for t in found} == {"students_blank_email", "students_blank_name"}
    assert "students without a usable email" in blocked_reason(found)
