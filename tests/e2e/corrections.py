"""Corrections after issuance, made in CTIMS as an instructor's or registrar's fix would be,
and what they left in the ledger, the audit log and the sandbox: shared by the correction
tests (tests/e2e/test_corrections.py) and the fault matrix's killed revoke.

Its `issued` fixture is imported by tests/e2e/conftest.py and tests/faults/conftest.py.
Each correction moves the changed row's updated_at to noon of the day it is made; what each
must become is decided by the tests from the kind of correction, never read from the
pipeline's tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from badging.core.constants import AGENCY_TZ
from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import ledger

SEED = SeedParams(date_from=date(2026, 4, 1), date_to=date(2026, 4, 10), rows=220,
                  dirty_rate=0.0, seed=13)
ISSUE_DAY = date(2026, 4, 10)
# The corrections are entered the day after. Each run of a day is that day's nightly run
# (tests/fixtures/stack.run_env): with the default grace of 2, the nights of FIRST and
# SECOND find a correction, and THIRD's, 48 hours after the first, makes it
# (docs/lifecycle.md, "Grace is nightly time").
FIRST, SECOND, THIRD, FOURTH, FIFTH = (ISSUE_DAY + timedelta(days=n) for n in range(1, 6))
# What each correction costs the badge, as the check names it (docs/lifecycle.md).
EXPECTED_REASONS = {"soft_delete": "deleted", "hard_delete": "entry_removed",
                    "reassigned": "entry_reassigned",
                    "dated_before_enrollment": "no_aligned_program"}


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), AGENCY_TZ)


@pytest.fixture
def issued(clean_stack, run_dag, sandbox):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    result = run_dag(ISSUE_DAY, lookback_days=10)
    assert result.succeeded, result.output[-4000:]
    assert ledger(clean_stack)["issued"] >= 10
    return clean_stack


def single_entry_badges(stack, n: int) -> list[tuple[int, int, int, str]]:
    """n issued badges whose student and assessment have exactly one CTIMS entry:
    (issuance_id, certification_id, student_id, credly_badge_id)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        badges = conn.execute("SELECT issuance_id, certification_id, student_id, credly_badge_id "
                              "FROM badging.issuance WHERE state = 'issued' "
                              "ORDER BY issuance_id").fetchall()
    with psycopg.connect(stack.dsn("ctims")) as conn:
        alone = {cert for (cert,) in conn.execute("""
            SELECT min(certification_id) FROM ctims.realtime_certifications
            GROUP BY student_id, upper(btrim(assessment_code)) HAVING count(*) = 1""")}
    chosen = [b for b in badges if b[1] in alone][:n]
    assert len(chosen) == n
    return chosen


def enter_again(conn: psycopg.Connection, certification_id: int, when: datetime) -> int:
    """A copy of the entry under a new id, entered at `when`; returns the new id."""
    return conn.execute("""
        INSERT INTO ctims.realtime_certifications (
            certification_id, student_id, assessment_code, site_code, program_code,
            test_date, entered_at, updated_at)
        SELECT (SELECT max(certification_id) + 1 FROM ctims.realtime_certifications),
               student_id, assessment_code, site_code, program_code, test_date, %(when)s,
               %(when)s
        FROM ctims.realtime_certifications WHERE certification_id = %(id)s
        RETURNING certification_id""", {"id": certification_id, "when": when}).fetchone()[0]


# Each correction as the statement CTIMS would see (the row's updated_at moves with it).
CORRECTIONS = {
    "soft_delete": "UPDATE ctims.realtime_certifications SET deleted_at = %(when)s, "
                   "updated_at = %(when)s WHERE certification_id = %(id)s",
    "hard_delete": "DELETE FROM ctims.realtime_certifications WHERE certification_id = %(id)s",
    "reassigned": "UPDATE ctims.realtime_certifications SET assessment_code = 'NOT-LISTED', "
                  "updated_at = %(when)s WHERE certification_id = %(id)s",
    "dated_before_enrollment": "UPDATE ctims.realtime_certifications "
                               "SET test_date = DATE '2021-06-01', "
                     "updated_at = %(when)s WHERE certification_id = %(id)s",
}


def correct(stack, badges: dict[str, tuple], day: date) -> None:
    """Apply each kind of correction to its badge's entry, as of noon on `day`; the
    `reentered` one is deleted and entered again five minutes later."""
    when = at_noon(day)
    with psycopg.connect(stack.dsn("ctims")) as conn:
        for kind, statement in CORRECTIONS.items():
            conn.execute(statement, {"when": when, "id": badges[kind][1]})
        conn.execute(CORRECTIONS["soft_delete"], {"when": when, "id": badges["reentered"][1]})
        enter_again(conn, badges["reentered"][1], when + timedelta(minutes=5))


def soft_delete(stack, badges: list[tuple], day: date) -> None:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        for badge in badges:
            conn.execute(CORRECTIONS["soft_delete"], {"when": at_noon(day), "id": badge[1]})


def through_the_grace(run_dag, **params) -> None:
    """The nights of FIRST and SECOND: corrections found, nothing changed yet; the run of
    THIRD is the first that may change badges."""
    for day in (FIRST, SECOND):
        result = run_dag(day, lookback_days=0, **params)
        assert result.succeeded, result.output[-4000:]


def revoke_after_the_grace(stack, run_dag, n: int = 1) -> list[tuple[int, int, int, str]]:
    """n badges whose only entry is deleted, revoked by the night of THIRD: their
    (issuance_id, certification_id, student_id, credly_badge_id)."""
    badges = single_entry_badges(stack, n)
    soft_delete(stack, badges, FIRST)
    through_the_grace(run_dag)
    result = run_dag(THIRD, lookback_days=0)
    assert result.succeeded, result.output[-4000:]
    return badges


def revocations_due(stack, run_dag, n: int) -> tuple[list[tuple[int, int, int, str]], date]:
    """n issued badges whose entries were deleted, their grace run out: the run of the day
    returned plans their revocations (and its revocation gate judges them). The one place the
    gate tests reach that state."""
    badges = single_entry_badges(stack, n)
    soft_delete(stack, badges, FIRST)
    through_the_grace(run_dag)
    return badges, THIRD


def revoke_then_enter_again(stack, run_dag) -> tuple[int, str, object]:
    """One badge's entry deleted, the badge revoked after the grace, then the entry entered
    again: (issuance id, the revoked Credly badge id, the next night's result)."""
    [badge] = revoke_after_the_grace(stack, run_dag)
    with psycopg.connect(stack.dsn("ctims")) as conn:
        enter_again(conn, badge[1], at_noon(FOURTH))
    return badge[0], badge[3], run_dag(FOURTH, lookback_days=0)


def revocations(stack) -> dict[int, tuple[str, str, str, int]]:
    """Per issuance: (revocation_state, reason, credly_badge_id, attempts)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {row[0]: row[1:] for row in conn.execute(
            "SELECT issuance_id, revocation_state, reason, credly_badge_id, attempts "
            "FROM badging.revocation ORDER BY revocation_id")}


def audited(stack, event: str) -> Counter:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return Counter(row[0] for row in conn.execute(
            "SELECT issuance_id FROM badging.audit_log WHERE event = %s", (event,)))


def revoked_in_sandbox(sandbox) -> set[str]:
    return {b["id"] for b in sandbox.badges() if b["state"] == "revoked"}


def single_badge_students(stack, n: int) -> list[tuple[int, int, int, str]]:
    """n issued badges of students who hold no other badge (a name or email fix touches only
    it): (issuance_id, certification_id, student_id, credly_badge_id)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        chosen = conn.execute("""
            SELECT issuance_id, certification_id, student_id, credly_badge_id
            FROM badging.issuance i
            WHERE state = 'issued'
              AND NOT EXISTS (SELECT 1 FROM badging.issuance o
                              WHERE o.student_id = i.student_id
                                AND o.issuance_id <> i.issuance_id)
            ORDER BY issuance_id LIMIT %s""", (n,)).fetchall()
    assert len(chosen) == n
    return chosen


def fix_student(stack, student_id: int, *, last_name: str | None = None,
                email: str | None = None) -> None:
    """A registrar's fix of the student's last name or email in CTIMS."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        conn.execute("UPDATE ctims.students SET last_name = coalesce(%(last_name)s, last_name), "
                     "email = coalesce(%(email)s, email) WHERE student_id = %(id)s",
                     {"last_name": last_name, "email": email, "id": student_id})


def ledger_badge(stack, issuance_id: int) -> tuple[str, str | None]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT state, credly_badge_id FROM badging.issuance "
                            "WHERE issuance_id = %s", (issuance_id,)).fetchone()


def in_sandbox(sandbox) -> dict[str, dict]:
    return {b["id"]: b for b in sandbox.badges()}
