"""Report: the run summary — counts per outcome, data quality — and the reports it points at."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC

from psycopg.types.json import Jsonb

from badging.core import db
from badging.core.constants import (
    TERMINAL_EVENTS,
    Event,
    RevocationCount,
)
from badging.core.errors import ReportNotWritten, RunNeedsAttention
from badging.core.run import RunInfo
from badging.reports import correction_page, data_docs
from badging.reports.correction import LedgerAcceptance, read_acceptance
from badging.reports.location import ReportLocation

log = logging.getLogger(__name__)

# Days a run's staged rows (recipient details) are kept for retries of that run.
STAGING_RETENTION_DAYS = 14
# A badge still open this many days after it was planned turns every run red: each run
# sweeps open badges, so one that old is stuck (a refused template, a held claim).
STALE_OPEN_DAYS = 3
# run_summary.revocations' counts (pipeline/report/revocations.sql) -> RunSummary's fields.
REVOCATION_COUNTS = {RevocationCount.UNJUSTIFIED: "unjustified",
                     RevocationCount.REVOKED: "revoked",
                     RevocationCount.HELD: "revocations_held",
                     RevocationCount.FAILED: "revocations_failed",
                     RevocationCount.WOULD_REVOKE: "would_revoke",
                     RevocationCount.REISSUED: "reissued"}


@dataclass
class RunSummary:
    """One row of badging.run_summary; counts only, safe for logs and XCom."""

    staged: int = 0
    quarantined: int = 0
    ineligible: int = 0
    planned: int = 0
    issued: int = 0
    already_issued: int = 0
    # Credly already held the badge: recorded, not sent (docs/history-load.md).
    adopted: int = 0
    failed: int = 0
    still_pending: int = 0
    would_issue: int = 0
    # Held by an earlier volume decision (rejected, unanswered, refused; audit event held,
    # reason held_by_decision): nothing issued for them until the day is released.
    held: int = 0
    # Open in the ledger for more than STALE_OPEN_DAYS, whichever run planned them.
    stale_open: int = 0
    # Badges other runs planned that this run's sweep issued or failed (not in the counts
    # above, which tell the story of the run's own rows).
    swept_issued: int = 0
    swept_failed: int = 0
    ineligible_by_reason: dict[str, int] = field(default_factory=dict)
    dq_failed_share: float = 0.0
    dq_success: bool = True
    report_location: str | None = None
    data_docs_location: str | None = None
    # The one-line reason validation failed the run (threshold or table-level check).
    dq_reason: str | None = None
    # A badge's life after issuance (pipeline/report/revocations.sql; docs/lifecycle.md): issued
    # badges the run's check found unjustified, and the revocations the run decided.
    unjustified: int = 0
    revoked: int = 0
    revocations_held: int = 0
    revocations_failed: int = 0
    would_revoke: int = 0
    reissued: int = 0
    # Why the run's check let no badge change (the source guard tripped), or None.
    revocations_blocked: str | None = None
    # The ledger's badges as Credly has them (reports/correction.py, LedgerAcceptance.totals;
    # docs/credly-sync.md): synced, accepted, pending, rejected, expired, acceptance_rate,
    # median_days_to_accept, unaccepted (after UNACCEPTED_AFTER_DAYS), changed_in_credly.
    acceptance: dict[str, float | int | None] = field(default_factory=dict)
    # The badges the run issued by expiry (pipeline/report/expiry_counts.sql, docs/ledger.md):
    # with_expiry, without_expiry, renewals.
    expiry: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """Why a person must look at this run; empty when it is green."""
        found = []
        if not self.dq_success:
            found.append(f"data quality: {self.dq_reason}" if self.dq_reason else
                         f"data quality: {self.dq_failed_share:.0%} of rows quarantined")
        if self.failed or self.swept_failed:
            found.append(f"{self.failed + self.swept_failed} badges failed (see audit_log "
                         "event 'failed')")
        if self.still_pending:
            found.append(f"{self.still_pending} badges still pending: an issue task did not "
                         "finish; clear it to retry")
        if self.stale_open:
            found.append(f"{self.stale_open} badges open in the ledger for more than "
                         f"{STALE_OPEN_DAYS} days: see last_error in badging.issuance")
        if self.revocations_failed:
            found.append(f"{self.revocations_failed} revocations failed: see audit_log event "
                         "'revoke_failed'")
        return found

    def decisions(self) -> list[str]:
        """Revocations the run chose not to make: worth reading, not red."""
        found = []
        if self.held:
            found.append(f"{self.held} rows held by an earlier volume decision (rejected, "
                         "unanswered or refused): a manual run of their day with "
                         "release_rejected_volume issues them")
        if self.revocations_held:
            found.append(f"{self.revocations_held} revocations held (revocation gate): the "
                         "next run asks again")
        if self.revocations_blocked:
            found.append(f"revocations blocked: {self.revocations_blocked}")
        if self.acceptance.get("changed_in_credly"):
            found.append(f"{self.acceptance['changed_in_credly']} badges revoked or deleted in "
                         "Credly by someone else: a person decides (badging."
                         "credly_external_change, the correction report)")
        return found

    def table(self) -> str:
        lines = [f"{'outcome':<28}{'rows':>8}"]
        for name in ("staged", "quarantined", "ineligible", "planned", "issued",
                     "already_issued", "adopted", "failed", "still_pending", "would_issue",
                     "held", "swept_issued", "swept_failed"):
            lines.append(f"{name:<28}{getattr(self, name):>8}")
        for reason, count in sorted(self.ineligible_by_reason.items()):
            lines.append(f"  ineligible: {reason:<14}{count:>8}")
        for name in ("with_expiry", "without_expiry", "renewals"):
            lines.append(f"  issued {name.replace('_', ' '):<20}{self.expiry.get(name, 0):>8}")
        lines.append(f"{'after issuance':<28}{'badges':>8}")
        for name in REVOCATION_COUNTS.values():
            lines.append(f"{name:<28}{getattr(self, name):>8}")
        if self.acceptance.get("synced"):
            lines.append(f"{'in Credly':<28}{'badges':>8}")
            for name in ("synced", "accepted", "pending", "rejected", "expired", "unaccepted",
                         "changed_in_credly"):
                lines.append(f"{name:<28}{self.acceptance.get(name) or 0:>8}")
        return "\n".join(lines)


def _gate_line(gate: str, event: str, by: str | None, at) -> str:
    """One gate's decision for the summary log: what, who (if a person), when (UTC)."""
    who = f" by {by}" if by else ""
    return f"{gate} gate: {event}{who} at {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def summarise(run: RunInfo, *, max_failed_share: float,
              badging: str = db.BADGING_CONN_ID, ctims: str = db.CTIMS_CONN_ID,
              location: ReportLocation | None = None) -> RunSummary:
    """Count the run's outcomes, write badging.run_summary and the correction report (and the
    run's Data Docs pages if validate could not), and purge old staging (even when a report
    cannot be written).

    Args:
        run: the run reported on.
        max_failed_share: the validation threshold the run used.
        badging: the ledger's connection id or DSN.
        ctims: the CTIMS connection id or DSN (the report's site, program and assessment names).
        location: where the reports go; BADGING_REPORT_DIR (ReportLocation.configured) if None.

    Raises:
        ReportNotWritten: a report could not be written (the summary and the purge are done).
        RunNeedsAttention: after writing, when rows failed, are still pending, a revocation
            failed for good, or the data quality threshold was passed: the run must show red.
    """
    params = {"run_id": run.run_id, "stale_open_days": STALE_OPEN_DAYS,
              "terminal_events": [str(e) for e in TERMINAL_EVENTS]}
    summary = RunSummary()
    with db.connect(badging) as conn:
        summary.staged, summary.planned, summary.still_pending, summary.stale_open = db.execute(
            conn, "pipeline/report/run_counts.sql", params).fetchone()
        for event, reason, count in db.execute(conn, "pipeline/report/terminal_counts.sql", params):
            if event == Event.INELIGIBLE:
                summary.ineligible += count
                summary.ineligible_by_reason[reason] = count
            else:
                setattr(summary, event, getattr(summary, event) + count)
        summary.swept_issued, summary.swept_failed = db.execute(
            conn, "pipeline/report/swept_counts.sql", params).fetchone()
        if summary.staged:
            summary.dq_failed_share = summary.quarantined / summary.staged
        reasons = [row[3] for row in db.execute(conn, "pipeline/report/dq_results.sql", params)
                   if row[3]]
        summary.dq_reason = "; ".join(reasons) or None
        summary.dq_success = summary.dq_failed_share <= max_failed_share and not reasons
        revocations, _badges = db.execute(conn, "pipeline/report/revocations.sql",
                                          params).fetchone()
        for key, name in REVOCATION_COUNTS.items():
            setattr(summary, name, revocations[key])
        summary.revocations_blocked = revocations[RevocationCount.BLOCKED]
        # Read once: the totals here, each site's figures on the correction report.
        acceptance = read_acceptance(conn)
        summary.acceptance = acceptance.totals()
        db.execute(conn, "pipeline/report/upsert_summary.sql", {
            **{k: v for k, v in asdict(summary).items() if k != "ineligible_by_reason"},
            "ineligible_by_reason": Jsonb(summary.ineligible_by_reason),
            "revocations": Jsonb(revocations),
            "run_id": run.run_id, "logical_date": run.day, "window_start": run.window_start,
            "window_end": run.window_end, "dry_run": run.dry_run,
        })
        db.execute(conn, "pipeline/report/set_acceptance.sql",
                   {"run_id": run.run_id, "acceptance": Jsonb(summary.acceptance)})
        summary.expiry = db.execute(conn, "pipeline/report/expiry_counts.sql",
                                    params).fetchone()[0]
        db.execute(conn, "pipeline/report/set_expiry.sql",
                   {"run_id": run.run_id, "expiry": Jsonb(summary.expiry)})
        # The gates' decisions (who let the day through, when): badging/gates/approval.py.
        db.execute(conn, "gates/approval/summary_approvals.sql", {"run_id": run.run_id})
        gates = [_gate_line(*row) for row in db.execute(conn, "gates/approval/run_approvals.sql",
                                                         {"run_id": run.run_id})]
        # The summary is kept even if writing a report fails below.
        conn.commit()
        location = location or ReportLocation.configured()
        try:
            _write_reports(conn, run, summary, location, ctims, acceptance)
        except Exception as error:
            raise ReportNotWritten(
                f"could not write the reports under {location.root} "
                f"({type(error).__name__}); the run summary is recorded and old staging "
                "purged") from error
        finally:
            # Staging holds recipient details: its purge must not depend on a report
            # folder being writable, so it runs, in its own transaction, either way.
            conn.rollback()
            db.execute(conn, "pipeline/report/purge_staging.sql",
                       {"retention_days": STAGING_RETENTION_DAYS})
            conn.commit()
    log.info("run summary for %s%s:\n%s\n%scorrection report: %s\ndata docs: %s", run.day,
             " (dry run)" if run.dry_run else "", summary.table(),
             "".join(f"{line}\n" for line in gates + summary.decisions()),
             summary.report_location,
             summary.data_docs_location)
    problems = summary.problems()
    if problems:
        raise RunNeedsAttention("; ".join(problems))
    return summary


def _write_reports(conn, run: RunInfo, summary: RunSummary, location: ReportLocation,
                   ctims: str, acceptance: LedgerAcceptance) -> None:
    """Write the correction report (and the run's Data Docs if validate could not), and
    record where they are (committed)."""
    docs = data_docs.run_pages(conn, location, run.run_id)
    summary.data_docs_location = docs.index
    summary.report_location = correction_page.write(conn, run, location,
                                                      docs_pages=docs.run_pages, ctims=ctims,
                                                      acceptance=acceptance)
    db.execute(conn, "pipeline/report/set_dq_outcome.sql", {
        "run_id": run.run_id, "dq_success": summary.dq_success,
        "dq_reason": summary.dq_reason, "report_location": summary.report_location,
        "data_docs_location": summary.data_docs_location})
    conn.commit()
