"""A worker SIGKILLed while the revoke task revokes, replaces and moves badges; then either
Airflow retries the task, or the run is never retried and the next night's run takes over
(docs/lifecycle.md, "Revoking exactly once"): every change made once, none missed, the
student of every replace and move holding one live badge all along, and the ledger equals
Credly."""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from badging.core.clock import CLOCK_ENV
from tests.e2e.corrections import (
    FIFTH,
    FIRST,
    FOURTH,
    THIRD,
    audited,
    fix_student,
    in_sandbox,
    ledger_badge,
    revocations,
    single_badge_students,
    single_entry_badges,
    soft_delete,
    through_the_grace,
)
from tests.e2e.outcomes import assert_sandbox_matches_ledger
from tests.faults import harness
from tests.fixtures.nights import night_after

# Whoever comes next takes the dead holder's in-flight change over once this lease has run out.
LEASE_S = 20
# Credly slowed down so that the kill lands while a change is in the air.
LATENCY_MS = 300
DELETED, RENAMED, READDRESSED = 16, 3, 3
# The one terminal audit event of each kind of change (docs/ledger.md).
DONE_EVENT = {"revoked": "revoked", "replaced": "replaced", "moved": "email_moved"}


def _states(stack) -> Counter:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return Counter(dict(conn.execute(
            "SELECT revocation_state, count(*) FROM badging.revocation GROUP BY 1")))


def _revoking_run(stack) -> str:
    with psycopg.connect(stack.dsn("badging")) as conn:
        [(run_id,)] = conn.execute("SELECT DISTINCT run_id FROM badging.revocation").fetchall()
    return run_id


def _done(states: Counter) -> int:
    return sum(n for state, n in states.items() if state in DONE_EVENT)


def _retry(stack, env, log, run_id: str) -> None:
    """The retry Airflow would make, in a fresh process. The scheduler numbers a retry's try
    one up (a new claim holder); `tasks test` runs the try on record, so the test does that
    numbering itself."""
    with psycopg.connect(stack.dsn("airflow")) as conn:
        conn.execute("UPDATE task_instance SET try_number = try_number + 1 "
                     "WHERE run_id = %s AND task_id = 'revoke'", (run_id,))
    assert harness.task_test(env, log, run_id, "revoke") == "success", log.read_text()[-4000:]


def _live_badges(sandbox, old_badges: dict[int, str], emails: dict[int, str]) -> dict[int, int]:
    """Per student: the live badges they hold (not revoked, not replaced): the old one, its
    replacement, or one at their corrected address."""
    live = [b for b in in_sandbox(sandbox).values()
            if b["state"] in ("pending", "accepted") and not b.get("replacement_badge_id")]
    return {n: sum(1 for b in live
                   if b["id"] == old_badges[n] or b["recipient_email"] == emails.get(n)
                   or b.get("replaces_badge_id") == old_badges[n])
            for n in old_badges}


def _next_day(env, log, day, changes: int) -> None:
    """The dead run is never retried: the next night's run takes its changes over."""
    run = harness.DagProcess.dags_test(env, log, day, lookback_days=0,
                                       max_revocations_without_approval=changes)
    run.wait()
    assert run.succeeded, run.output[-4000:]


@pytest.mark.parametrize("then", ["retried", "next_day"])
def test_a_killed_revoke_task_makes_every_change_once(then, issued, run_dag, sandbox,
                                                      tmp_path):
    students = single_badge_students(issued, RENAMED + READDRESSED)
    renamed, readdressed = students[:RENAMED], students[RENAMED:]
    taken = {badge[0] for badge in students}
    deleted = [b for b in single_entry_badges(issued, DELETED + len(students))
               if b[0] not in taken][:DELETED]
    soft_delete(issued, deleted, FIRST)
    emails = {}
    for n, badge in enumerate(renamed):
        fix_student(issued, badge[2], last_name=f"Corrected-Name-{n}")
    for n, badge in enumerate(readdressed):
        emails[badge[0]] = f"corrected.{n}@example.org"
        fix_student(issued, badge[2], email=emails[badge[0]])
    # The corrections hold through the grace; THIRD's night makes them all in one run. So
    # many deletions in a table this small trip the source guard: an operator takes the
    # changed replica as the new baseline on the first night.
    through_the_grace(run_dag, accept_source_change=True)
    planned = ({b[0]: "revoked" for b in deleted} | {b[0]: "replaced" for b in renamed}
               | {b[0]: "moved" for b in readdressed})
    old_badges = {b[0]: b[3] for b in renamed + readdressed}

    env = harness.airflow_env(issued, lease_seconds=LEASE_S)
    log = tmp_path / "run.log"
    sandbox.set_faults(latency_ms=LATENCY_MS)
    run = harness.DagProcess.dags_test(env, log, THIRD, lookback_days=0,
                                       max_revocations_without_approval=len(planned))
    harness.wait_for(lambda: (s := _states(issued))["in_flight"] == 1 and _done(s) >= 6, run,
                     "six changes made and one in flight")
    run.kill()
    at_kill = _states(issued)
    assert 0 < _done(at_kill) < len(planned), at_kill
    # Killed mid-change, every renamed or readdressed student still holds a live badge.
    assert set(_live_badges(sandbox, old_badges, emails).values()) == {1}

    # Whoever comes next waits out the dead holder's lease on the change it had in the air,
    # then takes it over.
    sandbox.set_faults(latency_ms=0)
    if then == "retried":
        _retry(issued, env | {CLOCK_ENV: night_after(THIRD).isoformat()}, log,
               _revoking_run(issued))
        following = FOURTH
    else:
        _next_day(env, tmp_path / "next-day.log", FOURTH, len(planned))
        following = FIFTH

    found = revocations(issued)
    assert {i: r[0] for i, r in found.items()} == planned
    events = {kind: audited(issued, event) for kind, event in DONE_EVENT.items()}
    doubled = sum(n - 1 for counts in events.values() for n in counts.values() if n > 1)
    missing = sum(1 for i, kind in planned.items() if events[kind][i] == 0)
    # At most the change in the air at the kill was attempted twice.
    assert sum(r[3] for r in found.values()) <= len(planned) + at_kill["in_flight"]
    badges = in_sandbox(sandbox)
    assert {b for b, v in badges.items() if v["state"] == "revoked"} == {
        b[3] for b in deleted + readdressed}
    assert Counter(v["replaces_badge_id"] for v in badges.values()
                   if v.get("replaces_badge_id")) == {b[3]: 1 for b in renamed}
    assert_sandbox_matches_ledger(issued, sandbox)
    harness.record(f"SIGKILL mid-revocation, then {then.replace('_', ' ')}",
                   harness.Verdict(expected=len(planned), issued=_done(_states(issued)),
                                   duplicates=doubled, missing=missing, extra=0, failed=0),
                   f"killed with {_done(at_kill)} of {len(planned)} changes made; green")
    assert (doubled, missing) == (0, 0)

    # Each student holds exactly one live badge: the replacement, or the one at the
    # corrected address the ledger now names; the following night changes nothing.
    assert set(_live_badges(sandbox, old_badges, emails).values()) == {1}
    for n, (issuance_id, *_, old_badge) in enumerate(readdressed):
        state, new_badge = ledger_badge(issued, issuance_id)
        assert (state, new_badge != old_badge) == ("issued", True)
        assert in_sandbox(sandbox)[new_badge]["recipient_email"] == f"corrected.{n}@example.org"
    count = len(sandbox.badges())
    assert run_dag(following, lookback_days=0).succeeded
    assert len(sandbox.badges()) == count
    assert {kind: audited(issued, event) for kind, event in DONE_EVENT.items()} == events
    assert_sandbox_matches_ledger(issued, sandbox)
    harness.assert_nothing_leaked(issued, tmp_path)
