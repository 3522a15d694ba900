"""The run summary on real Postgres: counts per outcome, reports written, red when it must be."""

from __future__ import annotations

import html
import uuid
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from badging.core.constants import Event
from badging.core.errors import ReportNotWritten, RunNeedsAttention
from badging.pipeline.eligibility import decide
from badging.pipeline.ledger import LedgerRow
from badging.pipeline.plan import plan
from badging.pipeline.report import STAGING_RETENTION_DAYS, summarise
from badging.reports.location import ReportLocation
from devstack.ports import free_port
from tests.integration.badging.conftest import DAY


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
                  ctims=_ctims(seeded), location=ReportLocation(str(blocker / "reports")))
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


# --- A badge's life after issuance: the run's revocations, as the lifecycle records them --


def _badge(conn, certification_id: int, state: str = "issued") -> int:
    """A ledger row for a badge issued earlier; its issuance id."""
    return conn.execute(
        "INSERT INTO badging.issuance (student_id, assessment_code, certification_id,"
        " credly_template_id, earner_id, state, credly_badge_id, planned_run_id)"
        " VALUES (%s, 'CTTC1', %s, 'template', 'earner', %s, %s, 'earlier') RETURNING issuance_id",
        (certification_id, certification_id, state,
         None if state == "pending" else f"badge-{certification_id}")).fetchone()[0]


def _revocation(conn, issuance_id: int, site: str, reason: str, state: str, run_id: str,
                revoked_run_id: str | None = None) -> None:
    conn.execute(
        "INSERT INTO badging.revocation (issuance_id, credly_badge_id, site_code, reason,"
        " revocation_state, planned_run_id, run_id, revoked_run_id)"
        " VALUES (%s, %s, %s, %s, %s, 'earlier', %s, %s)",
        (issuance_id, f"badge-{issuance_id}", site, reason, state, run_id, revoked_run_id))


def _audit(conn, run_id: str, certification_id: int, issuance_id: int, event: str,
           reason: str | None = None, detail: dict | None = None) -> None:
    conn.execute(
        "INSERT INTO badging.audit_log (run_id, logical_date, task_id, certification_id,"
        " issuance_id, event, reason, detail) VALUES (%s, %s, 'test', %s, %s, %s, %s, %s)",
        (run_id, DAY, certification_id, issuance_id, event, reason, Jsonb(detail or {})))


def _badge_check(conn, run_id: str, unjustified: int, blocked: str | None = None) -> None:
    conn.execute("INSERT INTO badging.badge_check (run_id, logical_date, live_rows, live_badges,"
                 " unjustified, blocked) VALUES (%s, %s, 100, 10, %s, %s)",
                 (run_id, DAY, unjustified, blocked))


def _sites(stack) -> list[tuple[str, str]]:
    """Two CTIMS sites (code, name)."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return conn.execute("SELECT btrim(site_code), name FROM ctims.sites"
                            " ORDER BY 1 LIMIT 2").fetchall()


def _stored_revocations(stack, run_id: str) -> dict:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT revocations FROM badging.run_summary WHERE run_id = %s",
                            (run_id,)).fetchone()[0]


def test_the_summary_and_report_tell_the_runs_revocations(seeded, validated, tmp_path,
                                                           caplog):
    (one, one_name), (two, _two_name) = _sites(seeded)
    run_id = validated.run_id
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        for cert, reason in ((990001, "entry_removed"), (990002, "deleted")):
            badge = _badge(conn, cert, "revoked")
            _revocation(conn, badge, one, reason, "revoked", run_id, revoked_run_id=run_id)
            _audit(conn, run_id, cert, badge, "revoked", reason)
        held = _badge(conn, 990003)
        _revocation(conn, held, two, "entry_reassigned", "held", run_id)
        _audit(conn, run_id, 990003, held, "revoke_held", "entry_reassigned",
               {"gate": "rejected"})
        # Revoked by an earlier run, issued again by this one: counted as reissued only.
        again = _badge(conn, 990004, "pending")
        _revocation(conn, again, one, "entry_removed", "revoked", "earlier", "earlier")
        _audit(conn, run_id, 990014, again, "reissue_planned")
        _badge_check(conn, run_id, unjustified=3)
    caplog.set_level("INFO", logger="badging.pipeline.report")
    summary = summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                        ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
    nothing = {"revoked": 0, "held": 0, "would_revoke": 0, "needs_review": 0,
               "recipient_unknown": 0}
    assert _stored_revocations(seeded, run_id) == {
        "unjustified": 3, "revoked": 2, "held": 1, "failed": 0, "would_revoke": 0,
        "reissued": 1, "replaced": 0, "kept": 0, "would_correct": 0, "blocked": None,
        "needs_review": 0, "recipient_unknown": 0,
        "by_site": {one: {"entry_removed": nothing | {"revoked": 1},
                          "deleted": nothing | {"revoked": 1}},
                    two: {"entry_reassigned": nothing | {"held": 1}}}}
    assert (summary.unjustified, summary.revoked, summary.revocations_held,
            summary.revocations_failed, summary.would_revoke, summary.reissued,
            summary.revocations_blocked) == (3, 2, 1, 0, 0, 1, None)
    # Held revocations are a decision: listed in the log, not red.
    assert summary.problems() == []
    assert summary.decisions() == ["1 revocations held (revocation gate): the next run asks "
                                   "again"]
    assert "1 revocations held" in caplog.text
    assert f"{'revoked':<28}{2:>8}" in summary.table()
    page = Path(summary.report_location).read_text(encoding="utf-8")
    assert page.count("<h4>Badges revoked after corrections</h4>") == 2
    assert f'<h3 id="site-{one}">Site {one} {html.escape(one_name, quote=False)} — ' in page
    assert (f'<tr class="revocation" data-site="{one}" data-state="revoked" '
            f'data-reason="entry_removed"><td class="ids">990001</td>') in page
    assert (f'<tr class="revocation" data-site="{two}" data-state="held" '
            f'data-reason="entry_reassigned"><td class="ids">990003</td>') in page
    assert "held for approval" in page
    assert "990004" not in page
    assert "990014" not in page
    # The trend chart's bar of the day has its revoked badges.
    assert f"<title>{DAY}: revoked 2</title>" in page


def test_a_revocation_failed_for_good_turns_the_run_red(seeded, validated, tmp_path):
    (one, _name), _ = _sites(seeded)
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        badge = _badge(conn, 990005)
        _revocation(conn, badge, one, "entry_removed", "failed", validated.run_id)
        _audit(conn, validated.run_id, 990005, badge, "revoke_failed",
               "CredlyInvalidRequest (HTTP 422)")
    with pytest.raises(RunNeedsAttention) as raised:
        summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                  ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
    # The one line, alone: nothing else about the run is wrong.
    assert str(raised.value) == "1 revocations failed: see audit_log event 'revoke_failed'"
    stored = _stored_revocations(seeded, validated.run_id)
    assert (stored["failed"], stored["revoked"], stored["by_site"]) == (1, 0, {})


def test_a_blocked_check_is_reported_not_red(seeded, validated, tmp_path, caplog):
    blocked = "CTIMS holds 10 Real-Time rows, 100 at the previous check: a collapsed source"
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        _badge_check(conn, validated.run_id, unjustified=40, blocked=blocked)
    caplog.set_level("INFO", logger="badging.pipeline.report")
    summary = summarise(validated, max_failed_share=1.0, badging=seeded.dsn("badging"),
                        ctims=_ctims(seeded), location=ReportLocation(str(tmp_path)))
    assert (summary.unjustified, summary.revocations_blocked) == (40, blocked)
    assert summary.decisions() == [f"revocations blocked: {blocked}"]
    assert f"revocations blocked: {blocked}" in caplog.text
    assert _stored_revocations(seeded, validated.run_id)["blocked"] == blocked
    page = Path(summary.report_location).read_text(encoding="utf-8")
    assert "Badges revoked after corrections" not in page


def test_a_dry_run_lists_what_it_would_revoke(seeded, validated, tmp_path):
    (one, _name), _ = _sites(seeded)
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        cert, staged_site = conn.execute(
            "SELECT certification_id, site_code FROM badging.staged_certification"
            " WHERE run_id = %s AND site_code IS NOT NULL ORDER BY 1 LIMIT 1",
            (validated.run_id,)).fetchone()
        # The site as the audit row names it, else as the run staged the entry.
        named = _badge(conn, 990006)
        _audit(conn, validated.run_id, 990006, named, "would_revoke", "entry_removed",
               {"site_code": one})
        staged = _badge(conn, cert)
        _audit(conn, validated.run_id, cert, staged, "would_revoke", "deleted")
        _badge_check(conn, validated.run_id, unjustified=2)
    summary = summarise(replace(validated, dry_run=True), max_failed_share=1.0,
                        badging=seeded.dsn("badging"), ctims=_ctims(seeded),
                        location=ReportLocation(str(tmp_path)))
    assert (summary.would_revoke, summary.revoked, summary.problems()) == (2, 0, [])
    by_site = _stored_revocations(seeded, validated.run_id)["by_site"]
    only_would = {"revoked": 0, "held": 0, "would_revoke": 1, "needs_review": 0,
                  "recipient_unknown": 0}
    assert by_site[one]["entry_removed"] == only_would
    assert by_site[staged_site]["deleted"] == only_would
    page = Path(summary.report_location).read_text(encoding="utf-8")
    assert (f'<tr class="revocation" data-site="{staged_site}" data-state="would_revoke" '
            f'data-reason="deleted"><td class="ids">{cert}</td>') in page
    assert "would be revoked (not a nightly run)" in page
