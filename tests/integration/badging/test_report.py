"""The run summary on real Postgres: counts per outcome, reports written, red when it must be."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from badging.constants import Event
from badging.eligibility import decide
from badging.errors import ReportNotWritten, RunNeedsAttention
from badging.ledger import LedgerRow, plan
from badging.report import STAGING_RETENTION_DAYS, summarise
from badging.report_location import ReportLocation


def _planned(stack, run) -> list[tuple[int, int]]:
    """Decide and plan the run; returns its planned badges (issuance id, certification id)."""
    decide(run, badging=stack.dsn("badging"))
    plan(run, earner_id_secret="k", batch_size=50, badging=stack.dsn("badging"))
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT issuance_id, certification_id FROM badging.staged_certification"
                            " WHERE run_id = %s AND decision = 'planned'"
                            " ORDER BY issuance_id", (run.run_id,)).fetchall()


def _stored_summary(stack, run_id: str) -> tuple:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT issued, failed, still_pending, report_location,"
                            " data_docs_location FROM badging.run_summary WHERE run_id = %s",
                            (run_id,)).fetchone()


def test_a_failed_badge_turns_the_run_red_after_everything_is_written(seeded, validated,
                                                                       tmp_path):
    badges = _planned(seeded, validated)
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        for index, badge in enumerate(badges):
            row = LedgerRow(conn, validated, *badge)
            row.claim()
            if index == 0:
                row.mark_failed("CredlyInvalidRequest (HTTP 422)")
            else:
                row.mark_issued(f"badge-{uuid.uuid4()}", Event.ISSUED)
    with pytest.raises(RunNeedsAttention, match="1 badges failed"):
        summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                  location=ReportLocation(str(tmp_path)))
    issued, failed, pending, report, docs = _stored_summary(seeded, validated.run_id)
    assert (issued, failed, pending) == (len(badges) - 1, 1, 0)
    assert Path(report).is_file()
    assert Path(docs).is_file()


def test_a_dry_run_is_green_and_counts_what_it_would_issue(seeded, validated, tmp_path):
    dry = replace(validated, dry_run=True)
    assert _planned(seeded, dry) == []
    summary = summarise(dry, max_failed_share=1.0, badging=seeded.dsn("badging"),
                        location=ReportLocation(str(tmp_path)))
    assert summary.would_issue > 0
    assert (summary.planned, summary.issued, summary.still_pending) == (0, 0, 0)
    assert summary.staged == summary.quarantined + summary.ineligible + summary.would_issue \
        + summary.already_issued


def test_planned_badges_never_issued_are_reported_pending(seeded, validated, tmp_path):
    badges = _planned(seeded, validated)
    with pytest.raises(RunNeedsAttention, match=f"{len(badges)} badges still pending"):
        summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                  location=ReportLocation(str(tmp_path)))


def test_old_staging_is_purged_and_this_runs_is_kept(seeded, validated, tmp_path):
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.staged_certification (run_id, certification_id,"
                     " email, staged_at) VALUES ('long-ago', 1, 'old@example.org',"
                     " now() - make_interval(days => %s))", (STAGING_RETENTION_DAYS + 1,))
    summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
              location=ReportLocation(str(tmp_path)))
    with psycopg.connect(seeded.dsn("badging")) as conn:
        runs = {r[0] for r in conn.execute(
            "SELECT DISTINCT run_id FROM badging.staged_certification")}
    assert runs == {validated.run_id}


def test_old_staging_is_purged_even_when_no_report_can_be_written(seeded, validated, tmp_path):
    # Staging holds recipient details: its purge must not wait on a writable report folder.
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.staged_certification (run_id, certification_id,"
                     " email, staged_at) VALUES ('long-ago', 1, 'old@example.org',"
                     " now() - make_interval(days => %s))", (STAGING_RETENTION_DAYS + 1,))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ReportNotWritten, match="could not write the reports") as raised:
        summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                  location=ReportLocation(str(blocker / "reports")))
    assert "NotADirectoryError" in str(raised.value)
    with psycopg.connect(seeded.dsn("badging")) as conn:
        runs = {r[0] for r in conn.execute(
            "SELECT DISTINCT run_id FROM badging.staged_certification")}
    assert runs == {validated.run_id}
    assert _stored_summary(seeded, validated.run_id) is not None
