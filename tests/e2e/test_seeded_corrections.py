"""A seeded period's corrections (`devstack seed --correction-rate`) through the real DAG:
a period issued as first entered, then CTIMS as corrected afterwards, then the following
days. Every change ends as the seed's correction table (devstack.seed_correction) says,
once, and nothing else is touched (docs/lifecycle.md, docs/recipient-corrections.md).

The two seeds are one: the same seed with rate 0 is the period before its corrections
(devstack/seed/corrections.py), so the test issues that, then loads the corrected one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import psycopg

from devstack.seed import run_seed
from tests.e2e.corrections import SEED, audited, in_sandbox, revocations
from tests.e2e.outcomes import assert_sandbox_matches_ledger
from tests.faults.harness import eligible_keys
from tests.fixtures.stack import empty_ctims

CORRECTED = dataclasses.replace(SEED, rows=300, seed=14, correction_rate=0.25)
LAST = CORRECTED.date_to
# The first run after the load looks back over the whole period: rows reassigned to another
# student earn that student a badge.
WHOLE_PERIOD = (LAST - CORRECTED.date_from).days + 1
# The revocation state, and the terminal audit event, each kind of change ends in.
ENDS = {"revoke": ("revoked", "revoked"), "move_email": ("moved", "email_moved"),
        "replace_name": ("replaced", "replaced")}


def _issued(stack) -> dict[tuple[int, str], tuple[int, str]]:
    """Issued badges: (student, assessment) -> (issuance id, Credly badge id)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {(s, a): (i, b) for i, s, a, b in conn.execute(
            "SELECT issuance_id, student_id, assessment_code, credly_badge_id "
            "FROM badging.issuance WHERE state = 'issued'")}


def _expected_changes(stack, before: dict[tuple[int, str], tuple[int, str]]
                      ) -> dict[int, str]:
    """Per issuance the seed's corrections concern: the change it must get.

    A fixed address or name concerns every badge of the student, not only the corrected
    row's; a badge that loses its justification is revoked instead, and an address fix wins
    over a name fix (plan_corrections.sql)."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        rows = conn.execute("SELECT student_id, assessment_code, expected "
                            "FROM devstack.seed_correction").fetchall()
    revoked = {(s, a) for s, a, expected in rows if expected == "revoke"}
    fixed: dict[int, set[str]] = {}
    for student, _, expected in rows:
        fixed.setdefault(student, set()).add(expected)
    changes = {}
    for key, (issuance_id, _) in before.items():
        kinds = fixed.get(key[0], set())
        if key in revoked:
            changes[issuance_id] = "revoke"
        elif "move_email" in kinds:
            changes[issuance_id] = "move_email"
        elif "replace_name" in kinds:
            changes[issuance_id] = "replace_name"
    return changes


def _recipients(stack) -> dict[int, tuple[str, str, str]]:
    """Each student's (email, first name, last name) as CTIMS has them now."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return {s: (e.strip().lower(), f.strip(), l_.strip()) for s, e, f, l_ in conn.execute(
            "SELECT student_id, email, first_name, last_name FROM ctims.students")}


def test_a_seeds_corrections_end_as_its_truth_says_once_each(clean_stack, run_dag, sandbox):
    as_entered = dataclasses.replace(CORRECTED, correction_rate=0.0)
    run_seed(as_entered, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    assert run_dag(LAST, lookback_days=WHOLE_PERIOD).succeeded
    before = _issued(clean_stack)

    empty_ctims(clean_stack)
    report = run_seed(CORRECTED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    assert set(report.corrections) == {"soft_delete", "hard_delete", "reassigned_student",
                                       "reassigned_assessment", "email_fixed", "name_fixed",
                                       "reentered"}, report.corrections
    expected = _expected_changes(clean_stack, before)
    assert Counter(expected.values()).keys() == ENDS.keys()

    # Night 1: a quarter of the rows changed at once trips the source guard, and an operator
    # takes the corrected replica as the new baseline; the findings start. Night 2: they
    # hold. Night 3, 48 hours on: every change is made, each moved badge issued to its new
    # address first. Night 4: nothing left to do.
    no_gate = len(expected)
    days = [LAST + timedelta(days=n) for n in (1, 2, 3, 4)]
    for n, day in enumerate(days):
        result = run_dag(day, lookback_days=WHOLE_PERIOD + 1 if n == 0 else 0,
                         max_revocations_without_approval=no_gate,
                         accept_source_change=n == 0)
        assert result.succeeded, result.output[-4000:]

    found = revocations(clean_stack)
    assert {i: r[0] for i, r in found.items()} == {i: ENDS[k][0] for i, k in expected.items()}
    for kind, (_, event) in ENDS.items():
        assert dict(audited(clean_stack, event)) == {
            i: 1 for i, k in expected.items() if k == kind}, kind
    assert all(r[3] == 1 for r in found.values()), "a change was attempted twice"

    # The ledger issues exactly what the corrected CTIMS earns, under its current names.
    now = _issued(clean_stack)
    assert set(now) == eligible_keys(clean_stack)
    badges = in_sandbox(sandbox)
    people = _recipients(clean_stack)
    for (student, _), (_, badge_id) in now.items():
        badge = badges[badge_id]
        assert (badge["recipient_email"].lower(), badge["issued_to_first_name"],
                badge["issued_to_last_name"]) == people[student]
    assert_sandbox_matches_ledger(clean_stack, sandbox)
