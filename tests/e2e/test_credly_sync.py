"""After issuance (issue 14) with the real DAG: the ledger follows each badge's state in
Credly; what someone else revoked or deleted there is theirs (never re-issued, never revoked
again, listed for a person); a second sync reads nothing final again.

What each badge must become is decided here from what the test made the sandbox do (the
earners' knob, a revoke or delete by hand, an expiry), never read from the pipeline's tables.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from badging.reports.correction import read_acceptance

# The corrections' CTIMS edits; their `issued` day (the same seed, one run) is a fixture of
# tests/e2e/corrections.py, a plugin of tests/conftest.py.
from tests.e2e.corrections import (
    FIRST,
    FOURTH,
    SECOND,
    THIRD,
    at_noon,
    enter_again,
    single_entry_badges,
    soft_delete,
)


def ledger_rows(stack) -> dict[int, dict]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        cur = conn.execute("SELECT issuance_id, state, credly_badge_id, credly_state "
                           "FROM badging.issuance WHERE credly_badge_id IS NOT NULL")
        return {row[0]: {"state": row[1], "badge": row[2], "credly_state": row[3]}
                for row in cur}


def assert_ledger_is_credly(stack, sandbox) -> None:
    """State by state: each ledger badge's Credly state is the sandbox's (absent: deleted);
    revoked or deleted ones are `revoked` rows, the rest `issued`."""
    held = {b["id"]: b["state"] for b in sandbox.badges()}
    rows = ledger_rows(stack)
    assert rows
    for issuance_id, row in rows.items():
        credly = held.get(row["badge"], "deleted")
        assert row["credly_state"] == credly, issuance_id
        assert row["state"] == ("revoked" if credly in ("revoked", "deleted") else "issued"), \
            issuance_id


def syncs(stack) -> list[dict]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT counts FROM badging.credly_sync ORDER BY started_at")]


def external(stack) -> set[int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {row[0] for row in conn.execute(
            "SELECT issuance_id FROM badging.credly_external_change")}


def audit_count(stack, event: str, issuance_id: int) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT count(*) FROM badging.audit_log WHERE event = %s "
                            "AND issuance_id = %s", (event, issuance_id)).fetchone()[0]


def test_the_ledger_follows_credly_and_what_someone_else_did_stays_theirs(issued, run_dag,
                                                                          sandbox):
    ours, by_hand, deleted, back = single_entry_badges(issued, 4)
    others = [r for i, r in ledger_rows(issued).items()
              if i not in {ours[0], by_hand[0], deleted[0], back[0]}]
    # Earners accept half and reject a fifth; someone revokes two badges and deletes one in
    # Credly; one expires. The pipeline will revoke `ours` itself (entry deleted in CTIMS),
    # and `deleted`'s entry is deleted too: the pipeline must not try to revoke it.
    sandbox.set_earners(accept_share=0.5, reject_share=0.2)
    sandbox.revoke_badge(by_hand[3])
    sandbox.revoke_badge(back[3])
    sandbox.delete_badge(deleted[3])
    sandbox.set_badge_state(others[0]["badge"], "expired")
    soft_delete(issued, [ours, deleted], FIRST)

    # Day 1, under 5xx and 429s: the sync's retries read it all, and nothing is wrong.
    sandbox.set_faults(error_rate=0.2, throttle_rate=0.1, retry_after_s=1, seed=14)
    result = run_dag(FIRST, lookback_days=0, accept_volume=True)
    sandbox.clear_faults()
    assert result.succeeded, result.output[-4000:]
    assert_ledger_is_credly(issued, sandbox)
    held = {b["id"]: b["state"] for b in sandbox.badges()}
    assert {"accepted", "rejected", "pending", "expired", "revoked"} <= set(held.values())
    assert external(issued) == {by_hand[0], deleted[0], back[0]}

    # Day 2: `back`'s entry is entered again. Day 3: the pipeline revokes `ours`, its grace
    # over (docs/lifecycle.md); day 4's sync reads what it did.
    with psycopg.connect(issued.dsn("ctims")) as conn:
        enter_again(conn, back[1], at_noon(SECOND))
    assert run_dag(SECOND, lookback_days=0, accept_volume=True).succeeded
    assert run_dag(THIRD, lookback_days=0, accept_volume=True).succeeded
    # A month passes for a few pending badges: issued 31 days ago, as far as the ledger knows.
    stale = [r["badge"] for r in others if held[r["badge"]] == "pending"][:3]
    assert stale
    with psycopg.connect(issued.dsn("badging")) as conn:
        conn.execute("UPDATE badging.issuance SET issued_at = now() - interval '31 days' "
                     "WHERE credly_badge_id = ANY(%s)", (stale,))
    assert run_dag(FOURTH, lookback_days=0, accept_volume=True).succeeded
    rows = ledger_rows(issued)
    assert rows[ours[0]]["state"] == "revoked"
    assert rows[ours[0]]["credly_state"] == "revoked"
    # Revoked by the pipeline: never reported as someone else's doing.
    assert external(issued) == {by_hand[0], deleted[0], back[0]}
    # Someone else's revoke is never re-issued, the deleted badge never revoked again.
    assert rows[back[0]]["badge"] == back[3]
    assert audit_count(issued, "reissue_planned", back[0]) == 0
    assert audit_count(issued, "revoke_attempt", deleted[0]) == 0
    assert audit_count(issued, "revoke_attempt", ours[0]) == 1
    assert_ledger_is_credly(issued, sandbox)

    # The syncs of days 2 to 4: nothing changed in Credly, nothing final read again.
    *_, second, third, fourth = syncs(issued)
    for later in (second, third, fourth):
        assert (later["final_pages"], later["lookups"], later["changed"]) == (0, 0, 0)
    assert fourth["pipeline_revoked"] == 1
    live = {"pending", "accepted"}
    assert fourth["live_before"] == sum(1 for badge, s in held.items()
                                        if s in live and badge != ours[3])

    assert_reports_are_what_the_sandbox_did(issued, sandbox, stale)


def assert_reports_are_what_the_sandbox_did(stack, sandbox, stale: list[str]) -> None:
    """badging.acceptance, the run summary and the correction report of the last run, from
    the sandbox's states and acceptance times and CTIMS's sites, programs and assessments."""
    credly = {b["id"]: b for b in sandbox.badges()}
    with psycopg.connect(stack.dsn("badging")) as conn:
        badges = conn.execute("SELECT credly_badge_id, certification_id, issued_at "
                              "FROM badging.issuance WHERE credly_badge_id IS NOT NULL").fetchall()
        view = {tuple(row[:3]): row[3:] for row in conn.execute(
            "SELECT site_code, program_code, assessment_code, badges, accepted, pending, "
            "rejected, gone, expired, median_days_to_accept FROM badging.acceptance")}
        summary, report = conn.execute(
            "SELECT acceptance, report_location FROM badging.run_summary "
            "ORDER BY updated_at DESC LIMIT 1").fetchone()
    with psycopg.connect(stack.dsn("ctims")) as conn:
        where = dict((row[0], row[1:]) for row in conn.execute(
            "SELECT certification_id, coalesce(btrim(site_code), ''), "
            "coalesce(btrim(program_code), ''), upper(btrim(assessment_code)) "
            "FROM ctims.realtime_certifications"))
    groups: dict[tuple, list] = defaultdict(list)
    unaccepted: dict[str, set[int]] = defaultdict(set)
    for badge_id, cert_id, issued_at in badges:
        state = credly[badge_id]["state"] if badge_id in credly else "deleted"
        days = None
        if state == "accepted":
            accepted_at = datetime.fromisoformat(credly[badge_id]["state_updated_at"])
            days = (accepted_at - issued_at).total_seconds() / 86400
        groups[where[cert_id]].append((state, days))
        if badge_id in stale:
            unaccepted[where[cert_id][0]].add(cert_id)
    expected = {}
    for key, found in groups.items():
        states = [state for state, _ in found]
        days = [d for _, d in found if d is not None]
        expected[key] = (len(found), states.count("accepted"), states.count("pending"),
                         states.count("rejected"),
                         sum(s in ("revoked", "deleted") for s in states),
                         # Expired apart (an expired badge no longer says it was accepted).
                         states.count("expired"),
                         pytest.approx(statistics.median(days), abs=1e-6) if days else None)
    assert view == expected
    # The report's one read (reports/correction/acceptance.sql) gives the view's figures.
    with psycopg.connect(stack.dsn("badging")) as conn:
        read = read_acceptance(conn)
    assert {(site, row.program, row.assessment): (
        row.badges, row.accepted, row.pending, row.rejected, row.gone, row.expired,
        row.median_days) for site, row in read.rows} == {
        key: (*figures[:6], None if figures[6] is None else round(float(figures[6]), 1))
        for key, figures in view.items()}
    every = [state for found in groups.values() for state, _ in found]
    assert {k: summary[k] for k in ("synced", "accepted", "pending", "rejected",
                                    "unaccepted", "changed_in_credly")} == {
        "synced": len(every), "accepted": every.count("accepted"),
        "pending": every.count("pending"), "rejected": every.count("rejected"),
        "unaccepted": len(stale), "changed_in_credly": 3}
    # The ledger's median is over every accepted badge, not a median of the groups' medians.
    days = [d for found in groups.values() for _, d in found if d is not None]
    assert len(days) > 1
    assert summary["median_days_to_accept"] == pytest.approx(statistics.median(days), abs=1e-6)

    # The correction report lists, per site, the badges unaccepted after 30 days and those
    # changed in Credly by someone else: certification ids, never an address.
    html = Path(report).read_text(encoding="utf-8")
    listed: dict[str, set[int]] = defaultdict(set)
    for site, cert_id in re.findall(
            r'class="unaccepted" data-site="([^"]*)"><td class="ids">(\d+)<', html):
        listed[site].add(int(cert_id))
    assert dict(listed) == dict(unaccepted)
    assert len(re.findall(r'class="changed-in-credly"', html)) == 3
    assert not re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", html)
