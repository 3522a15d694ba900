"""What a run left behind, read from the ledger, the audit log and the sandbox, for assertions."""

from __future__ import annotations

from collections import Counter
from datetime import date

import psycopg

from badging.core.constants import TERMINAL_EVENTS
from badging.core.run import extract_window
from devstack.seed import SeedParams

# The DAG's default lookback_days.
LOOKBACK_DAYS = 3


def seed(stack, params: SeedParams) -> None:
    """Add a seeded period to CTIMS (and its templates to the ledger and the sandbox)."""
    stack.seed(params)


def expected_outcomes(
    stack, days: list[date], lookback: int = LOOKBACK_DAYS
) -> dict[int, tuple[str, str | None]]:
    """Per certification in the windows of `days` (one run each, in order, empty ledger first,
    `lookback` days before each): the terminal (event, reason) of its LAST run, from the
    seed's ground truth."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        rows = conn.execute("""
            SELECT c.certification_id, c.student_id, upper(btrim(c.assessment_code)),
                   c.test_date, c.updated_at, t.expected
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
        """).fetchall()
    issued_keys: set[tuple[int, str]] = set()
    outcome: dict[int, tuple[str, str | None]] = {}
    for day in days:
        start, end = extract_window(day, lookback)
        staged = [r for r in rows if start <= r[4] < end]
        carriers: dict[tuple[int, str], tuple] = {}
        for row in staged:
            if row[5] in ("eligible", "duplicate"):
                key = (row[1], row[2])
                if key not in carriers or (row[3], row[0]) < (carriers[key][3], carriers[key][0]):
                    carriers[key] = row
        for cert_id, student, code, _test_date, _updated, expected in staged:
            key = (student, code)
            if expected == "quarantined":
                outcome[cert_id] = ("quarantined", None)
            elif expected.startswith("ineligible:"):
                outcome[cert_id] = ("ineligible", expected.split(":", 1)[1])
            elif key in issued_keys:
                outcome[cert_id] = ("already_issued", "already_issued")
            elif carriers[key][0] == cert_id:
                outcome[cert_id] = ("issued", None)
            else:
                outcome[cert_id] = ("ineligible", "duplicate_entry")
        issued_keys |= set(carriers)
    return outcome


def terminal_events(stack, run_id: str) -> dict[int, list[tuple[str, str | None]]]:
    """Per certification, every terminal (event, reason) the run audited, in order."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        rows = conn.execute("""
            SELECT certification_id, event, reason FROM badging.audit_log
            WHERE run_id = %s AND event = ANY(%s)
              AND NOT detail ? 'swept'  -- other runs' badges this run's sweep settled
            ORDER BY audit_id
        """, (run_id, sorted(str(e) for e in TERMINAL_EVENTS))).fetchall()
    events: dict[int, list[tuple[str, str | None]]] = {}
    for cert_id, event, reason in rows:
        events.setdefault(cert_id, []).append((event, reason))
    return events


def runs_for(stack, day: date) -> list[str]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [r[0] for r in conn.execute(
            "SELECT run_id FROM badging.run_summary WHERE logical_date = %s ORDER BY updated_at",
            (day,))]


def ledger(stack) -> dict[str, int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM badging.issuance GROUP BY state"))


def staged_ids(stack, run_id: str) -> set[int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.staged_certification WHERE run_id = %s",
            (run_id,))}


def assert_sandbox_matches_ledger(stack, sandbox) -> None:
    """Credly's live badges (neither revoked nor replaced) are the ledger's issued ones, its
    revoked badges the ledger's revocations and moves, and no earner holds two live badges
    of a template. A badge moved to a corrected address carries no earner id in Credly
    (docs/recipient-corrections.md): the ledger's earner id stands for it."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        issued = dict(conn.execute(
            "SELECT credly_badge_id, earner_id FROM badging.issuance WHERE state = 'issued'"))
        revoked = {row[0] for row in conn.execute(
            "SELECT credly_badge_id FROM badging.revocation "
            "WHERE revocation_state IN ('revoked', 'moved')")}
        moved = {row[0] for row in conn.execute(
            "SELECT replacement_badge_id FROM badging.revocation "
            "WHERE revocation_state = 'moved'")}
    badges = sandbox.badges()
    live = [b for b in badges if b["state"] != "revoked" and not b.get("replacement_badge_id")]
    earners = {b["id"]: issued.get(b["id"]) if b["id"] in moved and not b["issuer_earner_id"]
               else b["issuer_earner_id"] for b in live}
    assert earners == issued
    assert {b["id"] for b in badges if b["state"] == "revoked"} == revoked
    per_key = Counter((earners[b["id"]], b["badge_template_id"]) for b in live)
    assert max(per_key.values(), default=1) == 1, "a badge was issued twice"


def assert_one_terminal_event_each(stack, run_id: str) -> None:
    """Every row the run staged ends with exactly one terminal audit event."""
    staged = staged_ids(stack, run_id)
    events = terminal_events(stack, run_id)
    assert set(events) == staged, (
        f"{run_id}: {len(staged - set(events))} staged rows without a terminal event, "
        f"{len(set(events) - staged)} events for rows not staged")
    repeated = [cert for cert, found in events.items() if len(found) != 1]
    assert not repeated, f"{run_id}: {len(repeated)} rows with more than one terminal event"
