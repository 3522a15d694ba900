"""Corrections after issuance (issue 13) with the real DAG: CTIMS entries deleted, removed,
moved or made ineligible lose their badges after the grace days, exactly once; an entry
deleted and entered again keeps its badge; a badge whose entry comes back is issued again.
A corrected name replaces the badge; a corrected email moves an unaccepted badge to the new
address and leaves an accepted one alone (docs/recipient-corrections.md).

The corrections and the readings of their effects are in tests/e2e/corrections.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import psycopg

from tests.e2e.corrections import (
    EXPECTED_REASONS,
    FIFTH,
    FIRST,
    FOURTH,
    SECOND,
    THIRD,
    audited,
    correct,
    fix_student,
    in_sandbox,
    ledger_badge,
    revocations,
    revocations_due,
    revoke_then_enter_again,
    revoked_in_sandbox,
    single_badge_students,
    single_entry_badges,
    soft_delete,
    through_the_grace,
)
from tests.e2e.hitl import answer, finish, start_dag, succeeded, ui_url, waiting_request
from tests.e2e.outcomes import assert_sandbox_matches_ledger, ledger
from tests.fixtures.nights import night_after


def test_corrected_entries_lose_their_badges_after_the_grace_days_once(issued, run_dag,
                                                                       sandbox):
    kinds = [*EXPECTED_REASONS, "reentered"]
    badges = dict(zip(kinds, single_entry_badges(issued, len(kinds)), strict=True))
    correct(issued, badges, FIRST)
    lost = {badges[kind][0]: reason for kind, reason in EXPECTED_REASONS.items()}

    # The first night: found unjustified, nothing revoked.
    assert run_dag(FIRST, lookback_days=0).succeeded
    assert dict(audited(issued, "unjustified")) == dict.fromkeys(lost, 1)
    assert revocations(issued) == {}
    # The second night: two nights, but only 24 hours since the first sighting.
    assert run_dag(SECOND, lookback_days=0).succeeded
    assert revocations(issued) == {}
    assert revoked_in_sandbox(sandbox) == set()

    # The third night, 48 hours on: each is revoked once, with its reason. The entry deleted
    # and entered again keeps its badge.
    result = run_dag(THIRD, lookback_days=0)
    assert result.succeeded, result.output[-4000:]
    found = revocations(issued)
    assert {i: (state, reason) for i, (state, reason, _, _) in found.items()} == {
        i: ("revoked", reason) for i, reason in lost.items()}
    assert revoked_in_sandbox(sandbox) == {badges[k][3] for k in EXPECTED_REASONS}
    assert all(b["revocation_reason"] == "Certification record corrected by the issuing "
               "school" for b in sandbox.badges() if b["state"] == "revoked")
    assert ledger(issued)["revoked"] == len(lost)
    assert_sandbox_matches_ledger(issued, sandbox)

    # A re-run of the night and the next night change nothing: no second attempt, no new call.
    assert run_dag(THIRD, lookback_days=0).succeeded
    assert run_dag(FOURTH, lookback_days=0).succeeded
    assert dict(audited(issued, "revoke_attempt")) == dict.fromkeys(lost, 1)
    assert {i: r[3] for i, r in revocations(issued).items()} == dict.fromkeys(lost, 1)
    assert revoked_in_sandbox(sandbox) == {badges[k][3] for k in EXPECTED_REASONS}
    assert audited(issued, "unjustified")[badges["reentered"][0]] == 0


def test_a_badge_whose_entry_comes_back_is_issued_again(issued, run_dag, sandbox):
    issuance_id, old_badge, result = revoke_then_enter_again(issued, run_dag)
    assert result.succeeded, result.output[-4000:]
    with psycopg.connect(issued.dsn("badging")) as conn:
        state, new_badge = conn.execute(
            "SELECT state, credly_badge_id FROM badging.issuance WHERE issuance_id = %s",
            (issuance_id,)).fetchone()
    assert state == "issued"
    assert new_badge not in (None, old_badge)
    # The ledger keeps both: the revoked badge in its revocation, the new one on the row.
    assert revocations(issued)[issuance_id][:3] == ("revoked", "deleted", old_badge)
    assert audited(issued, "reissue_planned") == {issuance_id: 1}
    assert_sandbox_matches_ledger(issued, sandbox)


def test_a_revoked_badge_is_issued_again_when_its_entry_comes_back_unchanged(issued, run_dag,
                                                                          sandbox):
    """A replica that lost an entry and recovers it as it was (its old updated_at, outside
    every run's window): the nightly check sees it, whatever the window."""
    [badge] = single_entry_badges(issued, 1)
    with psycopg.connect(issued.dsn("ctims")) as conn:
        [updated_at] = conn.execute("SELECT updated_at FROM ctims.realtime_certifications"
                                    " WHERE certification_id = %s", (badge[1],)).fetchone()
        conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = updated_at"
                     " WHERE certification_id = %s", (badge[1],))
    through_the_grace(run_dag)
    assert run_dag(THIRD, lookback_days=0).succeeded
    assert revocations(issued)[badge[0]][0] == "revoked"
    with psycopg.connect(issued.dsn("ctims")) as conn:
        conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = NULL,"
                     " updated_at = %s WHERE certification_id = %s", (updated_at, badge[1]))
    # The next night plans it again, the sweep of the night after issues it.
    assert run_dag(FOURTH, lookback_days=0).succeeded
    assert audited(issued, "reissue_planned") == {badge[0]: 1}
    assert run_dag(FIFTH, lookback_days=0).succeeded
    state, new_badge = ledger_badge(issued, badge[0])
    assert state == "issued"
    assert new_badge not in (None, badge[3])
    assert_sandbox_matches_ledger(issued, sandbox)


def test_manual_runs_of_past_days_count_no_night(issued, run_dag, sandbox):
    """Grace is nightly time: runs of past days started back to back (an operator's manual
    runs, here at the clock of THIRD's night) advance no streak and change no badge."""
    badges = single_entry_badges(issued, 2)
    soft_delete(issued, badges, FIRST)
    late = night_after(THIRD)
    for day in (FIRST, SECOND):
        result = run_dag(day, at=late, lookback_days=0)
        assert result.succeeded, result.output[-4000:]
    assert audited(issued, "unjustified") == Counter()
    assert dict(audited(issued, "would_revoke")) == {b[0]: 2 for b in badges}
    # The night itself is the first of the streak: nothing revoked yet.
    assert run_dag(THIRD, at=late, lookback_days=0).succeeded
    assert dict(audited(issued, "unjustified")) == {b[0]: 1 for b in badges}
    assert revocations(issued) == {}
    assert revoked_in_sandbox(sandbox) == set()


def test_when_credly_refuses_a_new_badge_after_a_revoke_the_row_fails_saying_so(
        issued, run_dag, sandbox):
    # Credly keeps the revoked badge in the way of a new one.
    sandbox.set_behavior(revoked_blocks_reissue=True)
    issuance_id, _, result = revoke_then_enter_again(issued, run_dag)
    # A failed badge makes the run red (report) and says why; nothing loops.
    assert not result.succeeded
    with psycopg.connect(issued.dsn("badging")) as conn:
        state, error = conn.execute(
            "SELECT state, last_error FROM badging.issuance WHERE issuance_id = %s",
            (issuance_id,)).fetchone()
    assert (state, error) == ("failed", "CredlyUnresolvedDuplicate (HTTP 422)")
    assert_sandbox_matches_ledger(issued, sandbox)


def test_a_corrected_name_replaces_the_badge_once(issued, run_dag, sandbox):
    [(issuance_id, _, student_id, old_badge)] = single_badge_students(issued, 1)
    fix_student(issued, student_id, last_name="Corrected-Name")

    # A dry run only says what it would do.
    assert run_dag(FIRST, lookback_days=0, dry_run=True).succeeded
    assert audited(issued, "would_replace") == {issuance_id: 1}
    assert in_sandbox(sandbox)[old_badge]["replacement_badge_id"] is None
    assert revocations(issued) == {}

    # The new name must hold for the grace: nothing on the first two nights.
    through_the_grace(run_dag)
    assert in_sandbox(sandbox)[old_badge]["replacement_badge_id"] is None
    result = run_dag(THIRD, lookback_days=0)
    assert result.succeeded, result.output[-4000:]
    badges = in_sandbox(sandbox)
    new_badge = badges[old_badge]["replacement_badge_id"]
    assert new_badge is not None
    assert badges[new_badge]["issued_to_last_name"] == "Corrected-Name"
    assert badges[new_badge]["replaces_badge_id"] == old_badge
    # The ledger row carries the replacement; the correction keeps the old id.
    assert ledger_badge(issued, issuance_id) == ("issued", new_badge)
    assert revocations(issued) == {issuance_id: ("replaced", "name_corrected", old_badge, 1)}
    assert audited(issued, "replaced") == {issuance_id: 1}
    assert_sandbox_matches_ledger(issued, sandbox)

    # A re-run and the next night change nothing.
    assert run_dag(THIRD, lookback_days=0).succeeded
    assert run_dag(FOURTH, lookback_days=0).succeeded
    assert len(sandbox.badges()) == len(badges)
    assert audited(issued, "replace_planned") == {issuance_id: 1}
    assert ledger_badge(issued, issuance_id) == ("issued", new_badge)


def test_a_corrected_email_moves_an_unaccepted_badge(issued, run_dag, sandbox):
    [(issuance_id, _, student_id, old_badge)] = single_badge_students(issued, 1)
    fix_student(issued, student_id, email="corrected.address@example.org")

    # The new address must hold for the grace; then the move issues the badge to it first,
    # records it, and only then revokes the old one: the student always holds one live badge.
    through_the_grace(run_dag)
    assert in_sandbox(sandbox)[old_badge]["state"] == "pending"
    result = run_dag(THIRD, lookback_days=0)
    assert result.succeeded, result.output[-4000:]
    assert in_sandbox(sandbox)[old_badge]["state"] == "revoked"
    state, new_badge = ledger_badge(issued, issuance_id)
    assert state == "issued"
    assert new_badge not in (None, old_badge)
    moved = in_sandbox(sandbox)[new_badge]
    assert (moved["recipient_email"], moved["state"]) == ("corrected.address@example.org",
                                                           "pending")
    assert moved["created_at"] < in_sandbox(sandbox)[old_badge]["updated_at"]
    assert revocations(issued) == {issuance_id: ("moved", "email_corrected", old_badge, 1)}
    assert audited(issued, "email_moved") == {issuance_id: 1}
    assert_sandbox_matches_ledger(issued, sandbox)

    # Nothing more: the new badge names the corrected address.
    count = len(sandbox.badges())
    assert run_dag(FOURTH, lookback_days=0).succeeded
    assert len(sandbox.badges()) == count
    assert audited(issued, "move_planned") == {issuance_id: 1}
    assert ledger_badge(issued, issuance_id) == ("issued", new_badge)


def test_a_corrected_email_leaves_an_accepted_badge_alone_and_says_so(issued, run_dag,
                                                                      sandbox):
    [(issuance_id, _, student_id, badge)] = single_badge_students(issued, 1)
    sandbox.set_badge_state(badge, "accepted")
    before = in_sandbox(sandbox)
    fix_student(issued, student_id, email="corrected.address@example.org")

    through_the_grace(run_dag)
    result = run_dag(THIRD, lookback_days=0)
    assert result.succeeded, result.output[-4000:]
    assert in_sandbox(sandbox) == before
    assert revocations(issued) == {issuance_id: ("kept", "email_corrected", badge, 1)}
    assert audited(issued, "email_changed_after_acceptance") == {issuance_id: 1}
    # Reported once: the corrected address is the ledger's baseline from now on.
    assert run_dag(FOURTH, lookback_days=0).succeeded
    assert in_sandbox(sandbox) == before
    assert audited(issued, "email_changed_after_acceptance") == {issuance_id: 1}
    assert ledger_badge(issued, issuance_id) == ("issued", badge)


GATE_TASK = "revocation_gate.approve"


def gate_decisions(stack) -> list[tuple[date, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT logical_date, event FROM badging.approval "
                            "WHERE gate = 'revocation' ORDER BY decided_at").fetchall()


def test_many_revocations_wait_for_an_operator_a_rejection_holds_them_an_approval_revokes(
        issued, run_dag, api, sandbox, tmp_path):
    badges, due = revocations_due(issued, run_dag, 3)
    assert due == THIRD

    # Three to revoke, one allowed without asking: the run waits; Reject holds them and the
    # rest of the run goes on (green).
    log_path = tmp_path / "rejected.log"
    process = start_dag(issued, THIRD, log_path, base_url=ui_url(api), lookback_days=0,
                        max_revocations_without_approval=1)
    try:
        request = waiting_request(api, process, GATE_TASK)
        assert "**3 badges** would be revoked" in request["body"]
        rows = [line for line in request["body"].splitlines()
                if line.startswith("| ") and not line.startswith("| site ")]
        assert sum(int(row.split("|")[3]) for row in rows) == 3
        assert {row.split("|")[2].strip() for row in rows} == {"deleted"}
        assert revoked_in_sandbox(sandbox) == set()
        answer(api, request, GATE_TASK, "Reject")
        code, output = finish(process, log_path)
        rejected_run = request["task_instance"]["dag_run_id"]
    finally:
        if process.poll() is None:
            process.kill()
    assert succeeded(code, output), output[-4000:]
    assert {r[0] for r in revocations(issued).values()} == {"held"}
    assert dict(audited(issued, "revoke_held")) == {b[0]: 1 for b in badges}
    assert revoked_in_sandbox(sandbox) == set()

    # The next run asks again; Approve revokes them, once each.
    log_path = tmp_path / "approved.log"
    process = start_dag(issued, FOURTH, log_path, base_url=ui_url(api), lookback_days=0,
                        max_revocations_without_approval=1)
    try:
        request = waiting_request(api, process, GATE_TASK, not_of_runs=frozenset({rejected_run}))
        answer(api, request, GATE_TASK, "Approve")
        code, output = finish(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
    assert succeeded(code, output), output[-4000:]
    assert revoked_in_sandbox(sandbox) == {b[3] for b in badges}
    assert {r[0] for r in revocations(issued).values()} == {"revoked"}
    # The other runs had nothing to ask (approval_not_needed).
    assert [d for d in gate_decisions(issued) if d[1] != "approval_not_needed"] == [
        (THIRD, "rejected"), (FOURTH, "approved")]
    assert_sandbox_matches_ledger(issued, sandbox)


def gate_decided(stack, day: date) -> tuple[str, str | None, dict]:
    """The revocation gate's decision on the run of `day`: event, decided_by, detail."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT event, decided_by, detail FROM badging.approval "
                            "WHERE gate = 'revocation' AND logical_date = %s", (day,)).fetchone()


def asked(api, stack, day: date, log_path, option: str, **params) -> dict:
    """Run the day; it must wait at the revocation gate; answer `option`. Returns the form."""
    process = start_dag(stack, day, log_path, base_url=ui_url(api), lookback_days=0, **params)
    try:
        request = waiting_request(api, process, GATE_TASK)
        answer(api, request, GATE_TASK, option)
        code, output = finish(process, log_path)
    finally:
        if process.poll() is None:
            process.kill()
    assert succeeded(code, output), output[-4000:]
    return request


def test_rejected_revocations_are_asked_again_at_the_default_threshold_never_run_unasked(
        issued, run_dag, api, sandbox, tmp_path):
    badges, due = revocations_due(issued, run_dag, 3)
    ids = {b[0] for b in badges}
    # An operator rejects them (the threshold lowered to 1 so that three ask).
    asked(api, issued, due, tmp_path / "rejected.log", "Reject",
          max_revocations_without_approval=1)
    assert {r[0] for r in revocations(issued).values()} == {"held"}

    # The next night keeps the default threshold (10): three is below it, and still the run
    # asks, because an operator held them. Nothing is revoked while it waits, or after a
    # second rejection.
    again = due + timedelta(days=1)
    form = asked(api, issued, again, tmp_path / "again.log", "Reject")
    assert form["subject"] == f"Revoke 3 badges (run of {again})?"
    assert "**3 of them were held by an earlier run's operator**" in form["body"]
    assert gate_decided(issued, again)[0] == "rejected"
    assert dict(audited(issued, "revoke_attempt")) == {}
    assert revoked_in_sandbox(sandbox) == set()

    # accept_revocations does not pass them either: the run asks; an approval revokes them,
    # once each.
    fourth = again + timedelta(days=1)
    asked(api, issued, fourth, tmp_path / "approved.log", "Approve", accept_revocations=True)
    assert gate_decided(issued, fourth)[:2] == ("approved", "admin")
    assert revoked_in_sandbox(sandbox) == {b[3] for b in badges}
    assert dict(audited(issued, "revoke_attempt")) == dict.fromkeys(ids, 1)
    assert_sandbox_matches_ledger(issued, sandbox)

    # A threshold raised above the default is recorded with who triggered the run (here
    # `airflow dags test`'s own name), even when nothing needed an answer.
    fifth = fourth + timedelta(days=1)
    assert run_dag(fifth, lookback_days=0, max_revocations_without_approval=50).succeeded
    event, by, detail = gate_decided(issued, fifth)
    assert (event, by, detail["maximum"]) == ("approval_not_needed", "dag_test", 50)


def test_a_dry_run_reports_what_it_would_revoke_and_changes_nothing(issued, run_dag, sandbox):
    badges = single_entry_badges(issued, 2)
    soft_delete(issued, badges, FIRST)
    for day in (FIRST, SECOND, THIRD):
        assert run_dag(day, lookback_days=0, dry_run=True).succeeded
    assert revocations(issued) == {}
    assert revoked_in_sandbox(sandbox) == set()
    # Once per run and badge; no streak counted.
    assert dict(audited(issued, "would_revoke")) == {b[0]: 3 for b in badges}
    assert audited(issued, "unjustified") == Counter()


def test_a_collapsed_source_revokes_nothing(issued, run_dag, sandbox):
    _badges, due = revocations_due(issued, run_dag, 2)
    # Half of CTIMS vanishes (a truncated or half-replicated table) before the night.
    with psycopg.connect(issued.dsn("ctims")) as conn:
        conn.execute("DELETE FROM ctims.realtime_certifications WHERE certification_id % 2 = 0")
    assert run_dag(due, lookback_days=0).succeeded
    with psycopg.connect(issued.dsn("badging")) as conn:
        [blocked] = conn.execute("SELECT blocked FROM badging.badge_check "
                                 "ORDER BY checked_at DESC LIMIT 1").fetchone()
    assert "beyond the source guard's thresholds" in blocked
    assert "ctims.realtime_certifications (live)" in blocked
    assert revocations(issued) == {}
    assert revoked_in_sandbox(sandbox) == set()


def test_revocations_under_credly_faults_end_revoked_once_each(issued, run_dag, sandbox):
    badges, due = revocations_due(issued, run_dag, 6)
    # Lost responses (Credly revoked, we never heard), 5xx and 429s on the revoking run: the
    # client looks a lost revoke up, the task's retries take what is left.
    sandbox.set_faults(lost_response_rate=0.3, error_rate=0.15, throttle_rate=0.1,
                       retry_after_s=1, seed=13)
    result = run_dag(due, lookback_days=0)
    sandbox.clear_faults()
    assert result.succeeded, result.output[-4000:]
    assert revoked_in_sandbox(sandbox) == {b[3] for b in badges}
    assert dict(audited(issued, "revoked")) == {b[0]: 1 for b in badges}
    assert {r[0] for r in revocations(issued).values()} == {"revoked"}
    assert_sandbox_matches_ledger(issued, sandbox)
