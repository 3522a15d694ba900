"""What the report task keeps for the console's Outcomes, Who must act and Templates pages.

Every step is bounded by what changed: the summary recomputes only the keys of the badges the
ledger's triggers queued since the last report; CTIMS's names and authors are copied for the
run's entries and the badges never read. CTIMS and Credly are best effort (the figures are
kept without them and the log says why); the badging database is not (docs/outcomes.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from badging.core import db
from badging.core.constants import AGENCY_TIMEZONE, AGENCY_TZ, TERMINAL_EVENTS, Event
from badging.core.run import RunInfo
from badging.outcomes.health import (
    CREDLY_PROBLEMS,
    LEDGER_PROBLEMS,
    Finding,
    judge,
)

log = logging.getLogger(__name__)

# Badges recomputed per transaction: a refresh of a whole ledger (the first after migration
# 014) commits as it goes, each chunk a few seconds.
CHUNK = 50_000
# Certification ids per CTIMS query for their authors.
AUTHORS_CHUNK = 20_000
# Any constant: the same for every process refreshing this database.
REFRESH_LOCK = 0x0B4D32
# Issue 28's audit event for an entry a rejected volume decision holds (Event.HELD once it
# lands); bound, never a SQL literal.
HELD_EVENT = str(getattr(Event, "HELD", "held"))
# Decisions that close a held entry (a dry run's would_issue decides nothing).
CLOSING_EVENTS = sorted(str(e) for e in TERMINAL_EVENTS if e != Event.WOULD_ISSUE)


@dataclass
class Kept:
    """What one report kept (counts only: safe for logs and XCom)."""

    badges_counted: int = 0
    chunks: int = 0
    reference_copied: bool = False
    authors_read: int = 0
    held_open: int = 0
    templates_read: bool = False
    new_findings: list[Finding] = field(default_factory=list)

    def as_xcom(self) -> dict[str, Any]:
        return {"badges_counted": self.badges_counted, "chunks": self.chunks,
                "reference_copied": self.reference_copied, "authors_read": self.authors_read,
                "held_open": self.held_open, "templates_read": self.templates_read,
                "new_findings": len(self.new_findings)}


def refresh_summary(conn, run_id: str, *, chunk: int = CHUNK) -> tuple[int, int]:
    """Bring badging.outcome_summary up to date with the ledger; returns (badges counted,
    chunks). Each chunk is one transaction: take queued badges, forget how they were counted,
    count them as they are, recount every key they left or joined."""
    counted = chunks = 0
    while True:
        db.execute(conn, "outcomes/refresh_lock.sql", {"key": REFRESH_LOCK})
        db.execute(conn, "outcomes/touched_table.sql")
        ids = [row[0] for row in db.execute(conn, "outcomes/take_dirty.sql", {"chunk": chunk})]
        if not ids:
            db.execute(conn, "outcomes/refreshed.sql",
                       {"refreshed_at": datetime.now(UTC), "run_id": run_id})
            conn.commit()
            return counted, chunks
        params = {"issuance_ids": ids, "time_zone": AGENCY_TIMEZONE}
        db.execute(conn, "outcomes/badges_forget.sql", params)
        counted += db.execute(conn, "outcomes/badges_count.sql", params).fetchone()[0]
        db.execute(conn, "outcomes/summary_forget.sql")
        db.execute(conn, "outcomes/summary_count.sql")
        conn.commit()
        chunks += 1


def copy_reference(conn, ctims: str) -> None:
    """CTIMS's sites, programs (CIP codes) and approved assessments into the badging copy."""
    rows: dict[str, list[tuple]] = {"site": [], "program": [], "assessment": []}
    with db.connect(ctims, read_only=True) as source:
        for row in db.execute(source, "outcomes/ctims_reference.sql"):
            rows[row[0]].append(row[1:])
    seen_at = datetime.now(UTC)
    sites, programs, assessments = rows["site"], rows["program"], rows["assessment"]
    db.execute(conn, "outcomes/copy_sites.sql", {
        "seen_at": seen_at, "codes": [r[0] for r in sites], "names": [r[1] for r in sites]})
    db.execute(conn, "outcomes/copy_programs.sql", {
        "seen_at": seen_at, "codes": [r[0] for r in programs], "names": [r[1] for r in programs],
        "cip_codes": [r[2] for r in programs], "site_codes": [r[3] for r in programs]})
    db.execute(conn, "outcomes/copy_assessments.sql", {
        "seen_at": seen_at, "codes": [r[0] for r in assessments],
        "names": [r[1] for r in assessments], "vendors": [r[4] for r in assessments],
        "vendor_issues_badge": [r[5] for r in assessments],
        "approved_from": [r[6] for r in assessments], "approved_to": [r[7] for r in assessments]})
    conn.commit()


def copy_authors(conn, run_id: str, ctims: str) -> int:
    """Who entered the run's entries and the badges whose author is unknown; returns how
    many certifications were read."""
    wanted = [row[0] for row in db.execute(conn, "outcomes/authors_wanted.sql",
                                           {"run_id": run_id})]
    conn.commit()
    for start in range(0, len(wanted), AUTHORS_CHUNK):
        ids = wanted[start:start + AUTHORS_CHUNK]
        with db.connect(ctims, read_only=True) as source:
            found = dict(db.execute(source, "outcomes/ctims_authors.sql",
                                    {"certification_ids": ids}).fetchall())
        db.execute(conn, "outcomes/copy_authors.sql", {
            "read_at": datetime.now(UTC), "certification_ids": ids,
            "entered_by": [found.get(i) for i in ids]})
        db.execute(conn, "outcomes/authors_read.sql", {"certification_ids": ids})
        conn.commit()
    return len(wanted)


def keep_held(conn, run_id: str) -> int:
    """The run's held entries in, the ones a later decision closed out; returns those open."""
    db.execute(conn, "outcomes/held_add.sql", {"run_id": run_id, "held_event": HELD_EVENT})
    db.execute(conn, "outcomes/held_resolve.sql", {"closing_events": CLOSING_EVENTS})
    open_now = conn.execute("SELECT count(*) FROM badging.outcome_held").fetchone()[0]
    conn.commit()
    return open_now


def judge_templates(conn, run: RunInfo, listed: list[dict[str, Any]] | None,
                    today: date) -> list[Finding]:
    """Store today's template findings; returns the new ones (none on the first judgement:
    that is the baseline)."""
    baseline = not db.execute(conn, "outcomes/health_baseline.sql",
                              {"run_id": run.run_id}).fetchone()[0]
    cursor = db.execute(conn, "outcomes/health_assessments.sql")
    names = [c.name for c in cursor.description]
    found = judge([dict(zip(names, row, strict=True)) for row in cursor], listed, today)
    judged = [*LEDGER_PROBLEMS, *(CREDLY_PROBLEMS if listed is not None else ())]
    stored = db.execute(conn, "outcomes/findings_store.sql", {
        "problems": [str(f.problem) for f in found],
        "assessment_codes": [f.assessment_code for f in found],
        "template_ids": [f.credly_template_id for f in found],
        "details": [f.detail for f in found], "judged": [str(p) for p in judged],
        "run_id": run.run_id, "at": datetime.now(UTC)}).fetchall()
    new = [Finding(*row[:4], new=True) for row in stored if row[4]]
    return [] if baseline else sorted(new, key=lambda f: (f.problem, f.assessment_code))


def record_credly_health(conn, run: RunInfo, *, templates_error: str | None,
                         token: tuple[date | None, int | None]) -> None:
    """The run's Credly facts: template list read or why not, its last authorization
    failure, the token's creation date and rotation period (never the token)."""
    failure = db.execute(conn, "outcomes/auth_failure.sql", {
        "run_id": run.run_id, "auth_label": "CredlyAuthError%",
        "auth_anywhere": "%CredlyAuthError%"}).fetchone()
    db.execute(conn, "outcomes/credly_health.sql", {
        "run_id": run.run_id, "checked_at": datetime.now(UTC),
        "templates_read": templates_error is None, "templates_error": templates_error,
        "auth_failed_at": failure[0] if failure else None,
        "auth_failure": _status_only(failure[1]) if failure else None,
        "token_created_on": token[0], "token_rotation_days": token[1]})
    conn.commit()


def _status_only(reason: str) -> str:
    """An authorization failure as class and HTTP status: a task's one-line reason may carry
    Credly's message, which the console has no use for."""
    status = "401" if "HTTP 401" in reason else "403" if "HTTP 403" in reason else None
    return "CredlyAuthError" + (f" (HTTP {status})" if status else "")


def keep(run: RunInfo, *, badging: str = db.BADGING_CONN_ID, ctims: str = db.CTIMS_CONN_ID,
         templates: Callable[[], list[dict[str, Any]]] | None = None,
         token: tuple[date | None, int | None] = (None, None)) -> Kept:
    """Everything above, for one report.

    Args:
        run: the run whose report this is.
        badging, ctims: connection ids or DSNs.
        templates: reads Credly's template list (CredlyClient.list_templates); None in runs
            that must not call Credly (dry runs, backfills): Credly's problems are not judged.
        token: the credly_api connection's (token_created_on, token_rotation_days).

    Raises:
        psycopg.Error: the badging database failed (the summary is behind until a report
            succeeds; nothing is lost: the queue keeps the badges).
    """
    kept = Kept()
    listed, templates_error = None, "not read in this run (dry run or backfill)"
    if templates is not None:
        try:
            listed, templates_error = templates(), None
            kept.templates_read = True
        except Exception as error:  # Credly's failure must not stop the figures
            templates_error = type(error).__name__
            log.warning("outcomes: Credly's template list not read (%s)", templates_error)
    with db.connect(badging) as conn:
        try:
            copy_reference(conn, ctims)
            kept.reference_copied = True
        except Exception as error:
            conn.rollback()
            log.warning("outcomes: CTIMS names not copied (%s)", type(error).__name__)
        kept.badges_counted, kept.chunks = refresh_summary(conn, run.run_id)
        try:
            kept.authors_read = copy_authors(conn, run.run_id, ctims)
        except Exception as error:
            conn.rollback()
            log.warning("outcomes: CTIMS authors not read (%s)", type(error).__name__)
        kept.held_open = keep_held(conn, run.run_id)
        kept.new_findings = judge_templates(conn, run, listed,
                                            datetime.now(AGENCY_TZ).date())
        conn.commit()
        record_credly_health(conn, run, templates_error=templates_error, token=token)
    log.info("outcomes: %s", kept.as_xcom())
    return kept
