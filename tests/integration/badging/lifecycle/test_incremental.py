"""The incremental check equals the full check (lifecycle/scope.py): two ledgers, equal after a
day's issue, are checked night after night against the same CTIMS as it is corrected — one
incrementally, one in full — and hold the same findings, planned changes, ledger rows and
audit trail every night, across every kind of correction, a night without change, a skipped
night and a replica that brings rows back with their old updated_at."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from badging.airflow import tasks
from badging.core.clock import CLOCK_ENV
from badging.core.constants import AGENCY_TZ, RunType
from badging.core.run import RunInfo, extract_window
from badging.lifecycle.check import CheckOptions, check_badges
from devstack.seed import SeedParams
from devstack.task_context import task_context
from tests.e2e import outcomes

SEED = SeedParams(date_from=date(2026, 4, 1), date_to=date(2026, 4, 10), rows=260,
                  dirty_rate=0.0, seed=30)
ISSUE_DAY = date(2026, 4, 10)
# Nights of corrections; one of them is skipped (no run at all).
NIGHTS = [ISSUE_DAY + timedelta(days=n) for n in range(1, 10)]
SKIPPED = NIGHTS[4]
COPY = "badging_full"


@pytest.fixture
def issued(clean_stack, sandbox, monkeypatch, tmp_path) -> Iterator:
    """ISSUE_DAY's badges issued through the task bodies; then a second ledger database,
    a copy of the first, for the full check."""
    for key, value in clean_stack.airflow_env().items():
        if key.startswith("AIRFLOW_CONN_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("BADGING_REPORT_DIR", str(tmp_path / "reports"))
    outcomes.seed(clean_stack, SEED)
    # The records were written long before the nights replayed here, as in a real history.
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.students SET updated_at = %s",
                     (datetime.combine(SEED.date_from, time(), AGENCY_TZ),))
    params = {"date": ISSUE_DAY.isoformat(), "lookback_days": 10, "run_id": "manual__issue"}
    for step in (tasks.extract, tasks.validate, tasks.decide_eligibility):
        step(task_context(step.__name__, **params))
    for index, batch in enumerate(tasks.plan(task_context("plan", **params))):
        tasks.issue(task_context("issue", map_index=index, **params), batch)
    with psycopg.connect(clean_stack.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {COPY}")
        conn.execute(f"CREATE DATABASE {COPY} TEMPLATE badging")
    yield clean_stack
    with psycopg.connect(clean_stack.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {COPY} WITH (FORCE)")


def night(day: date) -> RunInfo:
    start, end = extract_window(day, 0)
    return RunInfo(run_id=f"scheduled__{day}", day=day, window_start=start, window_end=end,
                   dry_run=False, task_id="check_badges", run_type=RunType.SCHEDULED,
                   latest_day=day)


def check(stack, day: date, *, full: bool, badging: str):
    # The key the issue digested whom each badge names with.
    secret = json.loads(stack.paths.secrets_file.read_text())["earner_id_secret"]
    options = CheckOptions(grace_days=2, program_launch=date(2022, 12, 1),
                           digest_secret=secret, full_check=full)
    return check_badges(night(day), options, ctims=stack.dsn("ctims"), badging=badging)


def state(dsn: str) -> dict[str, list[tuple]]:
    """What a check decides, comparable across the two ledgers (no generated ids or times)."""
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(query).fetchall() for name, query in {
            "findings": "SELECT issuance_id, kind, detail, first_day, last_day, nights "
                        "FROM badging.badge_finding ORDER BY 1, 2",
            "changes": "SELECT issuance_id, action, reason, revocation_state, "
                       "recipient_digest, name_digest FROM badging.revocation ORDER BY 1, 2",
            "ledger": "SELECT issuance_id, state, credly_badge_id, certification_id, "
                      "recipient_digest, name_digest, entry_test_date "
                      "FROM badging.issuance ORDER BY 1",
            "audit": "SELECT run_id, issuance_id, event, reason, count(*) "
                     "FROM badging.audit_log WHERE task_id = 'check_badges' "
                     "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        }.items()}


def correct(stack, day: date, rng: random.Random, kinds: list[str]) -> list[str]:
    """A night's corrections (`kinds`) as CTIMS would take them, at noon of the day."""
    when = datetime.combine(day, time(12), AGENCY_TZ)
    done = []
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        live = [r[0] for r in conn.execute(
            "SELECT certification_id FROM ctims.realtime_certifications "
            "WHERE deleted_at IS NULL ORDER BY certification_id")]
        students = [r[0] for r in conn.execute(
            "SELECT student_id FROM ctims.students ORDER BY student_id")]
        for kind in kinds:
            KINDS[kind](conn, rng.choice(live), rng.choice(students), when)
            done.append(kind)
    return done


def _soft_delete(conn, cert, _student, when):
    conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = %s, updated_at = %s "
                 "WHERE certification_id = %s", (when, when, cert))


def _hard_delete(conn, cert, _student, _when):
    conn.execute("DELETE FROM ctims.realtime_certifications WHERE certification_id = %s",
                 (cert,))


def _reassigned(conn, cert, student, when):
    conn.execute("UPDATE ctims.realtime_certifications SET student_id = %s, updated_at = %s "
                 "WHERE certification_id = %s", (student, when, cert))


def _reassigned_silently(conn, cert, student, _when):
    # A replica that restores a row from another state: a different student, the old updated_at.
    conn.execute("UPDATE ctims.realtime_certifications SET student_id = %s "
                 "WHERE certification_id = %s", (student, cert))


def _test_date_moved(conn, cert, _student, when):
    conn.execute("UPDATE ctims.realtime_certifications SET test_date = DATE '2021-06-01', "
                 "updated_at = %s WHERE certification_id = %s", (when, cert))


def _reentered(conn, cert, _student, when):
    # The new entry's id falls in the old one's bucket (migration 016): a changed bucket
    # whose other entries did not change.
    conn.execute("""
        INSERT INTO ctims.realtime_certifications (certification_id, student_id,
            assessment_code, site_code, program_code, test_date, entered_at, updated_at)
        SELECT (SELECT (max(certification_id) / 65536 + 1) * 65536
                FROM ctims.realtime_certifications) + %(id)s %% 65536,
               student_id, assessment_code, site_code, program_code, test_date, %(when)s,
               %(when)s
        FROM ctims.realtime_certifications WHERE certification_id = %(id)s""",
                 {"id": cert, "when": when})


def _back_unchanged(conn, _cert, _student, _when):
    # A replica that recovers a deleted row as it was: its old updated_at, outside any window.
    conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = NULL "
                 "WHERE certification_id = (SELECT min(certification_id) "
                 "FROM ctims.realtime_certifications WHERE deleted_at IS NOT NULL)")


def _email_fixed(conn, _cert, student, _when):
    conn.execute("UPDATE ctims.students SET email = 'fixed.' || student_id || '@example.org' "
                 "WHERE student_id = %s", (student,))


def _name_fixed(conn, _cert, student, _when):
    conn.execute("UPDATE ctims.students SET last_name = 'Corrected' WHERE student_id = %s",
                 (student,))


def _email_cleared(conn, _cert, student, _when):
    conn.execute("UPDATE ctims.students SET email = NULL WHERE student_id = %s", (student,))


KINDS = {"soft_delete": _soft_delete, "hard_delete": _hard_delete,
         "reassigned": _reassigned, "reassigned_silently": _reassigned_silently,
         "test_date_moved": _test_date_moved,
         "reentered": _reentered, "back_unchanged": _back_unchanged,
         "email_fixed": _email_fixed, "name_fixed": _name_fixed,
         "email_cleared": _email_cleared}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_incremental_check_decides_what_the_full_check_decides(issued, monkeypatch, seed):
    rng = random.Random(seed)
    # Every kind of correction three times, dealt out over the nights; one night gets none.
    deck = sorted(KINDS) * 3
    rng.shuffle(deck)
    hands = [deck[n::len(NIGHTS) - 1] for n in range(len(NIGHTS) - 1)] + [[]]
    incremental, full = issued.dsn("badging"), issued.dsn(COPY)
    ran_incremental = 0
    seen = set()
    for day, hand in zip(NIGHTS, hands, strict=True):
        seen.update(correct(issued, day, rng, hand))
        if day == SKIPPED:
            continue
        monkeypatch.setenv(CLOCK_ENV, datetime.combine(day + timedelta(days=1), time(1),
                                                       AGENCY_TZ).isoformat())
        found = check(issued, day, full=False, badging=incremental)
        check(issued, day, full=True, badging=full)
        ran_incremental += not found.full_check
        got, want = state(incremental), state(full)
        for name in want:
            assert got[name] == want[name], (day, name, sorted(seen),
                                             set(got[name]) ^ set(want[name]))
    # The history is worth the name: most nights were incremental, every kind happened, and
    # it revoked, renamed or moved something along the way.
    assert ran_incremental >= 4
    assert seen == set(KINDS)
    assert state(full)["changes"] or state(full)["findings"]


def test_a_gap_in_nights_and_the_weekly_night_check_everything(issued, monkeypatch):
    def nightly(day: date, **kwargs):
        monkeypatch.setenv(CLOCK_ENV, datetime.combine(day + timedelta(days=1), time(1),
                                                       AGENCY_TZ).isoformat())
        return check(issued, day, badging=issued.dsn("badging"), **kwargs)

    first = date(2026, 4, 13)  # a Monday
    assert nightly(first, full=False).full_check          # no nightly check before
    assert not nightly(first + timedelta(days=1), full=False).full_check
    assert nightly(first + timedelta(days=3), full=False).full_check   # a night skipped
    assert not nightly(first + timedelta(days=4), full=False).full_check
    assert nightly(first + timedelta(days=5), full=True).full_check    # an operator asks
    assert nightly(date(2026, 4, 19), full=False).full_check           # Sunday: weekly
    assert replace(night(first), dry_run=True).is_nightly is False


def test_a_night_reads_the_buckets_that_changed(issued, monkeypatch):
    """The diff streams only the buckets whose digest moved: an entry corrected and one
    re-entered in its bucket are one bucket and one student; a night without change reads no
    bucket (only the student a finding watches)."""
    def nightly(day: date):
        monkeypatch.setenv(CLOCK_ENV, datetime.combine(day + timedelta(days=1), time(1),
                                                       AGENCY_TZ).isoformat())
        check(issued, day, full=False, badging=issued.dsn("badging"))
        with psycopg.connect(issued.dsn("badging")) as conn:
            return conn.execute("SELECT full_check, buckets_read, students_checked "
                                "FROM badging.badge_check WHERE run_id = %s",
                                (night(day).run_id,)).fetchone()

    first = date(2026, 4, 13)  # a Monday
    assert nightly(first) == (True, None, None)
    with psycopg.connect(issued.dsn("ctims"), autocommit=True) as conn:
        cert, student = conn.execute(
            "SELECT certification_id, student_id FROM ctims.realtime_certifications "
            "WHERE deleted_at IS NULL ORDER BY certification_id LIMIT 1").fetchone()
        _test_date_moved(conn, cert, student, datetime.combine(first, time(12), AGENCY_TZ))
        _reentered(conn, cert, student, datetime.combine(first, time(12), AGENCY_TZ))
    # One bucket, its one student; then none, the student watched for the moved test date.
    assert nightly(first + timedelta(days=1)) == (False, 1, 1)
    assert nightly(first + timedelta(days=2)) == (False, 0, 1)


def test_the_check_gives_its_staged_rows_pages_back(issued, monkeypatch):
    """A full check stages every live row and drops them when done; vacuumed at once, the
    staging table is no bigger than before (else every later scan reads the history's
    size: docs/performance.md, "A night at any age")."""
    def size() -> int:
        with psycopg.connect(issued.dsn("badging")) as conn:
            return conn.execute(
                "SELECT pg_relation_size('badging.staged_certification')").fetchone()[0]

    def autovacuum(on: bool) -> None:
        # The check's vacuum skips a table another vacuum holds (SKIP_LOCKED): autovacuum,
        # woken by the fixture's writes, must not hold it at that moment here.
        with psycopg.connect(issued.dsn("badging"), autocommit=True) as conn:
            conn.execute("ALTER TABLE badging.staged_certification "
                         f"SET (autovacuum_enabled = {'true' if on else 'false'})")

    monkeypatch.setenv(CLOCK_ENV, datetime.combine(NIGHTS[0] + timedelta(days=1), time(1),
                                                   AGENCY_TZ).isoformat())
    autovacuum(False)
    try:
        before = size()
        assert check(issued, NIGHTS[0], full=True, badging=issued.dsn("badging")).full_check
        assert size() == before
    finally:
        autovacuum(True)
