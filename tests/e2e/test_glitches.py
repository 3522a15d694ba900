"""No glitch takes a badge (issue 27) with the real DAG: a CTIMS replica that loses rows or
clears fields for more nights than the grace, then recovers unchanged, revokes, replaces and
moves nothing, and loses nothing (docs/lifecycle.md, "What may revoke", "A blank is not a
correction", "The source guard").

Each glitch hides the replica's rows in a side schema for the nights it lasts and puts them
back exactly as they were (same ids, same updated_at), as a replica that catches up does.
"""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from tests.e2e.corrections import (
    FIFTH,
    FIRST,
    FOURTH,
    SECOND,
    THIRD,
    audited,
    in_sandbox,
    revocations,
    single_badge_students,
)
from tests.e2e.outcomes import assert_sandbox_matches_ledger

GLITCH_NIGHTS = (FIRST, SECOND, THIRD, FOURTH)


def hide(stack, table: str, where: str = "true", **params) -> int:
    """The replica loses `table`'s rows matching `where` (kept aside to come back unchanged)."""
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS glitch")
        conn.execute(f"CREATE TABLE glitch.{table} AS SELECT * FROM ctims.{table}"  # noqa: S608
                     f" WHERE {where}", params)
        return conn.execute(f"DELETE FROM ctims.{table} WHERE {where}", params).rowcount  # noqa: S608


def recover(stack) -> None:
    """The replica catches up: every hidden row back as it was."""
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        for (table,) in conn.execute("SELECT table_name FROM information_schema.tables"
                                     " WHERE table_schema = 'glitch'").fetchall():
            conn.execute(f"INSERT INTO ctims.{table} SELECT * FROM glitch.{table}")  # noqa: S608
        conn.execute("DROP SCHEMA glitch CASCADE")


def credly_now(sandbox) -> dict[str, tuple]:
    """Every badge in Credly with what a revoke, replace or move would change."""
    return {i: (b["state"], b["recipient_email"], b["issued_to_first_name"],
                b["replacement_badge_id"]) for i, b in in_sandbox(sandbox).items()}


def checks(stack) -> list[str | None]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT blocked FROM badging.badge_check WHERE counted OR blocked IS NOT NULL"
            " ORDER BY checked_at")]


def findings(stack) -> Counter:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return Counter(dict(conn.execute(
            "SELECT kind, count(*) FROM badging.badge_finding GROUP BY 1")))


def nights(run_dag, days) -> None:
    for day in days:
        result = run_dag(day, lookback_days=0)
        assert result.succeeded, result.output[-4000:]


def test_a_partial_replica_under_the_guard_and_blank_fields_change_no_badge(issued, run_dag,
                                                                           sandbox):
    """The issue's night, below every threshold of the source guard: one student's
    enrollments missing, two emails cleared, two first names blank, for four nights."""
    students = [b[2] for b in single_badge_students(issued, 5)]
    before = credly_now(sandbox)
    hide(issued, "enrollments", "student_id = %(id)s", id=students[0])
    cleared = {students[1]: ("email", None), students[2]: ("email", " "),
               students[3]: ("first_name", ""), students[4]: ("first_name", None)}
    with psycopg.connect(issued.dsn("ctims"), autocommit=True) as conn:
        originals = {sid: conn.execute(f"SELECT {field} FROM ctims.students"  # noqa: S608
                                       " WHERE student_id = %s", (sid,)).fetchone()[0]
                     for sid, (field, _) in cleared.items()}
        for sid, (field, value) in cleared.items():
            conn.execute(f"UPDATE ctims.students SET {field} = %s"  # noqa: S608
                         " WHERE student_id = %s", (value, sid))

    nights(run_dag, GLITCH_NIGHTS)
    # The guard never tripped: the policy alone kept every badge.
    assert checks(issued) == [None] * (1 + len(GLITCH_NIGHTS))
    assert credly_now(sandbox) == before
    assert revocations(issued) == {}
    assert findings(issued) == {"needs_review": 1, "recipient_unknown": 4}
    # Each finding audited once, when it started, not every night.
    assert sum(audited(issued, "needs_review").values()) == 1
    assert sum(audited(issued, "recipient_unknown").values()) == 4
    for event in ("unjustified", "replace_planned", "move_planned", "revoke_planned"):
        assert audited(issued, event) == Counter(), event

    # The replica recovers unchanged: nothing to do, the findings end, nothing was lost.
    recover(issued)
    with psycopg.connect(issued.dsn("ctims"), autocommit=True) as conn:
        for sid, (field, _) in cleared.items():
            conn.execute(f"UPDATE ctims.students SET {field} = %s"  # noqa: S608
                         " WHERE student_id = %s", (originals[sid], sid))
    nights(run_dag, [FIFTH])
    assert findings(issued) == Counter()
    assert audited(issued, "justified_again") == {next(iter(audited(issued, "needs_review"))): 1}
    assert credly_now(sandbox) == before
    assert_sandbox_matches_ledger(issued, sandbox)


@pytest.mark.parametrize("lost", ["one_site_real_time_rows", "an_empty_reference_table"])
def test_a_replica_that_loses_rows_for_nights_then_recovers_takes_no_badge(lost, issued,
                                                                         run_dag, sandbox):
    before = credly_now(sandbox)
    if lost == "one_site_real_time_rows":
        with psycopg.connect(issued.dsn("badging")) as conn:
            badged = [c for (c,) in conn.execute(
                "SELECT certification_id FROM badging.issuance WHERE state = 'issued'")]
        with psycopg.connect(issued.dsn("ctims")) as conn:
            [site] = conn.execute(
                "SELECT btrim(site_code) FROM ctims.realtime_certifications"
                " WHERE certification_id = ANY(%s) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                (badged,)).fetchone()
        assert hide(issued, "realtime_certifications", "btrim(site_code) = %(site)s",
                    site=site) > 0
        table = "realtime_certifications (live) at site"
    else:
        assert hide(issued, "program_assessments") > 0
        table = "ctims.program_assessments"

    nights(run_dag, GLITCH_NIGHTS)
    blocked = checks(issued)[1:]
    assert len(blocked) == len(GLITCH_NIGHTS)
    assert all(b and table in b for b in blocked), blocked
    assert credly_now(sandbox) == before
    assert revocations(issued) == {}
    assert findings(issued) == Counter()
    mails = [m.read_text() for m in issued.paths.mail.glob("*.eml")]
    assert sum("source guard" in m for m in mails) == len(GLITCH_NIGHTS)

    recover(issued)
    nights(run_dag, [FIFTH])
    assert checks(issued)[-1] is None
    assert credly_now(sandbox) == before
    assert revocations(issued) == {}
    assert findings(issued) == Counter()
    assert_sandbox_matches_ledger(issued, sandbox)
