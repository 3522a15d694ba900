"""Extract on real Postgres: the window's changed rows, and only this run's staging replaced."""

from __future__ import annotations

import psycopg

from tests.integration.badging.conftest import run_info, stage


def _changed_in_window(stack, run) -> set[int]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return {r[0] for r in conn.execute(
            "SELECT certification_id FROM ctims.realtime_certifications"
            " WHERE updated_at >= %s AND updated_at < %s",
            (run.window_start, run.window_end))}


def _staged(stack, run_id: str) -> list[int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.staged_certification WHERE run_id = %s",
            (run_id,))]


def test_the_window_rows_are_staged_once_and_nothing_else(seeded):
    run = run_info("extract-a")
    expected = _changed_in_window(seeded, run)
    assert 0 < len(expected) < 400
    assert stage(seeded, run) == len(expected)
    assert sorted(_staged(seeded, run.run_id)) == sorted(expected)


def test_extracting_again_replaces_the_runs_rows_and_leaves_other_runs_alone(seeded):
    wide, narrow = run_info("extract-wide", lookback_days=6), run_info("extract-a")
    stage(seeded, wide)
    wide_rows = sorted(_staged(seeded, wide.run_id))
    assert stage(seeded, narrow) == stage(seeded, narrow)
    assert len(_staged(seeded, narrow.run_id)) == len(set(_staged(seeded, narrow.run_id)))
    assert sorted(_staged(seeded, wide.run_id)) == wide_rows
    assert len(wide_rows) > len(_staged(seeded, narrow.run_id))


def test_recipient_details_are_normalised_on_the_way_in(seeded):
    run = run_info("extract-a")
    stage(seeded, run)
    with psycopg.connect(seeded.dsn("badging")) as conn:
        rows = conn.execute(
            "SELECT assessment_code, email FROM badging.staged_certification"
            " WHERE run_id = %s AND assessment_code IS NOT NULL AND email IS NOT NULL",
            (run.run_id,)).fetchall()
    assert rows
    assert all(code == code.strip().upper() for code, _ in rows)
    assert all(email == email.strip().lower() for _, email in rows)
