"""The run summary on real Postgres: counts per outcome, reports written, red when it must be."""

from __future__ import annotations

import html
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
from devstack.ports import free_port


def _ctims(stack) -> str:
    return stack.dsn("ctims", user="ctims_reader")


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
                  ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
    issued, failed, pending, report, docs = _stored_summary(seeded, validated.run_id)
    assert (issued, failed, pending) == (len(badges) - 1, 1, 0)
    assert Path(report).is_file()
    assert Path(docs).is_file()


def test_a_dry_run_is_green_and_counts_what_it_would_issue(seeded, validated, tmp_path):
    dry = replace(validated, dry_run=True)
    assert _planned(seeded, dry) == []
    summary = summarise(dry, max_failed_share=1.0, badging=seeded.dsn("badging"),
                        ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
    assert summary.would_issue > 0
    assert (summary.planned, summary.issued, summary.still_pending) == (0, 0, 0)
    assert summary.staged == summary.quarantined + summary.ineligible + summary.would_issue \
        + summary.already_issued


def test_planned_badges_never_issued_are_reported_pending(seeded, validated, tmp_path):
    badges = _planned(seeded, validated)
    with pytest.raises(RunNeedsAttention, match=f"{len(badges)} badges still pending"):
        summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                  ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))


def test_old_staging_is_purged_and_this_runs_is_kept(seeded, validated, tmp_path):
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.staged_certification (run_id, certification_id,"
                     " email, staged_at) VALUES ('long-ago', 1, 'old@example.org',"
                     " now() - make_interval(days => %s))", (STAGING_RETENTION_DAYS + 1,))
    summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
              ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
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


def _report_text(seeded, run, tmp_path, ctims: str) -> str:
    decide(run, badging=seeded.dsn("badging"))
    summary = summarise(replace(run, dry_run=True), max_failed_share=1.0,
                        badging=seeded.dsn("badging"), ctims=ctims,
                        location=ReportLocation(str(tmp_path)))
    return Path(summary.report_location).read_text(encoding="utf-8")


def test_the_report_shows_ctims_names_beside_codes(seeded, validated, tmp_path):
    page = _report_text(seeded, validated, tmp_path, _ctims(seeded))
    with psycopg.connect(seeded.dsn("badging")) as conn:
        sites, assessments, programs = conn.execute(
            "SELECT array_agg(DISTINCT site_code), array_agg(DISTINCT assessment_code),"
            " array_agg(DISTINCT program_code) FROM badging.staged_certification"
            " WHERE run_id = %s AND decision IN ('quarantined', 'ineligible')",
            (validated.run_id,)).fetchone()
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        site_names = dict(conn.execute("SELECT btrim(site_code), name FROM ctims.sites"))
        assessment_names = dict(conn.execute(
            "SELECT assessment_code, name FROM ctims.approved_assessments"))
        program_names = dict(conn.execute("SELECT program_code, name FROM ctims.programs"))
    shown_sites = [s for s in sites if s in site_names]
    shown_assessments = [a for a in assessments if a in assessment_names]
    shown_programs = [p for p in programs if p in program_names]
    assert shown_sites
    assert shown_assessments
    assert shown_programs
    for site in shown_sites:
        assert f"Site {site} {html.escape(site_names[site], quote=False)} — " in page
    for code in shown_assessments:
        assert f"<code>{code}</code> {html.escape(assessment_names[code])}" in page
    for code in shown_programs:
        assert f"<code>{code}</code> {html.escape(program_names[code])}" in page


def test_without_ctims_the_report_still_lists_the_codes(seeded, validated, tmp_path):
    closed = f"postgresql://nobody@127.0.0.1:{free_port()}/ctims?connect_timeout=2"
    page = _report_text(seeded, validated, tmp_path, closed)
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM ctims.sites")]
    assert 'class="group' in page
    assert not [n for n in names if html.escape(n, quote=False) in page]
