"""The Credly sync on real Postgres and the sandbox over HTTP: bulk reads, the request floor,
final badges never read again, faults that write nothing wrong (issue 14)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import psycopg
import pytest

from badging.core.errors import CredlyRetryableError
from badging.core.run import RunInfo
from badging.credly import CredlyClient
from badging.lifecycle.sync import sync
from tests.integration.credly.badges import ACTIVE, TEMPLATES, request

BADGES = 120  # three list pages


def _run(run_id: str) -> RunInfo:
    start = datetime(2026, 5, 12, 5, tzinfo=UTC)
    return RunInfo(run_id=run_id, day=date(2026, 5, 12), window_start=start, window_end=start,
                   dry_run=False, task_id="sync_credly")


def _client(sandbox, **kwargs) -> CredlyClient:
    options = {"backoff_base": 0.01, "backoff_cap": 0.05, "max_retry_after": 2.0} | kwargs
    return CredlyClient(sandbox.base_url, sandbox.token, sandbox.org_id, **options)


@pytest.fixture
def issued(clean_stack, sandbox):
    """BADGES badges issued in the sandbox, each an `issued` ledger row; returns their ids."""
    sandbox.put_templates(TEMPLATES)
    client = _client(sandbox)
    ids = [client.issue_badge(request(n)).badge.id for n in range(1, BADGES + 1)]
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        for n, badge_id in enumerate(ids, start=1):
            conn.execute(
                "INSERT INTO badging.issuance (student_id, assessment_code, certification_id,"
                " credly_template_id, earner_id, state, credly_badge_id, planned_run_id,"
                " issued_at) VALUES (%s, 'WELD', %s, %s, %s, 'issued', %s, 'plan', now())",
                (n, n, ACTIVE, f"earner-{n}", badge_id))
    return ids


def ledger_states(stack) -> dict[str, tuple[str, str | None]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {row[0]: (row[1], row[2]) for row in conn.execute(
            "SELECT credly_badge_id, state, credly_state FROM badging.issuance")}


def credly_states(sandbox, ids) -> dict[str, str]:
    held = {b["id"]: b["state"] for b in sandbox.badges()}
    return {i: held.get(i, "deleted") for i in ids}


def changes_audited(stack) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT count(*) FROM badging.audit_log "
                            "WHERE event = 'credly_state_changed'").fetchone()[0]


def assert_ledger_is_credly(stack, sandbox, ids) -> None:
    """State by state: the ledger's Credly state is the sandbox's; revoked and deleted
    badges are `revoked` rows, the others still `issued`."""
    expected = {}
    for badge_id, state in credly_states(sandbox, ids).items():
        expected[badge_id] = ("revoked" if state in ("revoked", "deleted") else "issued", state)
    assert ledger_states(stack) == expected


def move_some(sandbox, ids) -> None:
    """Earners accept 40 % and reject 20 %; someone revokes two, deletes one, one expires."""
    sandbox.set_earners(accept_share=0.4, reject_share=0.2)
    sandbox.revoke_badge(ids[0])
    sandbox.revoke_badge(ids[1])
    sandbox.delete_badge(ids[2])
    sandbox.set_badge_state(ids[3], "expired")


# One page after another, and several pages at once by number (the task's pool slot).
@pytest.mark.parametrize("concurrency", [1, 4])
def test_sync_reads_in_pages_and_a_second_sync_reads_nothing_final(issued, clean_stack,
                                                                   sandbox, concurrency):
    dsn = clean_stack.dsn("badging")
    sandbox.set_faults(latency_ms=40)
    first = sync(_run("first"), _client(sandbox), concurrency=concurrency, badging=dsn)
    assert (sandbox.state()["peak_in_flight"] > 1) == (concurrency > 1)
    sandbox.clear_faults()
    # Everything pending: the list alone, ceil(120 / 50) pages, no lookup.
    assert (first.live_pages, first.final_pages, first.lookups) == (math.ceil(BADGES / 50), 0, 0)
    assert first.changed == 0
    assert_ledger_is_credly(clean_stack, sandbox, issued)

    move_some(sandbox, issued)
    second = sync(_run("second"), _client(sandbox), concurrency=concurrency, badging=dsn)
    assert_ledger_is_credly(clean_stack, sandbox, issued)
    final = [i for i, s in credly_states(sandbox, issued).items()
             if s not in ("pending", "accepted")]
    # The badges that became final are found in one page of the final list; only the
    # deleted one (absent from every list) is looked up.
    assert second.final_pages == 1
    assert second.lookups == 1
    assert second.requests <= math.ceil(BADGES / 50) + 2
    accepted = sum(1 for s in credly_states(sandbox, issued).values() if s == "accepted")
    assert second.changed == len(final) + accepted == changes_audited(clean_stack)

    # Nothing changed: the live badges only, no final badge read again, nothing audited.
    requests_before = sum(sandbox.state()["requests"].values())
    third = sync(_run("third"), _client(sandbox), concurrency=concurrency, badging=dsn)
    live = BADGES - len(final)
    assert (third.live_before, third.final_pages, third.lookups) == (live, 0, 0)
    assert third.live_pages == math.ceil(live / 50)
    assert sum(sandbox.state()["requests"].values()) - requests_before == third.requests
    assert third.changed == 0
    assert changes_audited(clean_stack) == second.changed
    assert_ledger_is_credly(clean_stack, sandbox, issued)


def test_recovered_faults_leave_the_ledger_equal_to_credly(issued, clean_stack, sandbox):
    move_some(sandbox, issued)
    sandbox.set_faults(error_rate=0.3, throttle_rate=0.2, retry_after_s=0, timeout_rate=0.1,
                       timeout_hang_s=1.0, seed=14)
    sync(_run("faulty"), _client(sandbox, read_timeout=0.5, max_attempts=12),
         badging=clean_stack.dsn("badging"))
    sandbox.clear_faults()
    assert_ledger_is_credly(clean_stack, sandbox, issued)


@pytest.mark.parametrize("fault", [{"error_rate": 1.0}, {"throttle_rate": 1.0},
                                   {"timeout_rate": 1.0, "timeout_hang_s": 1.0}],
                         ids=["5xx", "429", "timeout"])
def test_a_sync_that_cannot_finish_writes_nothing(issued, clean_stack, sandbox, fault):
    dsn = clean_stack.dsn("badging")
    sync(_run("before"), _client(sandbox), badging=dsn)
    before = ledger_states(clean_stack)
    move_some(sandbox, issued)
    sandbox.set_faults(retry_after_s=0, **fault)
    with pytest.raises(CredlyRetryableError):
        sync(_run("failing"), _client(sandbox, read_timeout=0.5, max_attempts=2), badging=dsn)
    sandbox.clear_faults()
    assert ledger_states(clean_stack) == before
    assert changes_audited(clean_stack) == 0
    # The retry reads it all.
    sync(_run("failing"), _client(sandbox), badging=dsn)
    assert_ledger_is_credly(clean_stack, sandbox, issued)
