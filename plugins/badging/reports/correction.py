"""The correction report's data: per technology center, which entries to fix and why, read
from the run's staging, audit log and ledger (no student data). The pages are built from it
by reports/correction_page.py."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from badging.core import db
from badging.core.constants import TERMINAL_EVENTS, UNACCEPTED_AFTER_DAYS, Event
from badging.core.run import RunInfo
from badging.pipeline import extract
from badging.reports.chart import HISTORY_RUNS

log = logging.getLogger(__name__)

FOLDER = "correction"
NO_SITE = "(no site code)"

# The revocations a site is shown (pipeline/report/revocations.sql outcomes), in this order.
REVOCATION_STATES = {"revoked": "revoked", "held": "held for approval",
                     "would_revoke": "would be revoked (not a nightly run)",
                     "needs_review": "kept, for CareerTech to review (only a reference "
                                     "table refuses it now)",
                     "recipient_unknown": "kept; the student's record needs fixing"}


@dataclass(frozen=True)
class AcceptanceRow:
    """A site's badges of one program and assessment as Credly has them (the figures of view
    badging.acceptance); `rate` and `median_days` None when there is nothing to say."""

    program: str
    assessment: str
    badges: int
    accepted: int
    pending: int
    rejected: int
    gone: int
    rate: float | None
    median_days: float | None
    # Expired in Credly, counted apart from gone (revoked, deleted) and left out of the rate.
    expired: int = 0


@dataclass(frozen=True)
class LedgerAcceptance:
    """The whole ledger's badges as Credly has them, read once per report (read_acceptance):
    the run summary's totals and every site's section come from the same read."""

    # (site code, its row) per site, program and assessment.
    rows: list[tuple[str, AcceptanceRow]]
    # Issued badges still pending UNACCEPTED_AFTER_DAYS after issue:
    # (site code, certification id, assessment, days).
    unaccepted: list[tuple[str, int, str, int]]
    # Badges revoked or deleted in Credly by someone else:
    # (site code, certification id, assessment, Credly's state).
    changed_in_credly: list[tuple[str, int, str, str]]
    median_days: float | None

    def totals(self) -> dict[str, float | int | None]:
        """The run summary's acceptance (run_summary.acceptance; docs/credly-sync.md)."""
        figures = {name: sum(getattr(row, name) for _, row in self.rows)
                   for name in ("badges", "accepted", "pending", "rejected", "expired")}
        rated = figures["badges"] - figures["expired"]
        return {"synced": figures["badges"], "accepted": figures["accepted"],
                "pending": figures["pending"], "rejected": figures["rejected"],
                "expired": figures["expired"],
                # As Postgres rounds (half away from zero), not as binary floats do.
                "acceptance_rate": float((Decimal(figures["accepted"]) / rated).quantize(
                    Decimal("0.0001"), ROUND_HALF_UP)) if rated else None,
                "median_days_to_accept": self.median_days,
                "unaccepted": len(self.unaccepted),
                "changed_in_credly": len(self.changed_in_credly)}


def read_acceptance(conn: psycopg.Connection) -> LedgerAcceptance:
    """One read of the ledger's acceptance (reports/correction/acceptance.sql), the badges
    unaccepted after UNACCEPTED_AFTER_DAYS and those changed in Credly by someone else."""
    rows, median = [], None
    for site, program, assessment, *counts, rate, days, expired, ledger in db.execute(
            conn, "reports/correction/acceptance.sql"):
        rows.append((site, AcceptanceRow(
            program, assessment, *counts, None if rate is None else float(rate),
            None if days is None else round(float(days), 1), expired)))
        median = ledger
    unaccepted = db.execute(conn, "reports/correction/unaccepted.sql",
                            {"days": UNACCEPTED_AFTER_DAYS}).fetchall()
    changed = db.execute(conn, "reports/correction/changed_in_credly.sql").fetchall()
    return LedgerAcceptance(rows, unaccepted, changed, median)


# A group of a site's rows: (outcome, reason, assessment code, program code).
GroupKey = tuple[str, str, str | None, str | None]


@dataclass
class SiteSection:
    """One technology center's rows: (outcome, reason, assessment, program) -> ids, and
    the badges the run revoked after corrections: (certification id, reason, state)."""

    site: str
    groups: dict[GroupKey, list[int]] = field(default_factory=lambda: defaultdict(list))
    warnings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    revocations: list[tuple[int, str, str]] = field(default_factory=list)
    # After issuance (reports/correction/acceptance.sql, unaccepted.sql, changed_in_credly.sql;
    # docs/credly-sync.md): acceptance per program and assessment, the badges unaccepted
    # after UNACCEPTED_AFTER_DAYS (certification id, assessment, days), and the badges
    # revoked or deleted in Credly by someone else (certification id, assessment, state).
    acceptance: list[AcceptanceRow] = field(default_factory=list)
    unaccepted: list[tuple[int, str, int]] = field(default_factory=list)
    changed_in_credly: list[tuple[int, str, str]] = field(default_factory=list)
    # Badges Credly holds at the student's address that adoption left for a person
    # (reports/correction/not_adopted.sql; docs/history-load.md): (certification id,
    # assessment, reason).
    not_adopted: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def to_review(self) -> int:
        return sum(len(ids) for ids in self.groups.values())


@dataclass
class CorrectionData:
    """Everything the report shows; ids, codes, CTIMS names, reasons and counts."""

    run: RunInfo
    sites: dict[str, SiteSection]
    dq_problems: list[str]
    history: list[dict[str, Any]]
    docs_pages: dict[str, str] = field(default_factory=dict)
    names: extract.Names = field(default_factory=extract.Names)

    def totals(self) -> Counter[tuple[str, str]]:
        """Rows per (outcome, reason)."""
        counts: Counter[tuple[str, str]] = Counter()
        for section in self.sites.values():
            for (event, reason, _assessment, _program), ids in section.groups.items():
                counts[(event, reason)] += len(ids)
        return counts

    def codes(self) -> tuple[set[str], set[str], set[str]]:
        """The site, program and assessment codes the report shows."""
        sites = {site for site in self.sites if site != NO_SITE}
        keys = [key for section in self.sites.values() for key in section.groups]
        return (sites, {program for *_, program in keys if program},
                {assessment for _, _, assessment, _ in keys if assessment})


def report_path(day: date, run_id: str) -> str:
    """The run's report, relative to the report location (a run id made file-name safe)."""
    return f"{FOLDER}/{day.isoformat()}/{re.sub(r'[^A-Za-z0-9._-]+', '_', run_id)}.html"


def collect(conn: psycopg.Connection, run: RunInfo, *,
            acceptance: LedgerAcceptance | None = None) -> CorrectionData:
    """Read the run's quarantined, ineligible, held and warned rows, the badges it revoked (or
    held, or would revoke), its checks and the trend.

    Args:
        acceptance: the ledger's acceptance (read_acceptance) to show in each site's section;
            None for none (the site lists need only the rows to fix).
    """
    params = {"run_id": run.run_id, "terminal_events": [str(e) for e in TERMINAL_EVENTS],
              "events": [str(Event.QUARANTINED), str(Event.INELIGIBLE), str(Event.HELD)]}
    sites: dict[str, SiteSection] = {}

    def section(site_code: str | None) -> SiteSection:
        site = site_code or NO_SITE
        return sites.setdefault(site, SiteSection(site))

    for cert_id, event, reason, site_code, assessment, program, checks in db.execute(
            conn, "reports/correction/correction_rows.sql", params):
        key = ", ".join(sorted(checks or [])) if event == Event.QUARANTINED else reason or ""
        section(site_code).groups[(event, key, assessment, program)].append(cert_id)
    for cert_id, site_code, checks in db.execute(conn, "reports/correction/row_warnings.sql",
                                                 params):
        for check in checks:
            section(site_code).warnings[check].append(cert_id)
    _counts, revocations = db.execute(conn, "pipeline/report/revocations.sql", params).fetchone()
    for cert_id, site_code, reason, state in revocations:
        if state in REVOCATION_STATES:
            section(site_code).revocations.append((cert_id, reason, state))
    if acceptance is not None:
        for site, row in acceptance.rows:
            section(site).acceptance.append(row)
        for site, cert_id, assessment, days in acceptance.unaccepted:
            section(site).unaccepted.append((cert_id, assessment, days))
        for site, cert_id, assessment, state in acceptance.changed_in_credly:
            section(site).changed_in_credly.append((cert_id, assessment, state))
    for site_code, cert_id, assessment, reason in db.execute(
            conn, "reports/correction/not_adopted.sql", params):
        section(site_code).not_adopted.append((cert_id, assessment, reason))
    problems = []
    for suite, _severity, success, reason, result in db.execute(
            conn, "pipeline/report/dq_results.sql", params):
        if reason:
            problems.append(reason)
        if not success:
            problems += [f"{suite}: {check}" for check in _table_level_failures(result)]
    cursor = db.execute(conn, "reports/correction/history.sql",
                        {"day": run.day, "runs": HISTORY_RUNS})
    names = [c.name for c in cursor.description]
    history = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return CorrectionData(run, dict(sorted(sites.items())), problems, history)


def _table_level_failures(result: dict[str, Any]) -> list[str]:
    found = []
    for item in result.get("results", []):
        meta = item["expectation_config"].get("meta") or {}
        if not item["success"] and meta.get("table_level"):
            observed = item["result"].get("observed_value")
            found.append(f"{meta.get('check')} (observed {observed})")
    return found
