"""The correction report: per technology center, which entries to fix and why (ids only)."""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any

import psycopg

from badging import db
from badging.constants import TERMINAL_EVENTS, Event
from badging.report_location import ReportLocation
from badging.run import RunInfo

log = logging.getLogger(__name__)

FOLDER = "correction"
HISTORY_RUNS = 30
NO_SITE = "(no site code)"

# What a technology center does about each quarantine check or ineligibility reason.
# Unknown names fall back to a generic line, so a new check never breaks the report.
ACTIONS = {
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
    "deleted": "Nothing: the entry was deleted in CTIMS.",
    "not_approved_assessment": "Check the assessment code: it is not on the Approved "
                               "Assessment list.",
    "assessment_not_effective": "Check the test date and assessment: the assessment was not "
                                "approved on that date.",
    "vendor_badge": "Nothing: the vendor issues this badge itself.",
    "no_aligned_program": "Check the student's enrollment: no approved program at an "
                          "accredited site covering this assessment, started by the test date.",
    "before_program_launch": "Nothing: tests before the badge program began earn no badge.",
    "no_badge_template": "Nothing for the site: CareerTech must set up the Credly template.",
    "opted_out": "Nothing: the student opted out of badges.",
    "duplicate_entry": "Remove the duplicate entry (the badge is issued once).",
    "already_issued": "Nothing: the badge was issued earlier.",
    "previously_failed": "CareerTech will retry; correct the entry if it is wrong.",
    "entered_more_than_once": "Check for a duplicate entry of the same test.",
    "test_date_outside_approval": "Check the test date against the assessment's approval.",
    "entered_long_after_test": "Check the test date: entered over a year after the test.",
}
# Chart colours: issued, quarantined, then one per ineligibility reason (colour-blind safe
# first, then greys).
_ISSUED, _QUARANTINED = "#1b7837", "#d73027"
_REASON_COLOURS = ("#4575b4", "#fdae61", "#74add1", "#f46d43", "#abd9e9", "#fee090",
                   "#8073ac", "#b35806", "#542788", "#999999", "#bbbbbb", "#666666")


@dataclass
class SiteSection:
    """One technology center's rows: (outcome, reason) -> certification ids."""

    site: str
    groups: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    warnings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def to_review(self) -> int:
        return sum(len(ids) for ids in self.groups.values())


@dataclass
class CorrectionData:
    """Everything the report shows; ids, site codes, reasons and counts, nothing else."""

    run: RunInfo
    sites: dict[str, SiteSection]
    dq_problems: list[str]
    history: list[dict[str, Any]]
    docs_pages: dict[str, str] = field(default_factory=dict)

    def totals(self) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for section in self.sites.values():
            for key, ids in section.groups.items():
                counts[key] += len(ids)
        return counts


def report_path(day: date, run_id: str) -> str:
    """The run's report, relative to the report location (a run id made file-name safe)."""
    return f"{FOLDER}/{day.isoformat()}/{re.sub(r'[^A-Za-z0-9._-]+', '_', run_id)}.html"


def collect(conn: psycopg.Connection, run: RunInfo) -> CorrectionData:
    """Read the run's quarantined, ineligible and warned rows, its checks and the trend."""
    params = {"run_id": run.run_id, "terminal_events": [str(e) for e in TERMINAL_EVENTS],
              "events": [str(Event.QUARANTINED), str(Event.INELIGIBLE)]}
    sites: dict[str, SiteSection] = {}

    def section(site_code: str | None) -> SiteSection:
        site = site_code or NO_SITE
        return sites.setdefault(site, SiteSection(site))

    for cert_id, event, reason, site_code, checks in db.execute(
            conn, "report/correction_rows.sql", params):
        key = ", ".join(sorted(checks or [])) if event == Event.QUARANTINED else reason or ""
        section(site_code).groups[(event, key)].append(cert_id)
    for cert_id, site_code, checks in db.execute(conn, "report/row_warnings.sql", params):
        for check in checks:
            section(site_code).warnings[check].append(cert_id)
    problems = []
    for suite, _severity, success, reason, result in db.execute(
            conn, "report/dq_results.sql", params):
        if reason:
            problems.append(reason)
        if not success:
            problems += [f"{suite}: {check}" for check in _table_level_failures(result)]
    cursor = db.execute(conn, "report/history.sql", {"day": run.day, "runs": HISTORY_RUNS})
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


def write(conn: psycopg.Connection, run: RunInfo, location: ReportLocation, *,
          docs_pages: dict[str, str] | None = None) -> str:
    """Write the run's report and the index of recent reports.

    Args:
        conn: a badging_db connection.
        run: the run reported on.
        location: where the reports go.
        docs_pages: the run's Data Docs pages by suite, relative to the location's root.

    Returns:
        Where the run's report is (a path, or a URL for a remote location).
    """
    data = collect(conn, run)
    data.docs_pages = docs_pages or {}
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


# --- HTML ----------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1180px;color:#1d2733;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid
#e3e7ec;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
.muted{color:#5b6773}.ok{color:#1b7837}.bad{color:#b2182b;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #d5dbe1;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f7}td.n{text-align:right;width:60px}td.ids{font-family:ui-monospace,
Menlo,Consolas,monospace;font-size:13px;word-break:break-word}
.banner{padding:10px 14px;border-radius:6px;margin:12px 0}
.banner.red{background:#fde0dc;border:1px solid #d73027}.banner.green{background:#e0f3e5;
border:1px solid #1b7837}
.legend span{display:inline-block;margin:2px 14px 2px 0}.legend i{display:inline-block;
width:12px;height:12px;margin-right:5px;vertical-align:-1px}
nav a{margin-right:14px}tr.fix td{background:#fff1ef}tr.info td{color:#6b7680}
"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def render(data: CorrectionData, *, up: str = "../") -> str:
    """The run's report as one self-contained HTML page (inline CSS and SVG, no scripts).

    `up` leads from the page to the report root (links to the index and Data Docs).
    """
    run = data.run
    totals = data.totals()
    quarantined = sum(n for (event, _), n in totals.items() if event == Event.QUARANTINED)
    ineligible = sum(n for (event, _), n in totals.items() if event == Event.INELIGIBLE)
    parts = [
        f"<h1>Real-Time entries to correct — {run.day:%A %d %B %Y}</h1>",
        f"<p class=\"muted\">Run <code>{escape(run.run_id)}</code>"
        f"{' (dry run)' if run.dry_run else ''}. Certification ids only: look the entries up "
        f"in CTIMS. <a href=\"{up}{FOLDER}/index.html\">All reports</a>"
        + "".join(f" · <a href=\"{escape(up + page)}\">Data Docs: {escape(suite)}</a>"
                  for suite, page in sorted(data.docs_pages.items()))
        + "</p>",
    ]
    if data.dq_problems:
        parts.append("<div class=\"banner red\"><b>Data quality alert:</b> "
                     + "; ".join(escape(p) for p in data.dq_problems) + "</div>")
    else:
        parts.append("<div class=\"banner green\">The feed passed its table-level checks.</div>")
    parts.append(f"<p><b>{quarantined}</b> entries quarantined (they broke a check and were "
                 f"not processed) and <b>{ineligible}</b> ineligible (processed, no badge), at "
                 f"<b>{sum(1 for s in data.sites.values() if s.to_review)}</b> sites.</p>")
    parts.append(f"<h2>Last {HISTORY_RUNS} days with a run</h2>" + chart(data.history))
    parts.append("<h2>By reason</h2>" + _reason_table(totals))
    parts.append("<h2>By site</h2>")
    if not data.sites:
        parts.append("<p>Nothing to correct.</p>")
    else:
        parts.append(_glance(data))
    for section in data.sites.values():
        parts.append(_site_html(section))
    return _page(f"Corrections {run.day}", "".join(parts))


def _reason_table(totals: Counter[tuple[str, str]]) -> str:
    if not totals:
        return "<p>None.</p>"
    rows = "".join(
        f"<tr><td>{escape(event)}</td><td>{escape(reason)}</td><td class=\"n\">{count}</td></tr>"
        for (event, reason), count in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"<table><tr><th>outcome</th><th>reason</th><th>rows</th></tr>{rows}</table>"


def _glance(data: CorrectionData) -> str:
    """One line per site, most entries to fix first, linking to its section."""
    lines = []
    for section in data.sites.values():
        fix = sum(len(ids) for (event, reason), ids in section.groups.items()
                  if not _informational(reason))
        lines.append((-fix, section.site, fix, section.to_review,
                      sum(len(ids) for ids in section.warnings.values())))
    rows = "".join(
        f"<tr><td><a href=\"#site-{escape(site)}\">{escape(site)}</a></td>"
        f"<td class=\"n\">{fix}</td><td class=\"n\">{review}</td><td class=\"n\">{warned}"
        "</td></tr>" for _, site, fix, review, warned in sorted(lines))
    return ("<table><tr><th>site</th><th>to fix</th><th>all listed</th><th>warnings</th></tr>"
            f"{rows}</table>")


def _informational(reason: str) -> bool:
    """Rows nobody at the site can act on (deleted, vendor badge, opted out, ...)."""
    return _action(reason).startswith("Nothing")


def _action(reason: str) -> str:
    lines = [ACTIONS.get(name.strip(), "Check the entry.") for name in reason.split(",")]
    return " ".join(dict.fromkeys(lines))


def _site_html(section: SiteSection) -> str:
    site = escape(section.site)
    rows = []
    # Quarantined rows first (they must be fixed), rows nobody can act on last.
    for (event, reason), ids in sorted(section.groups.items(), key=lambda kv: (
            _informational(kv[0][1]), kv[0][0] != Event.QUARANTINED, kv[0])):
        shade = " info" if _informational(reason) else (
            " fix" if event == Event.QUARANTINED else "")
        rows.append(
            f"<tr class=\"group{shade}\" data-site=\"{site}\" data-outcome=\"{escape(event)}\" "
            f"data-reason=\"{escape(reason)}\"><td>{escape(event)}</td>"
            f"<td>{escape(reason)}</td><td>{escape(_action(reason))}</td>"
            f"<td class=\"n\">{len(ids)}</td>"
            f"<td class=\"ids\">{' '.join(str(i) for i in sorted(ids))}</td></tr>")
    html = [f"<h3 id=\"site-{site}\">Site {site} — {section.to_review} to review</h3>"]
    if rows:
        html.append("<table><tr><th>outcome</th><th>reason</th><th>what to do</th>"
                    "<th>rows</th><th>certification ids</th></tr>" + "".join(rows) + "</table>")
    if section.warnings:
        warn = "".join(
            f"<tr class=\"warning\" data-site=\"{site}\" data-check=\"{escape(check)}\">"
            f"<td>{escape(check)}</td><td>{escape(_action(check))}</td>"
            f"<td class=\"n\">{len(ids)}</td>"
            f"<td class=\"ids\">{' '.join(str(i) for i in sorted(ids))}</td></tr>"
            for check, ids in sorted(section.warnings.items()))
        html.append("<p class=\"muted\">Warnings (processed as usual; worth a look):</p>"
                    "<table><tr><th>check</th><th>what to do</th><th>rows</th>"
                    f"<th>certification ids</th></tr>{warn}</table>")
    return "".join(html)


def chart(history: list[dict[str, Any]], *, width: int = 1120, height: int = 300) -> str:
    """Stacked bars per day: issued, quarantined, ineligible by reason; inline SVG."""
    if not history:
        return "<p>No runs yet.</p>"
    reasons = sorted({r for h in history for r in (h["ineligible_by_reason"] or {})})
    series = [("issued", _ISSUED), ("quarantined", _QUARANTINED)] + [
        (f"ineligible: {r}", _REASON_COLOURS[i % len(_REASON_COLOURS)])
        for i, r in enumerate(reasons)]

    def values(h: dict[str, Any]) -> list[int]:
        by_reason = h["ineligible_by_reason"] or {}
        return [h["issued"], h["quarantined"], *(by_reason.get(r, 0) for r in reasons)]

    step = _nice_step(max(1, *(sum(values(h)) for h in history)) / 4)
    top = step * 4
    left, bottom, plot_h = 56, 46, height - 66
    # Room for HISTORY_RUNS bars whatever the history, so a new deployment's first days
    # do not turn into slabs; the bars start at the left.
    slot = (width - left - 10) / max(len(history), HISTORY_RUNS)
    bar = max(4.0, slot * 0.7)
    svg = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
           f"role=\"img\" aria-label=\"Rows per outcome, last {len(history)} days\" "
           "font-family=\"system-ui,sans-serif\" font-size=\"12\">"]
    for tick in range(5):
        value = step * tick
        y = height - bottom - plot_h * tick / 4
        svg.append(f"<line x1=\"{left}\" x2=\"{width - 10}\" y1=\"{y:.1f}\" y2=\"{y:.1f}\" "
                   "stroke=\"#e3e7ec\"/>"
                   f"<text x=\"{left - 6}\" y=\"{y + 4:.1f}\" text-anchor=\"end\" "
                   f"fill=\"#5b6773\">{value}</text>")
    # Labels are turned so that one fits under every bar of a full 30-day chart.
    label_every = max(1, round(len(history) / HISTORY_RUNS))
    for index, h in enumerate(history):
        x = left + index * slot + (slot - bar) / 2
        y = height - bottom
        for (name, colour), value in zip(series, values(h), strict=True):
            if not value:
                continue
            bar_h = plot_h * value / top
            y -= bar_h
            svg.append(f"<rect x=\"{x:.1f}\" y=\"{y:.1f}\" width=\"{bar:.1f}\" "
                       f"height=\"{bar_h:.1f}\" fill=\"{colour}\"><title>{h['logical_date']}: "
                       f"{escape(name)} {value}</title></rect>")
        if index % label_every == 0 or index == len(history) - 1:
            label_x, label_y = x + bar / 2, height - bottom + 14
            svg.append(f"<text x=\"{label_x:.1f}\" y=\"{label_y}\" text-anchor=\"end\" "
                       f"transform=\"rotate(-40 {label_x:.1f} {label_y})\" fill=\"#1d2733\">"
                       f"{h['logical_date']:%m-%d}</text>")
    svg.append("</svg>")
    legend = "".join(f"<span><i style=\"background:{colour}\"></i>{escape(name)}</span>"
                     for name, colour in series)
    return "".join(svg) + f"<div class=\"legend\">{legend}</div>"


def _nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `raw` (axis ticks)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= raw:
                return factor * power
        power *= 10


def render_index(data: CorrectionData) -> str:
    """The index of recent reports, newest first, with the latest run's headline counts."""
    rows = []
    for h in reversed(data.history):
        link = report_path(h["logical_date"], h["run_id"]).removeprefix(f"{FOLDER}/")
        status = ("<span class=\"ok\">ok</span>" if h["dq_success"]
                  else "<span class=\"bad\">alert</span>")
        rows.append(f"<tr><td><a href=\"{escape(link)}\">{h['logical_date']}</a></td>"
                    f"<td class=\"n\">{h['staged']}</td><td class=\"n\">{h['issued']}</td>"
                    f"<td class=\"n\">{h['quarantined']}</td><td class=\"n\">{h['warned']}</td>"
                    f"<td>{status}</td></tr>")
    body = ("<h1>Real-Time correction reports</h1><nav><a href=\"latest.html\">Latest report"
            "</a></nav>" + chart(data.history)
            + "<table><tr><th>day</th><th>rows</th><th>issued</th><th>quarantined</th>"
              "<th>warnings</th><th>data quality</th></tr>" + "".join(rows) + "</table>")
    return _page("Correction reports", body)
