"""BatchIssuer on real Postgres and the Credly sandbox over HTTP: claims, held rows, auth errors."""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from badging.core.constants import Event
from badging.core.errors import (
    BatchIncomplete,
    BatchRefused,
    ConfigurationError,
    CredlyAuthError,
    RunNeedsAttention,
)
from badging.core.lease import LEASE_SECONDS
from badging.core.recipients import earner_id
from badging.core.run import RunInfo
from badging.credly import CredlyClient
from badging.pipeline.issue import SAME_REFUSALS_TO_STOP, BatchIssuer
from badging.pipeline.ledger import LedgerRow
from badging.pipeline.plan import batch_templates, plan, refuse_templates_allowing_duplicates
from badging.pipeline.report import summarise
from badging.reports.location import ReportLocation
from tests.fixtures.lease import age_lease
from tests.fixtures.ledger import CODE
from tests.fixtures.ledger import batch_run as _run
from tests.fixtures.polling import wait_until


def _issuer(stack, run: RunInfo, client: CredlyClient, concurrency: int = 4,
            digest_secret: str | None = None) -> BatchIssuer:
    return BatchIssuer(run, client, concurrency=concurrency, badging=stack.dsn("badging"),
                       ctims=stack.dsn("ctims"), digest_secret=digest_secret)


def _ledger(stack) -> dict[int, tuple[str, str | None]]:
    """certification id -> (state, credly badge id)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {cert: (state, badge) for cert, state, badge in conn.execute(
            "SELECT certification_id, state, credly_badge_id FROM badging.issuance")}


def _events(stack, run_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT certification_id, event FROM badging.audit_log"
                            " WHERE run_id = %s AND task_id = 'issue' ORDER BY audit_id",
                            (run_id,)).fetchall()


def test_a_batch_issues_each_badge_once_and_a_retry_sends_nothing(clean_stack, sandbox,
                                                                   planned, client):
    run = planned(6)
    assert _issuer(clean_stack, run, client).issue(0, "batch 1 of 1") == {"issued": 6}
    ledger = _ledger(clean_stack)
    assert {state for state, _ in ledger.values()} == {"issued"}
    assert {badge["id"] for badge in sandbox.badges()} == {badge for _, badge in ledger.values()}
    # Airflow retries the task: every row is settled, nothing reaches Credly again.
    again = _issuer(clean_stack, _run(run.run_id, try_number=2), client)
    assert again.issue(0, "batch 1 of 1") == {"settled_earlier": 6}
    assert len(sandbox.badges()) == 6
    assert [e for _, e in _events(clean_stack, run.run_id)].count(Event.ISSUE_ATTEMPT) == 6


def test_a_crashed_attempt_is_looked_up_in_credly_not_posted_again(clean_stack, sandbox,
                                                                   planned, client):
    run = planned(3)
    issuer = _issuer(clean_stack, run, client)
    [crashed, *_] = issuer.load(0)
    # Try 1 claimed the row and reached Credly, then its worker died before recording it.
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        assert LedgerRow(conn, run, crashed.issuance_id, crashed.certification_id).claim()
    posted = client.issue_badge(crashed.request())
    # The dead try renews nothing: its lease runs out, and the next try takes the row over.
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        age_lease(conn, "issuance", crashed.issuance_id, LEASE_SECONDS + 1)
    retry = _issuer(clean_stack, _run(run.run_id, try_number=2), client)
    assert retry.issue(0, "batch 1 of 1") == {"issued": 3}
    assert len(sandbox.badges()) == 3
    assert _ledger(clean_stack)[crashed.certification_id] == ("issued", posted.badge.id)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        detail = conn.execute("SELECT detail FROM badging.audit_log WHERE event = 'issued'"
                              " AND certification_id = %s", (crashed.certification_id,)
                              ).fetchone()[0]
    assert detail["recovered"] is True


def test_a_row_another_run_holds_is_waited_for_and_its_outcome_recorded(
        clean_stack, sandbox, planned, client, caplog):
    caplog.set_level(logging.INFO, logger="badging.pipeline.issue")
    run = planned(4)
    [held, *_] = _issuer(clean_stack, run, client).load(0)
    other = _run("run-b")
    conn = psycopg.connect(clean_stack.dsn("badging"), autocommit=True)
    other_row = LedgerRow(conn, other, held.issuance_id, held.certification_id)
    assert other_row.claim() is not None

    def other_run_finishes() -> None:
        # Once the batch waits for the row: finished before its first look, the row would be
        # settled at once, never held. Finished whatever happens, so the batch never hangs.
        try:
            wait_until(lambda: any("in flight in another run" in m for m in caplog.messages),
                       timeout=60, what="the batch to wait for the row another run holds")
        finally:
            other_row.mark_issued(client.issue_badge(held.request()).badge.id, Event.ISSUED)

    with ThreadPoolExecutor(1) as pool:
        finisher = pool.submit(other_run_finishes)
        try:
            counts = _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")
        finally:
            finisher.result()
            conn.close()
    assert counts == {"issued": 3, "held_elsewhere": 0, "settled_earlier": 1}
    assert len(sandbox.badges()) == 4
    assert (held.certification_id, Event.ALREADY_ISSUED) in _events(clean_stack, run.run_id)
    assert (held.certification_id, Event.ISSUE_ATTEMPT) not in _events(clean_stack, run.run_id)


def test_an_auth_error_mid_batch_stops_it_and_leaves_the_rest_pending(clean_stack, sandbox,
                                                                      planned, client):
    run = planned(10)
    sandbox.set_faults(latency_ms=150)

    def revoke_after_two_badges() -> None:
        wait_until(lambda: len(sandbox.badges()) >= 2, timeout=20, interval=0.02,
                   what="two badges in the sandbox")
        sandbox.set_tokens(revoke=[sandbox.token])

    revoker = threading.Thread(target=revoke_after_two_badges)
    revoker.start()
    try:
        with pytest.raises(CredlyAuthError):
            _issuer(clean_stack, run, client, concurrency=1).issue(0, "batch 1 of 1")
    finally:
        revoker.join()
    states = [state for state, _ in _ledger(clean_stack).values()]
    issued = states.count("issued")
    assert 2 <= issued < 10
    assert states.count("pending") == 10 - issued  # nothing failed, nothing left in flight
    assert len(sandbox.badges()) == issued
    events = [e for _, e in _events(clean_stack, run.run_id)]
    # Rows are claimed only inside a call slot: with one slot, exactly the call that met
    # the 401 was handed back; the rows after it were never claimed.
    assert events.count(Event.RETRY_LATER) == 1
    assert events.count(Event.ISSUE_ATTEMPT) == issued + 1 < 10


def test_a_refused_badge_fails_alone(clean_stack, sandbox, planned, client):
    # Usable to the pipeline (one @, a dotted domain), refused by Credly (an empty label).
    run = planned(3, emails={2: "student@example..org"})
    assert _issuer(clean_stack, run, client).issue(0, "batch 1 of 1") == {"issued": 2,
                                                                           "failed": 1}
    ledger = _ledger(clean_stack)
    assert ledger[2] == ("failed", None)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        [error] = conn.execute("SELECT last_error FROM badging.issuance"
                               " WHERE certification_id = 2").fetchone()
    assert error.startswith("CredlyInvalidRequest")


def _use_template(stack, template_id: str, certification_ids: list[int]) -> None:
    with psycopg.connect(stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("UPDATE badging.issuance SET credly_template_id = %s"
                     " WHERE certification_id = ANY(%s)", (template_id, certification_ids))


def test_a_refused_template_leaves_its_badges_pending_and_fails_the_task(clean_stack, sandbox,
                                                                          planned, client):
    run = planned(3)
    _use_template(clean_stack, str(uuid.uuid4()), [2])  # Credly has no such template
    with pytest.raises(BatchRefused, match="refused 1 badges of template"):
        _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")
    assert [_ledger(clean_stack)[n][0] for n in (1, 2, 3)] == ["issued", "pending", "issued"]


def test_the_same_template_refusal_three_times_stops_the_batch(clean_stack, sandbox, planned,
                                                               client):
    """Before: every badge of an archived template failed for good, one by one."""
    run = planned(20)
    archived = str(uuid.uuid4())
    sandbox.put_templates([{"id": archived, "name": "old", "state": "archived",
                            "allow_duplicate_badges": False}])
    _use_template(clean_stack, archived, list(range(1, 21)))
    with pytest.raises(BatchRefused, match="template is archived"):
        _issuer(clean_stack, run, client, concurrency=1).issue(0, "batch 1 of 1")
    states = [state for state, _ in _ledger(clean_stack).values()]
    assert states == ["pending"] * 20  # none failed for good
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        attempts = conn.execute("SELECT sum(attempts) FROM badging.issuance").fetchone()[0]
    assert attempts == SAME_REFUSALS_TO_STOP
    assert sandbox.badges() == []


def test_a_poisoned_row_ends_alone_and_the_batch_goes_on(clean_stack, sandbox, planned, client,
                                                         caplog):
    """Two ledger rows resolve to one Credly badge: the second one's record violates the
    unique Credly id. Before: the exception escaped, the pool cancelled the rest."""
    run = planned(6)
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        # Certification 4 belongs to student 5003 too (a corrected student id, say).
        conn.execute("UPDATE ctims.realtime_certifications SET student_id = 5003"
                     " WHERE certification_id = 4")
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("UPDATE badging.issuance SET earner_id = e.earner_id FROM"
                     " (SELECT earner_id FROM badging.issuance WHERE certification_id = 3) e"
                     " WHERE certification_id = 4")
    counts = _issuer(clean_stack, run, client, concurrency=1,
                     digest_secret="a test secret").issue(0, "batch 1 of 1")
    assert counts == {"issued": 5, "failed": 1}
    ledger = _ledger(clean_stack)
    assert sorted(state for state, _ in ledger.values()) == ["failed"] + ["issued"] * 5
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        failures = conn.execute("SELECT last_error, recipient_digest IS NOT NULL"
                                " FROM badging.issuance WHERE state = 'failed'").fetchall()
    # Whom it named is recorded, as for any failure: the check reopens a failed badge when
    # CTIMS names someone else, so without it every night reopened and failed it again.
    assert failures == [("UniqueViolation", True)]
    assert len(sandbox.badges()) == 5
    # No DETAIL line (it names the Credly badge id) in the log.
    assert not any(badge["id"] in caplog.text for badge in sandbox.badges())
    assert "DETAIL" not in caplog.text


def test_throttled_rows_are_handed_back_and_the_batch_fails_for_a_retry(clean_stack, sandbox,
                                                                        planned, client):
    run = planned(3)
    sandbox.set_faults(throttle_rate=1.0, retry_after_s=0)
    with pytest.raises(BatchIncomplete, match="3 of 3 badges are still retryable"):
        _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")
    assert {state for state, _ in _ledger(clean_stack).values()} == {"pending"}
    assert sandbox.badges() == []


def test_concurrency_must_be_positive(clean_stack, client):
    with pytest.raises(ValueError, match="concurrency"):
        _issuer(clean_stack, _run("run-a"), client, concurrency=0)


def test_a_later_run_sweeps_open_badges_of_any_age(clean_stack, sandbox, planned, client,
                                                    tmp_path):
    """Before: a row left pending was retried only if a later run staged it again, and after
    the staging purge its own run's report read 0 pending and turned green."""
    run_a = planned(4)  # planned; its issue task never ran
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("DELETE FROM badging.staged_certification")  # the 14-day purge
    with pytest.raises(RunNeedsAttention, match="4 badges still pending"):
        summarise(run_a, max_failed_share=1.0, badging=clean_stack.dsn("badging"),
                  ctims=clean_stack.dsn("ctims"), location=ReportLocation(str(tmp_path)))
    run_b = _run("run-b")  # another day, nothing of its own to issue
    batches, _ = plan(run_b, earner_id_secret="k", batch_size=10,
                              badging=clean_stack.dsn("badging"))
    assert [(b.batch_no, b.size) for b in batches] == [(0, 4)]
    assert _issuer(clean_stack, run_b, client).issue(0, "batch 1 of 1") == {"issued": 4}
    assert len(sandbox.badges()) == 4
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT count(*) FROM badging.run_batch"
                            " WHERE run_id = 'run-b' AND swept").fetchone()[0] == 4


def test_plan_refuses_a_template_that_allows_duplicates(clean_stack, sandbox, planned, client):
    run = planned(2)
    [template_id] = batch_templates(run, badging=clean_stack.dsn("badging"))
    refuse_templates_allowing_duplicates(client, [template_id])  # off: nothing to say
    sandbox.put_templates([{"id": template_id, "name": CODE, "state": "active",
                            "allow_duplicate_badges": True}])
    with pytest.raises(ConfigurationError, match=f"template {template_id} allows duplicate"):
        refuse_templates_allowing_duplicates(client, [template_id])


def test_a_shared_email_keeps_a_hand_issued_badge_from_the_wrong_sibling(clean_stack, sandbox,
                                                                          planned, client):
    run = planned(2, emails={1: "family@example.org", 2: "family@example.org"})
    [first, second] = _issuer(clean_stack, run, client).load(0)
    assert first.recipient.email_shared
    assert second.recipient.email_shared
    # Someone issued this template to the family address by hand, with no earner id.
    by_hand = first.request().to_payload()
    del by_hand["issuer_earner_id"]
    client.transport.send("POST", f"{client.base_url}/organizations/{client.organization_id}"
                          "/badges", json=by_hand)
    counts = _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")
    assert counts == {"failed": 2}
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        errors = {row[0] for row in conn.execute("SELECT last_error FROM badging.issuance")}
    assert errors == {"CredlyUnresolvedDuplicate (HTTP 422)"}


# Issue 27: a hand-issued badge at the student's own (unshared) address is theirs only if it
# names them: an older sibling, no longer in CTIMS, may have the family address.

def test_a_hand_issued_badge_naming_someone_else_is_not_taken(clean_stack, sandbox, planned,
                                                               client):
    """Before: the 422's lookup took the sibling's badge and recorded the row issued."""
    run = planned(3)
    rows = _issuer(clean_stack, run, client).load(0)
    held = {}
    for row, first, last in ((rows[0], "Grace", "Probe"), (rows[1], " ádá ", "PROBE"),
                             (rows[2], "Grace", "Probe")):
        by_hand = row.request().to_payload() | {"issued_to_first_name": first,
                                                "issued_to_last_name": last}
        del by_hand["issuer_earner_id"]
        held[row.issuance_id] = client.transport.send(
            "POST", f"{client.base_url}/organizations/{client.organization_id}/badges",
            json=by_hand)["data"]["id"]
    # The third's last attempt may have landed (a lost response): it is looked up first.
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("UPDATE badging.issuance SET lookup_first = true"
                     " WHERE issuance_id = %s", (rows[2].issuance_id,))

    counts = _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")

    assert counts == {"failed": 2, "already_issued": 1}
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        ledger = {row[0]: row[1:] for row in conn.execute(
            "SELECT issuance_id, state, credly_badge_id, last_error FROM badging.issuance")}
    assert ledger == {
        rows[0].issuance_id: ("failed", None, "CredlyUnresolvedDuplicate (HTTP 422)"),
        rows[1].issuance_id: ("issued", held[rows[1].issuance_id], None),
        rows[2].issuance_id: ("failed", None, "CredlyUnresolvedDuplicate (HTTP 422)")}
    # Nothing was issued twice: Credly holds the three hand-issued badges only.
    assert {b["id"] for b in sandbox.badges()} == set(held.values())


class _Timeout(Exception):
    """Stands for AirflowTaskTimeout, which Airflow raises in the task's main thread."""


def test_a_task_timeout_stops_the_rows_still_queued(clean_stack, sandbox, planned, client):
    """Before: leaving the pool waited for every queued row, so a timed-out try kept issuing."""
    run = planned(30)
    sandbox.set_faults(latency_ms=200)

    def time_out(*_):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, time_out)
    signal.setitimer(signal.ITIMER_REAL, 0.7)
    try:
        with pytest.raises(_Timeout):
            _issuer(clean_stack, run, client, concurrency=1).issue(0, "batch 1 of 1")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        attempted = conn.execute("SELECT count(*) FROM badging.issuance"
                                 " WHERE attempts > 0").fetchone()[0]
    # One call in flight at a time, 0.2 s each: a handful started, not thirty.
    assert attempted < 15
    assert len(sandbox.badges()) == attempted


def test_the_earner_id_secret_never_reaches_the_database_server(clean_stack, planned):
    # `planned` puts the assessment's template in place; this test stages its own row.
    """Postgres logs statements with their parameters (slow ones, or all of them when an
    administrator asks): the keyed hash is computed where the secret lives. Before: the
    secret was a bound parameter of pipeline/plan/insert_pending.sql."""
    secret = f"secret-{uuid.uuid4().hex}"
    log_file = clean_stack.postgres.data_dir / "server.log"
    logged_before = log_file.stat().st_size
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("ALTER ROLE postgres SET log_statement = 'all'")
    try:
        with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
            conn.execute("INSERT INTO badging.staged_certification (run_id, certification_id,"
                         " student_id, assessment_code, test_date, first_name, last_name, email)"
                         " VALUES ('run-s', 77, 7077, %s, '2026-05-11', 'Ada', 'Probe',"
                         " 'probe@example.org')", (CODE,))
        plan(_run("run-s"), earner_id_secret=secret, batch_size=10,
             badging=clean_stack.dsn("badging"))
    finally:
        with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
            conn.execute("ALTER ROLE postgres RESET log_statement")
    with log_file.open("rb") as log:
        log.seek(logged_before)
        logged = log.read().decode(errors="replace")
    assert "insert_pending" in logged or "INSERT INTO badging.issuance" in logged
    assert secret not in logged
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        [earner] = conn.execute("SELECT earner_id FROM badging.issuance"
                                " WHERE certification_id = 77").fetchone()
    assert earner == earner_id(secret, 7077)


def test_the_earner_id_is_the_one_earlier_releases_computed_in_sql(clean_stack):
    """Existing ledgers keep their students' earner ids: same key and formula, now in Python."""
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        [before] = conn.execute(
            "SELECT 'okct-' || left(encode(sha256(convert_to(%s || ':' || %s::text, 'UTF8')),"
            " 'hex'), 40)", ("k3y-é", 1000234)).fetchone()
    assert earner_id("k3y-é", 1000234) == before
