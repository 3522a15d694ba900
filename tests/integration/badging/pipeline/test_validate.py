"""Validate and report on real Postgres: the row-count band, stored results, one-line reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import psycopg
import pytest

from badging.core.run import AGENCY_TZ, RunInfo
from badging.pipeline import validate
from badging.pipeline.extract import extract
from devstack.seed import SeedParams, run_seed

DAY = date(2026, 5, 12)
SEED = SeedParams(date_from=date(2026, 4, 20), date_to=date(2026, 5, 14), rows=900,
                  dirty_rate=0.08, seed=11)


def _run(day: date, name: str) -> RunInfo:
    start = datetime.combine(day - timedelta(days=3), time(), AGENCY_TZ)
    return RunInfo(run_id=name, day=day, window_start=start,
                   window_end=datetime.combine(day + timedelta(days=1), time(), AGENCY_TZ),
                   dry_run=False, task_id="validate")


def _history(stack, before: date, staged_per_day: int, days: int = 10) -> None:
    """Earlier days' summaries, as earlier runs would have left them."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        for back in range(1, days + 1):
            day = before - timedelta(days=back)
            conn.execute("""
                INSERT INTO badging.run_summary (run_id, logical_date, window_start, window_end,
                    dry_run, staged, quarantined, ineligible, planned, issued, already_issued,
                    failed, still_pending, would_issue, dq_success, dq_failed_share)
                VALUES (%s, %s, now(), now(), false, %s, 0, 0, 0, %s, 0, 0, 0, 0, true, 0)
            """, (f"history-{day}", day, staged_per_day, staged_per_day))


def _stage(stack, run: RunInfo) -> int:
    return extract(run, ctims=stack.dsn("ctims", user="ctims_reader"),
                   badging=stack.dsn("badging"))


def _stored(stack, run_id: str) -> dict[str, tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT suite, severity, success, reason FROM badging.dq_result WHERE run_id = %s",
            (run_id,))}


@pytest.fixture
def seeded(clean_stack):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    return clean_stack


def test_a_tenfold_day_is_validated_not_failed(seeded):
    # Volume is judged by the volume gate (badging/gates/volume.py), which asks an operator; the
    # GX table suite no longer fails a big day.
    _history(seeded, DAY, staged_per_day=5)
    run = _run(DAY, "band-breach")
    staged = _stage(seeded, run)
    assert staged > 10 * 5
    outcome = validate.validate(run, max_failed_share=0.2, validation_prefix="test",
                                badging=seeded.dsn("badging"))
    assert outcome.table_failures == ()
    stored = _stored(seeded, run.run_id)
    assert stored[validate.TABLE_SUITE] == ("critical", True, None)


def test_an_empty_day_after_busy_ones_is_green_with_a_warning(seeded):
    empty_day = date(2026, 6, 20)
    _history(seeded, empty_day, staged_per_day=200)
    run = _run(empty_day, "empty-saturday")
    assert _stage(seeded, run) == 0
    outcome = validate.validate(run, max_failed_share=0.2, validation_prefix="test",
                                badging=seeded.dsn("badging"))
    assert outcome.checked == 0
    assert outcome.table_failures == ()
    stored = _stored(seeded, run.run_id)
    assert stored[validate.TABLE_SUITE] == ("critical", True, None)
    assert stored[validate.WARNING_SUITE] == ("warning", False, None)


def test_validating_again_records_the_same_once(seeded):
    run = _run(DAY, "twice")
    _stage(seeded, run)
    first = validate.validate(run, max_failed_share=0.2, validation_prefix="test",
                              badging=seeded.dsn("badging"))
    second = validate.validate(run, max_failed_share=0.2, validation_prefix="test",
                               badging=seeded.dsn("badging"))
    assert first == second
    assert first.quarantined > 0
    assert first.warned > 0
    with psycopg.connect(seeded.dsn("badging")) as conn:
        counts = conn.execute("""
            SELECT (SELECT count(*) FROM badging.dq_result WHERE run_id = %(r)s),
                   (SELECT count(*) FROM badging.dq_row_warning WHERE run_id = %(r)s),
                   (SELECT count(*) FROM badging.audit_log WHERE run_id = %(r)s
                      AND event = 'quarantined')
        """, {"r": run.run_id}).fetchone()
    assert counts == (3, first.warned, first.quarantined)
