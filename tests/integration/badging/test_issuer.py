"""BatchIssuer on real Postgres and the Credly sandbox over HTTP: claims, held rows, auth errors."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime

import psycopg
import pytest

from badging.constants import Event
from badging.credly import CredlyClient
from badging.errors import BatchIncomplete, CredlyAuthError
from badging.issuer import BatchIssuer
from badging.ledger import LedgerRow, plan
from badging.run import RunInfo

CODE = "WELD10001"


def _run(run_id: str, try_number: int = 1) -> RunInfo:
    start = datetime(2026, 5, 12, 5, tzinfo=UTC)
    return RunInfo(run_id=run_id, day=date(2026, 5, 12), window_start=start, window_end=start,
                   dry_run=False, task_id="issue", map_index=0, try_number=try_number)


@pytest.fixture
def planned(clean_stack, sandbox):
    """plan() `rows` staged, eligible rows of one run into one batch; returns the run."""
    template_id = str(uuid.uuid4())
    sandbox.put_templates([{"id": template_id, "name": CODE, "state": "active",
                            "allow_duplicate_badges": False}])
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.badge_templates VALUES (%s, %s, true)",
                     (CODE, template_id))

    def make(rows: int, run_id: str = "run-a") -> RunInfo:
        with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
            for n in range(1, rows + 1):
                conn.execute(
                    "INSERT INTO badging.staged_certification (run_id, certification_id,"
                    " student_id, assessment_code, test_date, first_name, last_name, email)"
                    " VALUES (%s, %s, %s, %s, '2026-05-11', 'Ada', 'Probe', %s)",
                    (run_id, n, 5000 + n, CODE, f"learner{n}@example.org"))
        run = _run(run_id)
        batches, _ = plan(run, earner_id_secret="k", batch_size=rows,
                          badging=clean_stack.dsn("badging"))
        assert [(b.batch_no, b.size) for b in batches] == [(0, rows)]
        return run

    return make


@pytest.fixture
def client(sandbox) -> CredlyClient:
    # One attempt per call: a test that breaks Credly on purpose need not wait out back-offs.
    return CredlyClient(sandbox.base_url, sandbox.token, sandbox.org_id, max_attempts=1,
                        read_timeout=10)


def _issuer(stack, run: RunInfo, client: CredlyClient, concurrency: int = 4) -> BatchIssuer:
    return BatchIssuer(run, client, concurrency=concurrency, badging=stack.dsn("badging"))


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
    retry = _issuer(clean_stack, _run(run.run_id, try_number=2), client)
    assert retry.issue(0, "batch 1 of 1") == {"issued": 3}
    assert len(sandbox.badges()) == 3
    assert _ledger(clean_stack)[crashed.certification_id] == ("issued", posted.badge.id)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        detail = conn.execute("SELECT detail FROM badging.audit_log WHERE event = 'issued'"
                              " AND certification_id = %s", (crashed.certification_id,)
                              ).fetchone()[0]
    assert detail["recovered"] is True


def test_a_row_another_run_holds_is_waited_for_and_its_outcome_recorded(clean_stack, sandbox,
                                                                         planned, client):
    run = planned(4)
    [held, *_] = _issuer(clean_stack, run, client).load(0)
    other = _run("run-b")
    conn = psycopg.connect(clean_stack.dsn("badging"), autocommit=True)
    other_row = LedgerRow(conn, other, held.issuance_id, held.certification_id)
    assert other_row.claim() is not None

    def other_run_finishes() -> None:
        time.sleep(1.0)
        other_row.mark_issued(client.issue_badge(held.request()).badge.id, Event.ISSUED)

    finisher = threading.Thread(target=other_run_finishes)
    finisher.start()
    try:
        counts = _issuer(clean_stack, run, client).issue(0, "batch 1 of 1")
    finally:
        finisher.join()
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
        deadline = time.monotonic() + 20
        while len(sandbox.badges()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
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
    # The calls that met the 401 were handed back (a few threads hold a claim while they
    # wait for the one call slot); the rows after them were never claimed.
    handed_back = events.count(Event.RETRY_LATER)
    assert 1 <= handed_back <= 3
    assert events.count(Event.ISSUE_ATTEMPT) == issued + handed_back < 10


def test_a_refused_badge_fails_alone(clean_stack, sandbox, planned, client):
    run = planned(3)
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("UPDATE badging.issuance SET credly_template_id = %s"
                     " WHERE certification_id = 2", (str(uuid.uuid4()),))
    assert _issuer(clean_stack, run, client).issue(0, "batch 1 of 1") == {"issued": 2,
                                                                           "failed": 1}
    ledger = _ledger(clean_stack)
    assert ledger[2] == ("failed", None)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        [error] = conn.execute("SELECT last_error FROM badging.issuance"
                               " WHERE certification_id = 2").fetchone()
    assert error.startswith("CredlyInvalidRequest")


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
