"""The Runs and Sites pages, and the reports the console serves by run id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from badging.console import source
from badging.console.links import Links
from badging.core.constants import Event, Reason, RevocationState
from badging.reports.location import ReportLocation

MAX_RUNS = 120
# Revocations a site's contact may need to hear about: waiting for an operator, or failed.
OPEN_REVOCATION_STATES = (RevocationState.HELD, RevocationState.FAILED)


@dataclass(frozen=True)
class RunRow:
    """One run summary, with links to Airflow and to the reports the console serves."""

    summary: dict[str, Any]
    run_link: str
    report_link: str | None
    data_docs_link: str | None

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "run_link": self.run_link,
                "correction_report": self.report_link, "data_docs": self.data_docs_link}


@dataclass(frozen=True)
class SiteRow:
    """One technology center's open items and its newest report."""

    site_code: str
    quarantined: int
    ineligible_to_fix: int
    revocations_open: int
    latest_run_id: str | None
    latest_day: Any
    report_link: str | None

    @property
    def open_items(self) -> int:
        return self.quarantined + self.ineligible_to_fix + self.revocations_open

    def to_json(self) -> dict[str, Any]:
        return {**vars(self), "open_items": self.open_items}


def runs(conn: Any, links: Links, limit: int = MAX_RUNS) -> list[RunRow]:
    """The run summaries, newest day first."""
    found = []
    for row in source.rows(conn, "console/runs.sql", {"limit": limit}):
        run_id = row["run_id"]
        found.append(RunRow(
            {k: v for k, v in row.items() if not k.startswith("has_")}, links.run(run_id),
            links.correction_report(run_id) if row["has_report"] else None,
            links.data_docs(run_id) if row["has_data_docs"] else None))
    return found


def fixable_reasons() -> list[str]:
    """The ineligibility reasons a technology center can act on (not "Nothing: …")."""
    from badging.reports.actions import REASON_ACTIONS

    return [str(r) for r in Reason if not REASON_ACTIONS[r].startswith("Nothing")]


def _open_item_params() -> dict[str, Any]:
    return {"quarantined": str(Event.QUARANTINED), "ineligible": str(Event.INELIGIBLE),
            "fixable_reasons": fixable_reasons(),
            "open_revocation_states": [str(s) for s in OPEN_REVOCATION_STATES]}


def sites(conn: Any, links: Links) -> list[SiteRow]:
    """Per site, the open items and the newest correction report that covers it."""
    params = _open_item_params()
    return [SiteRow(row["site_code"] or "(no site code)", row["quarantined"],
                    row["ineligible_to_fix"], row["revocations_open"], row["latest_run_id"],
                    row["latest_day"],
                    links.correction_report(row["latest_run_id"]) + f"#site-{row['site_code']}"
                    if row["has_report"] else None)
            for row in source.rows(conn, "console/sites.sql", params)]


@dataclass(frozen=True)
class SiteItem:
    """One open item of a site: an entry to fix, or a badge whose revocation is stuck."""

    certification_id: int | None
    outcome: str
    reason: str | None
    action: str | None
    assessment_code: str | None
    program_code: str | None
    day: Any
    run_id: str | None
    lookup_link: str | None
    # None for what the nightly check keeps for a person (since `day`, not one run's).
    run_link: str | None

    def to_json(self) -> dict[str, Any]:
        return vars(self)


def site_items(conn: Any, site_code: str, links: Links) -> list[SiteItem]:
    """The open items of one site (what its morning list links to), newest first."""
    from badging.console.trail import action_for

    found = []
    for row in source.rows(conn, "console/site_items.sql",
                           {"site_code": site_code, **_open_item_params()}):
        reason = ", ".join(row["expectations"]) if row["expectations"] else row["reason"]
        cid = row["certification_id"]
        found.append(SiteItem(cid, row["outcome"], reason, action_for(reason),
                              row["assessment_code"], row["program_code"],
                              row["logical_date"], row["run_id"],
                              links.certification(cid) if cid else None,
                              links.run(row["run_id"]) if row["run_id"] else None))
    return found


class ReportNotFound(Exception):
    """The run has no such report, or it is not under the report location."""


def correction_report(conn: Any, run_id: str,
                      location: ReportLocation | None = None) -> bytes:
    """The bytes of a run's correction report (one self-contained page), found by run id.

    The path comes from the run summary, never from the client, and must lie under the
    configured report location.

    Raises:
        ReportNotFound: no such run or report, or a recorded path outside the location.
    """
    location = location or ReportLocation.configured()
    where = _recorded(conn, run_id, "report_location")
    if location.remote:
        root = location.root.rstrip("/") + "/"
        if not where.startswith(root) or "/../" in where:
            raise ReportNotFound("the report is not under the report location")
        import fsspec

        with fsspec.open(where, "rb") as handle:
            return handle.read()
    path, root = Path(where).resolve(), Path(location.root).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise ReportNotFound("the report is not under the report location")
    return path.read_bytes()


def data_docs_index(conn: Any, run_id: str, location: ReportLocation | None = None) -> str:
    """The Data Docs index the run wrote, relative to the site's folder (for a redirect).

    Raises:
        ReportNotFound: no such run or site, a remote location (its own URL is the way to
            it), or a recorded path outside the location.
    """
    from badging.reports.data_docs import SITE_FOLDER

    location = location or ReportLocation.configured()
    where = _recorded(conn, run_id, "data_docs_location")
    if location.remote:
        raise ReportNotFound(f"Data Docs are at {where}")
    site = (Path(location.root) / SITE_FOLDER).resolve()
    path = Path(where).resolve()
    if not path.is_relative_to(site) or not path.is_file():
        raise ReportNotFound("the Data Docs are not under the report location")
    return path.relative_to(site).as_posix()


def data_docs_files(location: ReportLocation | None = None) -> dict[str, Path]:
    """Every file of the Data Docs site, by its path in the site: what the console may serve.

    A client names a key of this listing; the console opens only the files listed, all
    found under the report location by the server (docs/console.md).
    """
    from badging.reports.data_docs import SITE_FOLDER

    location = location or ReportLocation.configured()
    if location.remote:
        return {}
    site = (Path(location.root) / SITE_FOLDER).resolve()
    return {path.relative_to(site).as_posix(): path for path in site.rglob("*")
            if path.is_file() and not path.is_symlink()}


def _recorded(conn: Any, run_id: str, column: str) -> str:
    found = source.rows(conn, "console/run_reports.sql", {"run_id": run_id})
    where = found[0][column] if found else None
    if not where:
        raise ReportNotFound("the run has no such report")
    return where
