"""The revocation executor on real Postgres and the real Credly sandbox: the shared lease
(claim, fence, takeover, heartbeat), the re-read of CTIMS right before Credly, and the move
that issues to the corrected address before it revokes (docs/lifecycle.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import psycopg
import pytest

from badging.core import db
from badging.core.constants import RunType
from badging.core.errors import ClaimLost
from badging.core.lease import LEASE_SECONDS, Heartbeat
from badging.core.run import RunInfo
from badging.lifecycle.corrections import RecipientNow
from badging.lifecycle.revocation import Planned, RevocationRow, revoke
from badging.pipeline.issue import BatchIssuer
from tests.fixtures.lease import age_lease, lease_age, lease_holder
from tests.fixtures.ledger import CODE, batch_run
from tests.fixtures.polling import wait_until

DAY = date(2026, 5, 12)
SECRET = "k"


def nightly(run_id: str, try_number: int = 1) -> RunInfo:
    """The revoke task of a night of the check."""
    return replace(batch_run(run_id, try_number, task_id="revoke"),
                   run_type=RunType.SCHEDULED, latest_day=DAY)


@pytest.fixture
def issued(clean_stack, planned, client):
    """Four badges issued to learner1..4@example.org (certifications 1..4)."""
    run = planned(4)
    BatchIssuer(run, client, concurrency=2, digest_secret=SECRET,
                badging=clean_stack.dsn("badging"),
                ctims=clean_stack.dsn("ctims")).issue(0, "batch 1 of 1")
    return clean_stack


def plan_change(stack, certification_id: int, run: RunInfo, *, action: str = "revoke",
                reason: str = "deleted", target: RecipientNow | None = None) -> int:
    """A change the check planned for the badge of `certification_id`, taken by `run`, with
    the night's check passed and the gate approved; returns its revocation id."""
    with psycopg.connect(stack.dsn("badging"), autocommit=True) as conn:
        revocation_id = conn.execute("""
            INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason,
                                            action, certification_id, recipient_digest,
                                            name_digest, planned_run_id, run_id)
            SELECT issuance_id, credly_badge_id, 'site', %(reason)s, %(action)s,
                   certification_id, %(recipient)s, %(name)s, %(run)s, %(run)s
            FROM badging.issuance WHERE certification_id = %(cert)s
            RETURNING revocation_id""", {
            "reason": reason, "action": action, "cert": certification_id, "run": run.run_id,
            "recipient": target.recipient_digest if target else None,
            "name": target.name_digest if target else None}).fetchone()[0]
        conn.execute("INSERT INTO badging.badge_check (run_id, logical_date, live_rows,"
                     " live_badges, unjustified, counted) VALUES (%s, %s, 0, 0, 0, true)"
                     " ON CONFLICT DO NOTHING", (run.run_id, DAY))
        conn.execute("INSERT INTO badging.approval (run_id, gate, logical_date, event,"
                     " decided_at, summary) VALUES (%s, 'revocation', %s, 'approved', now(),"
                     " 'test') ON CONFLICT DO NOTHING", (run.run_id, DAY))
    return revocation_id


def planned_row(stack, revocation_id: int) -> Planned:
    """The change as the revoke task reads it (lifecycle/revocation/open_revocations.sql)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        run_id = conn.execute("SELECT run_id FROM badging.revocation WHERE revocation_id = %s",
                              (revocation_id,)).fetchone()[0]
        rows = db.execute(conn, "lifecycle/revocation/open_revocations.sql",
                          {"run_id": run_id, "include_held": True})
        return next(Planned(*row) for row in rows if row[0] == revocation_id)


def in_sandbox(sandbox, badge_id: str) -> dict:
    return next(b for b in sandbox.badges() if b["id"] == badge_id)


def badge_of(stack, certification_id: int) -> str:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT credly_badge_id FROM badging.issuance"
                            " WHERE certification_id = %s", (certification_id,)).fetchone()[0]


def revocation(stack, revocation_id: int) -> tuple[str, int, str | None]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT revocation_state, attempts, replacement_badge_id"
                            " FROM badging.revocation WHERE revocation_id = %s",
                            (revocation_id,)).fetchone()


def do_revoke(stack, run: RunInfo, client) -> dict[str, int]:
    return revoke(run, client, suppress_notification=False, digest_secret=SECRET,
                  badging=stack.dsn("badging"), ctims=stack.dsn("ctims"))


def test_a_revocation_claim_is_the_issuing_lease_taken_over_only_after_it_passes(issued):
    run = nightly("night-1")
    revocation_id = plan_change(issued, 1, run)
    one = planned_row(issued, revocation_id)
    with psycopg.connect(issued.dsn("badging"), autocommit=True) as conn:
        first = RevocationRow(conn, run, one)
        assert first.claim() == badge_of(issued, 1)
        assert lease_holder(conn, "revocation", revocation_id) == run.holder
        # A stale try may still be running: the next try is another holder and waits.
        retry = RevocationRow(conn, nightly("night-1", try_number=2), one)
        assert retry.claim() is None
        assert retry.held_by_other()
        age_lease(conn, "revocation", revocation_id, LEASE_SECONDS + 1)
        assert retry.claim() == badge_of(issued, 1)
        assert retry.attempt == 2
        # The stale try can neither fence a Credly call nor finish.
        with pytest.raises(ClaimLost):
            first.fence()
        retry.fence()


def test_the_heartbeat_renews_revocation_and_issue_claims_alike(issued):
    run = nightly("night-1")
    revocation_id = plan_change(issued, 1, run)
    with psycopg.connect(issued.dsn("badging"), autocommit=True) as conn:
        RevocationRow(conn, run, planned_row(issued, revocation_id)).claim()
        age_lease(conn, "revocation", revocation_id, LEASE_SECONDS - 1)
        with Heartbeat(issued.dsn("badging"), run.holder, interval=0.1):
            wait_until(lambda: lease_age(conn, "revocation", revocation_id) < 5, timeout=10,
                       what="the heartbeat to renew the claim")


def delete_entry(stack, certification_id: int) -> None:
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = now()"
                     " WHERE certification_id = %s", (certification_id,))


def test_a_planned_revocation_is_made_once_and_a_retry_sends_nothing(issued, sandbox, client):
    run = nightly("night-1")
    delete_entry(issued, 1)
    revocation_id = plan_change(issued, 1, run)
    assert do_revoke(issued, run, client) == {"revoked": 1}
    assert in_sandbox(sandbox, badge_of(issued, 1))["state"] == "revoked"
    assert revocation(issued, revocation_id)[:2] == ("revoked", 1)
    with psycopg.connect(issued.dsn("badging")) as conn:
        assert lease_holder(conn, "revocation", revocation_id) is None
    assert do_revoke(issued, nightly("night-1", try_number=2), client) == {}


def test_a_revocation_whose_entry_is_back_as_issued_is_cancelled_before_credly(issued, sandbox,
                                                                             client):
    run = nightly("night-1")
    # The check planned it; then the replica brought the entry back, as it was, before revoke.
    revocation_id = plan_change(issued, 2, run)
    with psycopg.connect(issued.dsn("badging")) as conn:
        # The issuer recorded the test date the badge carries.
        assert conn.execute("SELECT entry_test_date FROM badging.issuance"
                            " WHERE certification_id = 2").fetchone()[0] == date(2026, 5, 11)
    assert do_revoke(issued, run, client) == {"cancelled": 1}
    assert in_sandbox(sandbox, badge_of(issued, 2))["state"] == "pending"
    assert revocation(issued, revocation_id)[0] == "cancelled"


def target(email: str) -> RecipientNow:
    return RecipientNow.of(SECRET, email, "Ada", "Probe")


def fix_email(stack, certification_id: int, email: str | None) -> None:
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.students SET email = %s WHERE student_id = %s",
                     (email, 5000 + certification_id))


def test_a_move_issues_to_the_new_address_before_it_revokes_the_old_badge(issued, sandbox,
                                                                         client):
    run = nightly("night-1")
    old = badge_of(issued, 3)
    fix_email(issued, 3, "moved.learner3@example.org")
    revocation_id = plan_change(issued, 3, run, action="move", reason="email_corrected",
                                target=target("moved.learner3@example.org"))
    assert do_revoke(issued, run, client) == {"moved": 1}
    new = badge_of(issued, 3)
    assert new != old
    assert in_sandbox(sandbox, old)["state"] == "revoked"
    moved = in_sandbox(sandbox, new)
    assert (moved["recipient_email"], moved["state"]) == ("moved.learner3@example.org",
                                                           "pending")
    # Sent without the earner id the old, still live badge carried.
    assert moved["issuer_earner_id"] is None
    assert moved["created_at"] < in_sandbox(sandbox, old)["updated_at"]
    assert revocation(issued, revocation_id) == ("moved", 1, new)


def test_a_move_whose_new_badge_landed_before_a_crash_posts_no_second_one(issued, sandbox,
                                                                         client):
    """The worker died after Credly created the new badge and before anything was recorded:
    the next attempt finds it at the new address and only revokes the old one."""
    run = nightly("night-1")
    old = badge_of(issued, 4)
    fix_email(issued, 4, "moved.learner4@example.org")
    revocation_id = plan_change(issued, 4, run, action="move", reason="email_corrected",
                                target=target("moved.learner4@example.org"))
    with psycopg.connect(issued.dsn("badging"), autocommit=True) as conn:
        crashed = RevocationRow(conn, run, planned_row(issued, revocation_id))
        assert crashed.claim() == old
        from badging.core.recipients import recipients
        from badging.lifecycle.revocation import Executor

        executor = Executor(client=client, suppress_notification=False, digest_secret=SECRET,
                            found=recipients([4], ctims=issued.dsn("ctims")),
                            back_as_issued=frozenset())
        landed = executor._issue_moved(crashed, executor.found[4], old)
        age_lease(conn, "revocation", revocation_id, LEASE_SECONDS + 1)
    before = len(sandbox.badges())
    assert do_revoke(issued, nightly("night-1", try_number=2), client) == {"moved": 1}
    assert len(sandbox.badges()) == before
    assert badge_of(issued, 4) == landed
    assert in_sandbox(sandbox, old)["state"] == "revoked"
    assert revocation(issued, revocation_id) == ("moved", 2, landed)


def test_a_correction_whose_value_moved_again_or_went_blank_is_cancelled(issued, sandbox,
                                                                        client):
    run = nightly("night-1")
    fix_email(issued, 1, "again.learner1@example.org")
    moved_again = plan_change(issued, 1, run, action="move", reason="email_corrected",
                              target=target("first.fix.learner1@example.org"))
    fix_email(issued, 2, None)
    blanked = plan_change(issued, 2, run, action="move", reason="email_corrected",
                          target=target("learner2.new@example.org"))
    before = {b["id"]: b["state"] for b in sandbox.badges()}
    assert do_revoke(issued, run, client) == {"cancelled": 2}
    assert {b["id"]: b["state"] for b in sandbox.badges()} == before
    assert revocation(issued, moved_again)[0] == revocation(issued, blanked)[0] == "cancelled"


def test_only_a_nightly_run_changes_badges(issued, sandbox, client):
    past = replace(nightly("manual-past"), run_type=RunType.MANUAL, latest_day=date(2026, 5, 20))
    delete_entry(issued, 1)
    plan_change(issued, 1, past)
    assert do_revoke(issued, past, client) == {}
    assert in_sandbox(sandbox, badge_of(issued, 1))["state"] == "pending"


def test_a_replace_sends_the_expiry_and_evidence_a_new_badge_would_carry(issued, sandbox,
                                                                         client):
    """A corrected name's replacement says what a new badge says (issue 31): its expiry from
    the test date and the agency's validity, and its evidence."""
    with psycopg.connect(issued.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.assessment_validity VALUES (%s, 24, false)", (CODE,))
    with psycopg.connect(issued.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.students SET first_name = 'Adah' WHERE student_id = 5001")
    run = nightly("night-1")
    old = badge_of(issued, 1)
    plan_change(issued, 1, run, action="replace", reason="name_corrected",
                target=RecipientNow.of(SECRET, "learner1@example.org", "Adah", "Probe"))
    assert do_revoke(issued, run, client) == {"replaced": 1}
    new = in_sandbox(sandbox, badge_of(issued, 1))
    assert (new["replaces_badge_id"], new["issued_to_first_name"]) == (old, "Adah")
    # Tested 2026-05-11, valid 24 months: the end of 2028-05-11 in Chicago.
    assert new["expires_at"] == "2028-05-12T04:59:59.000Z"
    assert [(e["type"], e.get("id")) for e in new["evidence"]] == [
        ("PlainTextEvidence", None), ("IdEvidence", "1")]
