"""The correction report's pages: view models built from its data (reports/correction.py),
markup in include/templates/reports/correction; one self-contained page per run, the latest
and an index, written where reports go."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from badging.core import db
from badging.core.constants import UNACCEPTED_AFTER_DAYS, Event
from badging.core.run import RunInfo
from badging.pipeline import extract
from badging.reports.actions import ACTIONS
from badging.reports.chart import HISTORY_RUNS, Chart, geometry
from badging.reports.correction import (
    FOLDER,
    REVOCATION_STATES,
    AcceptanceRow,
    CorrectionData,
    LedgerAcceptance,
    SiteSection,
    collect,
    read_acceptance,
    report_path,
)
from badging.reports.location import ReportLocation
from badging.reports.templates import templates

log = logging.getLogger(__name__)


def write(conn: psycopg.Connection, run: RunInfo, location: ReportLocation, *,
          docs_pages: dict[str, str] | None = None, ctims: str = db.CTIMS_CONN_ID,
          acceptance: LedgerAcceptance | None = None) -> str:
    """Write the run's report and the index of recent reports.

    Args:
        conn: a badging_db connection.
        run: the run reported on.
        location: where the reports go.
        docs_pages: the run's Data Docs pages by suite, relative to the location's root.
        ctims: the CTIMS connection id or DSN the names are read from.
        acceptance: the ledger's acceptance as the run summary read it; read here if None.

    Returns:
        Where the run's report is (a path, or a URL for a remote location).
    """
    data = collect(conn, run, acceptance=acceptance or read_acceptance(conn))
    data.docs_pages = docs_pages or {}
    sites, programs, assessments = data.codes()
    try:
        data.names = extract.names(sites=sites, programs=programs, assessments=assessments,
                                   ctims=ctims)
    except psycopg.OperationalError as exc:
        # The report matters most when CTIMS is in trouble: codes alone, then.
        log.warning("correction report without CTIMS names (%s)", type(exc).__name__)
    relative = report_path(run.day, run.run_id)
    with location.writing(FOLDER) as folder:
        target = folder / relative.removeprefix(f"{FOLDER}/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(data, up="../../"), encoding="utf-8")
        (folder / "latest.html").write_text(render(data, up="../"), encoding="utf-8")
        (folder / "index.html").write_text(render_index(data), encoding="utf-8")
    where = location.url(relative)
    log.info("correction report: %d sites with entries to review: %s",
             sum(1 for s in data.sites.values() if s.to_review), where)
    return where


@dataclass(frozen=True)
class Coded:
    """A code and its CTIMS name (None when missing or unknown)."""

    code: str | None
    name: str | None = None


@dataclass(frozen=True)
class GroupRow:
    """One (outcome, reason, assessment, program) of a site; `shade` is "fix"
    (quarantined), "info" or ""."""

    outcome: str
    reason: str
    action: str
    ids: list[int]
    shade: str
    assessment: Coded = Coded(None)
    program: Coded = Coded(None)


@dataclass(frozen=True)
class WarningRow:
    check: str
    action: str
    ids: list[int]


@dataclass(frozen=True)
class RevokedRow:
    """One badge revoked after a correction; `state` a REVOCATION_STATES key."""

    certification_id: int
    reason: str
    action: str
    state: str
    state_text: str


@dataclass(frozen=True)
class SiteView:
    site: str
    name: str | None
    to_review: int
    groups: list[GroupRow]
    warnings: list[WarningRow]
    revocations: list[RevokedRow] = field(default_factory=list)
    acceptance: list[AcceptanceRow] = field(default_factory=list)
    unaccepted: list[tuple[int, str, int]] = field(default_factory=list)
    changed_in_credly: list[tuple[int, str, str]] = field(default_factory=list)
    # (certification id, assessment, reason, what to do): SiteSection.not_adopted.
    not_adopted: list[tuple[int, str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportView:
    """What report.html.j2 shows; ids, site codes, reasons and counts, nothing else.

    `docs_links` are (suite, href); `by_reason` (outcome, reason, rows), most rows first;
    `glance` (site, its name, entries to fix, all listed, warnings), most to fix first;
    `revocations` (state text, badges) of the badges revoked after corrections.
    """

    title: str
    day_heading: str
    run_id: str
    dry_run: bool
    index_href: str
    docs_links: list[tuple[str, str]]
    dq_problems: list[str]
    quarantined: int
    ineligible: int
    sites_to_review: int
    # Rows an earlier volume decision holds (docs/gates.md): listed, nothing to fix.
    held: int
    history_runs: int
    chart: Chart | None
    by_reason: list[tuple[str, str, int]]
    glance: list[tuple[str, str | None, int, int, int]]
    sites: list[SiteView]
    revocations: list[tuple[str, int]]
    unaccepted_after_days: int = UNACCEPTED_AFTER_DAYS


@dataclass(frozen=True)
class IndexRow:
    href: str
    day: date
    staged: int
    issued: int
    quarantined: int
    warned: int
    dq_ok: bool


@dataclass(frozen=True)
class IndexView:
    title: str
    chart: Chart | None
    rows: list[IndexRow]


def _informational(reason: str) -> bool:
    """Rows nobody at the site can act on (deleted, vendor badge, opted out, ...)."""
    return _action(reason).startswith("Nothing")


def _action(reason: str) -> str:
    lines = [ACTIONS.get(name.strip(), "Check the entry.") for name in reason.split(",")]
    return " ".join(dict.fromkeys(lines))


def site_view(section: SiteSection, names: extract.Names | None = None) -> SiteView:
    """A site's groups, those to fix first; shade "info" = nobody at the site can act on it."""
    names = names or extract.Names()
    groups = []
    # Quarantined rows first (they must be fixed), rows nobody can act on last; codes that
    # are missing (None) sort before codes.
    for (event, reason, assessment, program), ids in sorted(
            section.groups.items(), key=lambda kv: (
                _informational(kv[0][1]), kv[0][0] != Event.QUARANTINED, kv[0][:2],
                kv[0][2] or "", kv[0][3] or "")):
        shade = "info" if _informational(reason) else (
            "fix" if event == Event.QUARANTINED else "")
        groups.append(GroupRow(event, reason, _action(reason), sorted(ids), shade,
                               Coded(assessment, names.assessments.get(assessment or "")),
                               Coded(program, names.programs.get(program or ""))))
    warnings = [WarningRow(check, _action(check), sorted(ids))
                for check, ids in sorted(section.warnings.items())]
    order = list(REVOCATION_STATES)
    revocations = [RevokedRow(cert_id, reason, _action(reason), state, REVOCATION_STATES[state])
                   for cert_id, reason, state in sorted(
                       section.revocations, key=lambda r: (order.index(r[2]), r[1], r[0]))]
    return SiteView(section.site, names.sites.get(section.site), section.to_review, groups,
                    warnings, revocations, section.acceptance, section.unaccepted,
                    section.changed_in_credly,
                    [(cert_id, assessment, reason, _action(reason))
                     for cert_id, assessment, reason in section.not_adopted])


def _glance(data: CorrectionData) -> list[tuple[str, str | None, int, int, int]]:
    """One line per site, most entries to fix first."""
    lines = []
    for section in data.sites.values():
        fix = sum(len(ids) for (_event, reason, *_codes), ids in section.groups.items()
                  if not _informational(reason))
        lines.append((-fix, section.site, fix, section.to_review,
                      sum(len(ids) for ids in section.warnings.values())))
    return [(site, data.names.sites.get(site), fix, review, warned)
            for _, site, fix, review, warned in sorted(lines)]


def report_view(data: CorrectionData, *, up: str = "../") -> ReportView:
    """The run's report page as data. `up` leads from the page to the report root."""
    run = data.run
    totals = data.totals()
    states = Counter(state for section in data.sites.values()
                     for _id, _reason, state in section.revocations)
    return ReportView(
        title=f"Corrections {run.day}",
        day_heading=f"{run.day:%A %d %B %Y}",
        run_id=run.run_id,
        dry_run=run.dry_run,
        index_href=f"{up}{FOLDER}/index.html",
        docs_links=[(suite, up + page) for suite, page in sorted(data.docs_pages.items())],
        dq_problems=list(data.dq_problems),
        quarantined=sum(n for (event, _), n in totals.items() if event == Event.QUARANTINED),
        ineligible=sum(n for (event, _), n in totals.items() if event == Event.INELIGIBLE),
        held=sum(n for (event, _), n in totals.items() if event == Event.HELD),
        sites_to_review=sum(1 for s in data.sites.values() if s.to_review),
        history_runs=HISTORY_RUNS,
        chart=geometry(data.history),
        by_reason=[(event, reason, count) for (event, reason), count in
                   sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))],
        glance=_glance(data),
        sites=[site_view(section, data.names) for section in data.sites.values()],
        revocations=[(text, states[state]) for state, text in REVOCATION_STATES.items()
                     if states[state]],
    )


def index_view(data: CorrectionData) -> IndexView:
    """The index of recent reports as data, newest first."""
    rows = [IndexRow(report_path(h["logical_date"], h["run_id"]).removeprefix(f"{FOLDER}/"),
                     h["logical_date"], h["staged"], h["issued"], h["quarantined"], h["warned"],
                     bool(h["dq_success"]))
            for h in reversed(data.history)]
    return IndexView("Correction reports", geometry(data.history), rows)


def _render(template: str, view: ReportView | IndexView) -> str:
    return templates().get_template(template).render(v=view, title=view.title)


def render(data: CorrectionData, *, up: str = "../") -> str:
    """The run's report as one self-contained HTML page (inline CSS and SVG, no scripts).

    `up` leads from the page to the report root (links to the index and Data Docs).
    """
    return _render("reports/correction/report.html.j2", report_view(data, up=up))


def render_index(data: CorrectionData) -> str:
    """The index of recent reports, newest first, with the trend chart."""
    return _render("reports/correction/index.html.j2", index_view(data))


def chart(history: list[dict[str, Any]]) -> str:
    """The trend chart alone: stacked bars per day (inline SVG) and its legend."""
    macro = templates().get_template("reports/correction/_chart.html.j2").module.chart
    return str(macro(geometry(history))).strip()
