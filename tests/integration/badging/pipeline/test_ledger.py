"""The ledger's per-badge protocol on real Postgres: each transition and its audit row together."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import psycopg
import pytest

from badging.core.constants import Event
from badging.core.lease import LEASE_SECONDS, Heartbeat
from badging.core.run import RunInfo
from badging.pipeline.ledger import LedgerRow
from tests.fixtures.lease import age_lease, lease_age, lease_holder
from tests.fixtures.polling import wait_until


def _run(run_id: str, map_index: int = 0, try_number: int = 1) -> RunInfo:
    start = datetime(2026, 5, 12, 5, tzinfo=UTC)
    return RunInfo(run_id=run_id, day=date(2026, 5, 12), window_start=start, window_end=start,
                   dry_run=False, task_id="issue", map_index=map_index, try_number=try_number)


@pytest.fixture
def conn(stack):
    with psycopg.connect(stack.dsn("badging"), autocommit=True) as conn:
        yield conn


@pytest.fixture
def badge(conn) -> tuple[int, int]:
    """A pending badge nobody else uses: (issuance_id, certification_id)."""
    certification_id = uuid.uuid4().int % 10**12
    issuance_id = conn.execute(
        "INSERT INTO badging.issuance (student_id, assessment_code, certification_id,"
        " credly_template_id, earner_id, planned_run_id)"
        " VALUES (%s, 'PROBE', %s, 'tpl', 'earner', 'probe') RETURNING issuance_id",
        (certification_id, certification_id)).fetchone()[0]
    return issuance_id, certification_id


def _ledger(conn, run: RunInfo, badge: tuple[int, int]) -> LedgerRow:
    return LedgerRow(conn, run, *badge)


def _state(conn, issuance_id: int) -> tuple[str, str | None]:
    """The badge's state and who holds its claim."""
    state = conn.execute("SELECT state FROM badging.issuance WHERE issuance_id = %s",
                         (issuance_id,)).fetchone()[0]
    return state, lease_holder(conn, "issuance", issuance_id)


def _events(conn, issuance_id: int) -> list[tuple[str, str, str | None]]:
    return conn.execute("SELECT run_id, event, reason FROM badging.audit_log"
                        " WHERE issuance_id = %s ORDER BY audit_id", (issuance_id,)).fetchall()


def test_a_claim_and_its_audit_row_are_committed_together(conn, badge):
    run = _run("run-a")
    claim = _ledger(conn, run, badge).claim()
    assert claim is not None
    assert (claim.look_up_first, claim.attempt) == (False, 1)
    assert _state(conn, badge[0]) == ("in_flight", run.holder)
    detail = conn.execute("SELECT detail FROM badging.audit_log WHERE issuance_id = %s",
                          (badge[0],)).fetchone()[0]
    assert _events(conn, badge[0]) == [("run-a", Event.ISSUE_ATTEMPT, None)]
    assert detail == {"attempt": 1, "recovering": False}


def test_a_held_badge_is_not_claimed_twice(conn, badge):
    assert _ledger(conn, _run("run-a"), badge).claim() is not None
    assert _ledger(conn, _run("run-b"), badge).claim() is None
    assert [e[0] for e in _events(conn, badge[0])] == ["run-a"]


def _age_claim(conn, issuance_id: int, seconds: int) -> None:
    age_lease(conn, "issuance", issuance_id, seconds)


def test_a_retry_takes_its_crashed_try_over_only_after_the_lease_and_looks_first(conn, badge):
    _ledger(conn, _run("run-a", try_number=1), badge).claim()
    # A stale try may still be running: the next try is another holder and waits.
    assert _ledger(conn, _run("run-a", try_number=2), badge).claim() is None
    _age_claim(conn, badge[0], LEASE_SECONDS + 1)
    claim = _ledger(conn, _run("run-a", try_number=2), badge).claim()
    assert claim is not None
    assert (claim.look_up_first, claim.attempt) == (True, 2)


def test_a_stale_try_can_neither_renew_nor_finish_the_newer_claim(conn, badge):
    stale = _ledger(conn, _run("run-a", try_number=1), badge)
    stale.claim()
    _age_claim(conn, badge[0], LEASE_SECONDS + 1)
    newer = _ledger(conn, _run("run-a", try_number=2), badge)
    assert newer.claim() is not None
    assert not stale.renew()
    assert not stale.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED)
    assert _state(conn, badge[0]) == ("in_flight", _run("run-a", try_number=2).holder)
    assert newer.renew()


def test_a_finish_must_match_the_attempt_too(conn, badge):
    """Same holder, older attempt (a row released and claimed again): the old finish is void."""
    run = _run("run-a")
    first = _ledger(conn, run, badge)
    first.claim()
    first.release("CredlyThrottled (HTTP 429)")
    second = _ledger(conn, run, badge)
    assert second.claim().attempt == 2
    assert not first.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED)
    assert second.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED)


def test_a_release_that_may_have_reached_credly_makes_the_next_claimer_look(conn, badge):
    ledger = _ledger(conn, _run("run-a"), badge)
    ledger.claim()
    ledger.release("CredlyThrottled (HTTP 429)", maybe_applied=True)
    assert _state(conn, badge[0]) == ("pending", None)
    claim = _ledger(conn, _run("run-b"), badge).claim()
    assert (claim.look_up_first, claim.attempt) == (True, 2)


def test_the_heartbeat_keeps_a_live_holder_s_claims_past_the_lease(conn, badge, stack):
    run = _run("run-a")
    _ledger(conn, run, badge).claim()
    _age_claim(conn, badge[0], LEASE_SECONDS - 1)
    with Heartbeat(stack.dsn("badging"), run.holder, interval=0.1):
        wait_until(lambda: lease_age(conn, "issuance", badge[0]) < 5, timeout=10,
                   what="the heartbeat to renew the claim")
    assert _ledger(conn, _run("run-b"), badge).claim() is None


def test_issuing_records_the_badge_and_one_terminal_event(conn, badge):
    ledger = _ledger(conn, _run("run-a"), badge)
    ledger.claim()
    assert ledger.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED, attempt=1)
    assert _state(conn, badge[0]) == ("issued", None)
    assert [e[1] for e in _events(conn, badge[0])] == [Event.ISSUE_ATTEMPT, Event.ISSUED]


def test_a_claim_taken_over_records_nothing_for_the_loser(conn, badge):
    loser = _ledger(conn, _run("run-a"), badge)
    loser.claim()
    # The lease expired: a dead worker's row, taken over by another run.
    _age_claim(conn, badge[0], LEASE_SECONDS + 1)
    winner = _ledger(conn, _run("run-b"), badge)
    assert winner.claim() is not None
    assert not loser.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED)
    assert _state(conn, badge[0]) == ("in_flight", _run("run-b").holder)
    assert [e[:2] for e in _events(conn, badge[0])] == [
        ("run-a", Event.ISSUE_ATTEMPT), ("run-b", Event.ISSUE_ATTEMPT)]


def test_release_and_failure_keep_the_error_class_as_reason(conn, badge):
    ledger = _ledger(conn, _run("run-a"), badge)
    ledger.claim()
    ledger.release("CredlyThrottled (HTTP 429)")
    assert _state(conn, badge[0]) == ("pending", None)
    ledger.claim()
    ledger.mark_failed("CredlyInvalidRequest (HTTP 422)")
    assert _state(conn, badge[0]) == ("failed", None)
    assert [e[1:] for e in _events(conn, badge[0])][1::2] == [
        (Event.RETRY_LATER, "CredlyThrottled (HTTP 429)"),
        (Event.FAILED, "CredlyInvalidRequest (HTTP 422)")]


def test_another_runs_outcome_is_recorded_once_per_run(conn, badge):
    first = _ledger(conn, _run("run-a"), badge)
    first.claim()
    first.mark_issued("badge-" + uuid.uuid4().hex, Event.ISSUED)
    late = _ledger(conn, _run("run-b"), badge)
    for _ in range(2):  # a retried task walks its batch again
        assert late.claim() is None
        late.record_outcome_of_other_run(late.snapshot())
    assert [e for e in _events(conn, badge[0]) if e[0] == "run-b"] == [
        ("run-b", Event.ALREADY_ISSUED, "already_issued")]


def test_a_connection_in_a_transaction_is_refused(stack, badge):
    with psycopg.connect(stack.dsn("badging")) as conn, \
            pytest.raises(ValueError, match="autocommit"):
        _ledger(conn, _run("run-a"), badge)
