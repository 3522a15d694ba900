"""The correction report: per technology center, which entries to fix and why (no student data)."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import jinja2
import psycopg

from badging.core import db, sql
from badging.core.constants import TERMINAL_EVENTS, UNACCEPTED_AFTER_DAYS, Event, Reason
from badging.core.run import RunInfo
from badging.pipeline import extract
from badging.reports.chart import HISTORY_RUNS, Chart, geometry
from badging.reports.location import ReportLocation

log = logging.getLogger(__name__)

FOLDER = "correction"
NO_SITE = "(no site code)"

# What a technology center does about each quarantine check or warning (names from the
# suites in include/expectations) and each ineligibility reason. Unknown names fall back to
# a generic line, so a new check never breaks the report.
CHECK_ACTIONS = {
    "text_valid_utf8": "Retype the student's name and email and the entry's codes in CTIMS: "
                       "they hold characters that are not valid text (not UTF-8).",
    "email_present": "Enter the student's email address in CTIMS.",
    "email_well_formed": "Correct the student's email address (one @, no spaces).",
    "email_domain_well_formed": "Correct the domain of the student's email address.",
    "email_length": "Correct the student's email address (too short or too long).",
    "first_name_present": "Enter the student's first name.",
    "last_name_present": "Enter the student's last name.",
    "first_name_length": "Correct the student's first name (empty or over 100 characters).",
    "last_name_length": "Correct the student's last name (empty or over 100 characters).",
    "first_name_has_letters": "Correct the student's first name (no letters in it).",
    "last_name_has_letters": "Correct the student's last name (no letters in it).",
    "first_name_printable": "Retype the student's first name (invisible control characters).",
    "last_name_printable": "Retype the student's last name (invisible control characters).",
    "assessment_code_present": "Enter the assessment code.",
    "assessment_code_well_formed": "Correct the assessment code (letters then digits, "
                                   "e.g. CTTC12345).",
    "site_code_present": "Enter the nine-digit site code.",
    "site_code_nine_digits": "Correct the site code: nine digits, leading zeros kept.",
    "test_date_present": "Enter the test date.",
    "test_date_plausible": "Correct the test date (before 2000 or after the day processed).",
    "test_date_not_after_entry": "Correct the test date: it is after the day it was entered.",
    "student_id_present": "The entry has no student: re-enter it.",
    "certification_id_present": "Report to CareerTech data engineering (entry without id).",
    "certification_id_unique": "Report to CareerTech data engineering (id repeated).",
    "entered_more_than_once": "Check for a duplicate entry of the same test.",
    "test_date_outside_approval": "Check the test date against the assessment's approval.",
    "entered_long_after_test": "Check the test date: entered over a year after the test.",
}
# One line for every reason a row can be reported with (a test holds this to the enum).
REASON_ACTIONS = {
    Reason.DELETED: "Nothing: the entry was deleted in CTIMS.",
    Reason.NOT_APPROVED_ASSESSMENT: "Check the assessment code: it is not on the Approved "
                                    "Assessment list.",
    Reason.ASSESSMENT_NOT_EFFECTIVE: "Check the test date and assessment: the assessment was "
                                     "not approved on that date.",
    Reason.VENDOR_BADGE: "Nothing: the vendor issues this badge itself.",
    Reason.NO_ALIGNED_PROGRAM: "Check the student's enrollment: no approved program at an "
                               "accredited site covering this assessment, started by the "
                               "test date.",
    Reason.BEFORE_PROGRAM_LAUNCH: "Nothing: tests before the badge program began earn no "
                                  "badge.",
    Reason.NO_BADGE_TEMPLATE: "Nothing for the site: CareerTech must set up the Credly "
                              "template.",
    Reason.OPTED_OUT: "Nothing: the student opted out of badges.",
    Reason.DUPLICATE_ENTRY: "Remove the duplicate entry (the badge is issued once).",
    Reason.ALREADY_ISSUED: "Nothing: the badge was issued earlier.",
    Reason.PREVIOUSLY_FAILED: "CareerTech will retry; correct the entry if it is wrong.",
    Reason.FAILED_IN_OTHER_RUN: "CareerTech will retry; correct the entry if it is wrong.",
    Reason.ENTRY_REMOVED: "Nothing if the entry was removed on purpose: its badge was "
                          "revoked. Enter it again if it was removed by mistake.",
    Reason.ENTRY_REASSIGNED: "Nothing if the correction is right: the badge of the student "
                             "and assessment the entry named before was revoked.",
    Reason.NAME_CORRECTED: "Nothing: the badge was replaced by one with the corrected name.",
    Reason.EMAIL_CORRECTED: "Nothing: an unaccepted badge was sent again to the corrected "
                            "address; an accepted one stays with its earner.",
    Reason.EMAIL_BLANK: "Enter the student's email address in CTIMS (the badge stays as it is "
                        "meanwhile).",
    Reason.EMAIL_MALFORMED: "Correct the student's email address in CTIMS: one @ and a "
                            "domain with a dot (the badge stays as it is meanwhile).",
    Reason.NAME_BLANK: "Enter the student's first and last name in CTIMS (the badge stays as "
                       "it is meanwhile).",
    Reason.REVOKED_IN_CREDLY: "Someone revoked the badge in Credly: CareerTech decides "
                              "whether it is issued again.",
    Reason.DELETED_IN_CREDLY: "Someone deleted the badge in Credly: CareerTech decides "
                              "whether it is issued again.",
    Reason.NAME_MISMATCH: "Check the student's name in CTIMS: Credly holds a badge of this "
                          "assessment for the student's email issued to another name (a "
                          "family member's?). CareerTech decides whose it is.",
    Reason.SHARED_EMAIL: "Give the student an email of their own in CTIMS if you can: several "
                         "students use this address, and Credly holds a badge of this "
                         "assessment for it. CareerTech decides whose it is.",
    Reason.OTHER_EARNER: "Check the student's email in CTIMS: Credly holds a badge of this "
                         "assessment for it under another earner. CareerTech decides.",
    Reason.HELD_BY_DECISION: "Nothing for the site: CareerTech's operators held these entries "
                             "at the volume gate (a day's feed they rejected); they are issued "
                             "if the day is released.",
}
ACTIONS: dict[str, str] = {**CHECK_ACTIONS, **REASON_ACTIONS}
# The revocations a site is shown (pipeline/report/revocations.sql outcomes), in this order.
REVOCATION_STATES = {"revoked": "revoked", "held": "held for approval",
                     "would_revoke": "would be revoked (not a nightly run)",
                     "needs_review": "kept, for CareerTech to review (only a reference "
                                     "table refuses it now)",
                     "recipient_unknown": "kept; the student's record needs fixing"}


@dataclass(frozen=True)
class AcceptanceRow:
    """A site's badges of one program and assessment as Credly has them (view
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


def collect(conn: psycopg.Connection, run: RunInfo) -> CorrectionData:
    """Read the run's quarantined, ineligible, held and warned rows, the badges it revoked (or
    held, or would revoke), its checks and the trend."""
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
    collect_acceptance(conn, section)
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


def collect_acceptance(conn: psycopg.Connection, section) -> None:
    """Each site's acceptance, unaccepted badges and badges changed in Credly by someone
    else, into `section(site_code)` (docs/credly-sync.md)."""
    for site, program, assessment, *counts, rate, median in db.execute(
            conn, "reports/correction/acceptance.sql"):
        section(site).acceptance.append(AcceptanceRow(
            program, assessment, *counts, None if rate is None else float(rate),
            None if median is None else round(float(median), 1)))
    for site, cert_id, assessment, days in db.execute(
            conn, "reports/correction/unaccepted.sql", {"days": UNACCEPTED_AFTER_DAYS}):
        section(site).unaccepted.append((cert_id, assessment, days))
    for site, cert_id, assessment, state in db.execute(
            conn, "reports/correction/changed_in_credly.sql"):
        section(site).changed_in_credly.append((cert_id, assessment, state))


def _table_level_failures(result: dict[str, Any]) -> list[str]:
    found = []
    for item in result.get("results", []):
        meta = item["expectation_config"].get("meta") or {}
        if not item["success"] and meta.get("table_level"):
            observed = item["result"].get("observed_value")
            found.append(f"{meta.get('check')} (observed {observed})")
    return found


def write(conn: psycopg.Connection, run: RunInfo, location: ReportLocation, *,
          docs_pages: dict[str, str] | None = None, ctims: str = db.CTIMS_CONN_ID) -> str:
    """Write the run's report and the index of recent reports.

    Args:
        conn: a badging_db connection.
        run: the run reported on.
        location: where the reports go.
        docs_pages: the run's Data Docs pages by suite, relative to the location's root.
        ctims: the CTIMS connection id or DSN the names are read from.

    Returns:
        Where the run's report is (a path, or a URL for a remote location).
    """
    data = collect(conn, run)
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


# --- The pages: view models here, markup in include/templates/correction -----------------


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


@cache
def templates() -> jinja2.Environment:
    """The Jinja2 templates under include/templates (autoescaped): the reports and messages."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(sql.include_dir() / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)


def _render(template: str, view: ReportView | IndexView) -> str:
    return templates().get_template(template).render(v=view, title=view.title)


def render(data: CorrectionData, *, up: str = "../") -> str:
    """The run's report as one self-contained HTML page (inline CSS and SVG, no scripts).

    `up` leads from the page to the report root (links to the index and Data Docs).
    """
    return _render("correction/report.html.j2", report_view(data, up=up))


def render_index(data: CorrectionData) -> str:
    """The index of recent reports, newest first, with the trend chart."""
    return _render("correction/index.html.j2", index_view(data))


def chart(history: list[dict[str, Any]]) -> str:
    """The trend chart alone: stacked bars per day (inline SVG) and its legend."""
    macro = templates().get_template("correction/_chart.html.j2").module.chart
    return str(macro(geometry(history))).strip()
