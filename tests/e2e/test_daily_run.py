"""The real DAG through `airflow dags test`, on real Postgres and the Credly sandbox.

Expectations come from the generator's ground truth (devstack.seed_truth), never from the
pipeline's own tables: what each row should become is decided when the row is made.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from badging.run import AGENCY_TZ
from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import (
    assert_sandbox_matches_ledger,
    ledger,
    runs_for,
    staged_ids,
    terminal_events,
)

DAY = date(2026, 5, 12)
LOOKBACK_DAYS = 3
SEED = SeedParams(date_from=date(2026, 4, 20), date_to=date(2026, 5, 14), rows=900,
                  dirty_rate=0.08, seed=11)


def _window(day: date, lookback: int = LOOKBACK_DAYS) -> tuple[datetime, datetime]:
    start = datetime.combine(day - timedelta(days=lookback), time(), AGENCY_TZ)
    return start, datetime.combine(day + timedelta(days=1), time(), AGENCY_TZ)


def expected_outcomes(stack, days: list[date]) -> dict[int, tuple[str, str | None]]:
    """Per certification in the windows of `days` (one run each, in order, empty ledger first):
    the terminal (event, reason) of its LAST run, from the seed's ground truth."""
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
        start, end = _window(day)
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


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    return clean_stack


def test_a_seeded_day_ends_as_the_ground_truth_says(seeded, run_dag, sandbox):
    result = run_dag(DAY, lookback_days=LOOKBACK_DAYS)
    assert result.succeeded, result.output[-4000:]

    [run_id] = runs_for(seeded, DAY)
    expected = expected_outcomes(seeded, [DAY])
    events = terminal_events(seeded, run_id)
    assert staged_ids(seeded, run_id) == set(expected)
    assert all(len(e) == 1 for e in events.values()), "a row has more than one terminal event"
    assert {cert: e[0] for cert, e in events.items()} == expected

    counts = Counter(event for event, _ in expected.values())
    assert counts["issued"] > 20
    assert counts["quarantined"] > 0
    assert counts["ineligible"] > 0
    assert ledger(seeded) == {"issued": counts["issued"]}
    assert_sandbox_matches_ledger(seeded, sandbox)


def test_rerunning_a_day_issues_nothing_new(seeded, run_dag, sandbox):
    assert run_dag(DAY).succeeded
    before = len(sandbox.badges())
    second = run_dag(DAY)
    assert second.succeeded, second.output[-4000:]

    _, second_run = runs_for(seeded, DAY)
    events = terminal_events(seeded, second_run)
    assert {c: e[0] for c, e in events.items()} == expected_outcomes(seeded, [DAY, DAY])
    assert not any(e[0][0] == "issued" for e in events.values())
    assert len(sandbox.badges()) == before
    assert sandbox.state()["duplicates_refused"] == 0


def test_overlapping_days_issue_each_badge_once(seeded, run_dag, sandbox):
    days = [DAY - timedelta(days=2), DAY]
    for day in days:
        result = run_dag(day)
        assert result.succeeded, result.output[-4000:]

    expected = expected_outcomes(seeded, days)
    [last_run] = runs_for(seeded, DAY)
    assert {c: e[0] for c, e in terminal_events(seeded, last_run).items()} == {
        c: o for c, o in expected.items() if c in staged_ids(seeded, last_run)}
    assert_sandbox_matches_ledger(seeded, sandbox)
    assert sandbox.state()["duplicates_refused"] == 0


def test_a_dry_run_changes_neither_ledger_nor_credly(seeded, run_dag, sandbox):
    result = run_dag(DAY, dry_run=True)
    assert result.succeeded, result.output[-4000:]

    [run_id] = runs_for(seeded, DAY)
    would = [c for c, e in terminal_events(seeded, run_id).items() if e == [("would_issue", None)]]
    expected_issued = [c for c, o in expected_outcomes(seeded, [DAY]).items() if o[0] == "issued"]
    assert sorted(would) == sorted(expected_issued)
    assert ledger(seeded) == {}
    assert sandbox.badges() == []


def test_an_empty_day_is_a_green_run(clean_stack, run_dag):
    result = run_dag(date(2025, 1, 1))
    assert result.succeeded, result.output[-4000:]
    [run_id] = runs_for(clean_stack, date(2025, 1, 1))
    assert staged_ids(clean_stack, run_id) == set()
