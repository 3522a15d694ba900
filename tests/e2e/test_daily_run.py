"""The real DAG through `airflow dags test`, on real Postgres and the Credly sandbox.

Expectations come from the generator's ground truth (devstack.seed_truth), never from the
pipeline's own tables: what each row should become is decided when the row is made.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import (
    LOOKBACK_DAYS,
    assert_sandbox_matches_ledger,
    expected_outcomes,
    ledger,
    runs_for,
    staged_ids,
    terminal_events,
)

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 4, 20), date_to=date(2026, 5, 14), rows=900,
                  dirty_rate=0.08, seed=11)


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    return clean_stack


# Credly calls in flight at most (the `concurrency` param); the issue task runs more threads.
CONCURRENCY = 3


def test_a_seeded_day_ends_as_the_ground_truth_says(seeded, run_dag, sandbox):
    # A little latency, so that calls overlap and the bound on calls in flight is tested.
    sandbox.set_faults(latency_ms=30)
    result = run_dag(DAY, lookback_days=LOOKBACK_DAYS, concurrency=CONCURRENCY)
    assert result.succeeded, result.output[-4000:]
    assert sandbox.state()["peak_in_flight"] == CONCURRENCY

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
