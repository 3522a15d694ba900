"""Hostile and broken CTIMS entries: nothing crashes, nothing is lost, every row has its outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from badging.core.run import AGENCY_TZ
from devstack.seed import SeedParams
from tests.e2e.outcomes import (
    assert_one_terminal_event_each,
    assert_sandbox_matches_ledger,
    runs_for,
    seed,
    terminal_events,
)

DAY_1 = date(2026, 5, 12)
DAY_2 = DAY_1 + timedelta(days=1)
# Reference data only: its rows are entered in April, outside both runs' windows.
BASE = SeedParams(date_from=date(2026, 4, 1), date_to=date(2026, 4, 5), rows=40, seed=3)
# Most rows here are meant to be quarantined: the feed-level threshold is not under test.
RUN = {"lookback_days": 0, "max_failed_share": 1.0}
ISSUED, QUARANTINED = {("issued", None)}, {("quarantined", None)}


@dataclass(frozen=True)
class Entry:
    """One Real-Time row (and its student) and the outcomes the rules allow for it."""

    label: str
    first: str | None = "Alex"
    last: str | None = "Rivera"
    email: str | None = None
    allowed: frozenset = frozenset(ISSUED)
    student_id: int | None = None
    site: str | None = None
    program: str | None = None
    assessment: str | None = None
    null_row: bool = False


@dataclass
class Context:
    """A valid program, site and assessment from the base seed, and a fresh id counter."""

    program: str
    site: str
    other_site: str
    other_program: str
    assessment: str
    next_student: int
    next_certification: int

    def ids(self) -> tuple[int, int]:
        self.next_student += 1
        self.next_certification += 1
        return self.next_student, self.next_certification


def _context(stack) -> Context:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        program, site, assessment = conn.execute("""
            SELECT c.program_code, c.site_code, upper(btrim(c.assessment_code))
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
            JOIN ctims.approved_assessments a
              ON a.assessment_code = upper(btrim(c.assessment_code))
            WHERE t.expected = 'eligible' AND a.approved_to IS NULL
            ORDER BY c.certification_id LIMIT 1""").fetchone()
        other_program, other_site = conn.execute(
            "SELECT program_code, site_code FROM ctims.programs WHERE site_code <> %s "
            "ORDER BY program_code LIMIT 1", (site,)).fetchone()
        students, certs = conn.execute(
            "SELECT (SELECT max(student_id) FROM ctims.students), "
            "(SELECT max(certification_id) FROM ctims.realtime_certifications)").fetchone()
    return Context(program, site.strip(), other_site.strip(), other_program, assessment,
                   students + 1000, certs + 1000)


def _entered(day: date) -> datetime:
    return datetime.combine(day, time(10), AGENCY_TZ)


def _insert(conn, ctx: Context, entry: Entry, day: date) -> int:
    """Write the entry's student, enrollment and row; returns its certification id."""
    student_id, cert_id = ctx.ids()
    student_id = entry.student_id or student_id
    conn.execute("INSERT INTO ctims.students (student_id, first_name, last_name, email) "
                 "VALUES (%s, %s, %s, %s) ON CONFLICT (student_id) DO NOTHING",
                 (student_id, entry.first, entry.last,
                  entry.email if entry.email is not None else f"learner{cert_id}@example.com"))
    conn.execute("INSERT INTO ctims.enrollments (student_id, program_code, start_date) "
                 "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                 (student_id, ctx.program, day - timedelta(days=200)))
    at = _entered(day)
    if entry.null_row:
        values = (cert_id, None, None, None, None, None, None, at, at)
    else:
        values = (cert_id, student_id, entry.assessment or ctx.assessment,
                  entry.site or ctx.site, entry.program or ctx.program,
                  day - timedelta(days=1), "instructor", at, at)
    conn.execute("INSERT INTO ctims.realtime_certifications (certification_id, student_id, "
                 "assessment_code, site_code, program_code, test_date, entered_by, entered_at, "
                 "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", values)
    return cert_id


def _first_day_entries(ctx: Context, shared_student: int, new_code: str) -> list[Entry]:
    either = frozenset(ISSUED | QUARANTINED)
    return [
        Entry("apostrophes", "D'Angelo", "O'Brien"),
        Entry("hyphens", "Mary-Kate", "Smith-Jones"),
        Entry("accents", "José", "Núñez-Ávila"),
        # Whether a name of symbols is a name is the suite's call; either way it is decided.
        Entry("emoji", "Zoë 🎓", "⭐⭐", allowed=either),
        Entry("sql metacharacters", "Robert'); DROP TABLE ctims.students;--", "%_\\'\"",
              allowed=either),
        Entry("500 characters", "A" * 500, "B" * 500, allowed=frozenset(QUARANTINED)),
        Entry("plus addressing", email="kid+badges@example.com"),
        Entry("upper-case email", email="Kid.Upper@EXAMPLE.com"),
        Entry("email padded with spaces", email="  padded@example.com  "),
        Entry("space inside email", email="in side@example.com", allowed=frozenset(QUARANTINED)),
        Entry("unicode email", email="zoë@exämple.com", allowed=frozenset(QUARANTINED)),
        Entry("email without domain", email="nodomain@", allowed=frozenset(QUARANTINED)),
        Entry("email without @", email="nodomain", allowed=frozenset(QUARANTINED)),
        Entry("null student fields", first=None, last=None, email="",
              allowed=frozenset(QUARANTINED)),
        Entry("null in every column", null_row=True, allowed=frozenset(QUARANTINED)),
        Entry("same student at site A", student_id=shared_student),
        Entry("same student at site B", student_id=shared_student, site=ctx.other_site,
              program=ctx.other_program,
              allowed=frozenset({("ineligible", "duplicate_entry")})),
        Entry("updated after issue"),
        Entry("soft-deleted after staging"),
        Entry("assessment later withdrawn", assessment=new_code),
    ]


def _add_assessment(stack, ctx: Context) -> str:
    """An approved assessment of our own (with a template), to withdraw between runs."""
    code = "ZZBAD901"
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.approved_assessments (assessment_code, name, vendor, "
                     "credential_type, vendor_issues_badge, approved_from) "
                     "VALUES (%s, 'Withdrawn later', 'Test', 'certification', false, "
                     "'2020-01-01')", (code,))
        conn.execute("INSERT INTO ctims.program_assessments VALUES (%s, %s)",
                     (ctx.program, code))
    with psycopg.connect(stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.badge_templates VALUES (%s, %s, true)",
                     (code, str(uuid.uuid4())))
    stack.sync_templates()
    return code


def _outcomes(stack, run_id: str) -> dict[int, tuple[str, str | None]]:
    return {cert: found[-1] for cert, found in terminal_events(stack, run_id).items()}


@pytest.fixture
def base(clean_stack):
    seed(clean_stack, BASE)
    return clean_stack


def test_hostile_entries_each_end_with_an_outcome(base, run_dag, sandbox):
    ctx = _context(base)
    new_code = _add_assessment(base, ctx)
    shared_student = ctx.next_student + 500
    entries = _first_day_entries(ctx, shared_student, new_code)
    with psycopg.connect(base.dsn("ctims"), autocommit=True) as conn:
        cert_of = {e.label: _insert(conn, ctx, e, DAY_1) for e in entries}

    first = run_dag(DAY_1, **RUN)
    assert first.succeeded, first.output[-4000:]
    [run_1] = runs_for(base, DAY_1)
    assert_one_terminal_event_each(base, run_1)
    outcomes = _outcomes(base, run_1)
    wrong = {e.label: outcomes.get(cert_of[e.label]) for e in entries
             if outcomes.get(cert_of[e.label]) not in e.allowed}
    assert wrong == {}
    with psycopg.connect(base.dsn("badging")) as conn:
        quarantined = dict(conn.execute(
            "SELECT certification_id, expectations FROM badging.quarantine WHERE run_id = %s",
            (run_1,)))
    assert all(quarantined.get(cert) for cert, (event, _) in outcomes.items()
               if event == "quarantined"), "a quarantined row without the checks it broke"

    # What Credly received is what CTIMS holds, trimmed: nothing mangled, nothing escaped.
    names = {(b["issued_to_first_name"], b["issued_to_last_name"]) for b in sandbox.badges()}
    assert {("D'Angelo", "O'Brien"), ("Mary-Kate", "Smith-Jones"), ("José", "Núñez-Ávila")} <= names
    emails = {b["recipient_email"] for b in sandbox.badges()}
    assert {"kid+badges@example.com", "kid.upper@example.com", "padded@example.com"} <= emails

    # Between the runs: a correction, a soft delete, and the assessment withdrawn.
    second_day = _entered(DAY_2)
    with psycopg.connect(base.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.realtime_certifications SET updated_at = %s, "
                     "test_date = test_date - 1 WHERE certification_id = %s",
                     (second_day, cert_of["updated after issue"]))
        conn.execute("UPDATE ctims.realtime_certifications SET updated_at = %s, deleted_at = %s "
                     "WHERE certification_id = %s",
                     (second_day, second_day, cert_of["soft-deleted after staging"]))
        conn.execute("DELETE FROM ctims.program_assessments WHERE assessment_code = %s",
                     (new_code,))
        conn.execute("DELETE FROM ctims.approved_assessments WHERE assessment_code = %s",
                     (new_code,))
        late = _insert(conn, ctx, Entry("withdrawn assessment", assessment=new_code), DAY_2)
    badges_before = len(sandbox.badges())

    second = run_dag(DAY_2, **RUN)
    assert second.succeeded, second.output[-4000:]
    [run_2] = runs_for(base, DAY_2)
    assert_one_terminal_event_each(base, run_2)
    assert _outcomes(base, run_2) == {
        cert_of["updated after issue"]: ("already_issued", "already_issued"),
        cert_of["soft-deleted after staging"]: ("ineligible", "deleted"),
        late: ("ineligible", "not_approved_assessment"),
    }
    assert len(sandbox.badges()) == badges_before
    assert_sandbox_matches_ledger(base, sandbox)
    with psycopg.connect(base.dsn("ctims")) as conn:
        assert conn.execute("SELECT count(*) FROM ctims.students").fetchone()[0] > 0
