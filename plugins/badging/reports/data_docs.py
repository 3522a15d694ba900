"""Data Docs: a GX site written from the scrubbed results validate stored in the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

from badging.core import db
from badging.reports.location import ReportLocation

log = logging.getLogger(__name__)

SITE_FOLDER = "data_docs"
SITE_NAME = "badging"
# Runs the site's index lists; older pages stay on disk but drop out of the index.
KEEP_RUNS = 30
# GX names a result page after its batch; one batch per run here.
_BATCH_ID = "staged-realtime_certifications"
INDEX = f"{SITE_FOLDER}/index.html"


@dataclass(frozen=True)
class DocsSite:
    """Where the site's index is, and the run's result pages relative to the report root."""

    index: str
    run_pages: dict[str, str]


def publish(conn: psycopg.Connection, location: ReportLocation, run_id: str, *,
            keep_runs: int = KEEP_RUNS) -> DocsSite:
    """Write the run's Data Docs pages and the site's index, and record the pages.

    The results come from badging.dq_result, not from files, so any worker can write the
    site; they were scrubbed of offending values before they were stored. Only the run's
    own result pages (and the suites' pages) are rendered: the pages of earlier runs are on
    the site already. A site without its index (a new location) gets every stored run.
    `validate` calls this while Great Expectations is loaded; `report` only when a run's
    pages are missing (docs/performance.md).

    Args:
        conn: a badging_db connection; the pages are recorded in it (committed).
        location: where the site goes (its `data_docs` folder).
        run_id: the run whose result pages to write.
        keep_runs: how many runs the index lists.

    Returns:
        The index page (a path, or a URL for a remote location) and the run's pages by suite.
    """
    from badging.pipeline.validate import ephemeral_gx_context, load_suite
    from badging.reports.data_docs_site import site_config

    context = ephemeral_gx_context()
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    stored = db.execute(conn, "reports/data_docs/recent_dq_results.sql",
                        {"runs": keep_runs}).fetchall()
    suites = sorted({suite for _, suite, _ in stored})
    for suite_name in suites:
        context.suites.add(gx.ExpectationSuite(**load_suite(suite_name)))
    this_run = {}
    for stored_run, suite_name, result in stored:
        run = result["meta"]["run_id"]
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=RunIdentifier(run_name=run["run_name"],
                                 run_time=datetime.fromisoformat(run["run_time"])),
            batch_identifier=_BATCH_ID)
        context.validation_results_store.set(key, ExpectationSuiteValidationResult(**result))
        if stored_run == run_id:
            this_run[suite_name] = key
    incremental = location.exists(INDEX)
    with location.writing(SITE_FOLDER) as folder:
        context.add_data_docs_site(SITE_NAME, site_config(folder))
        # The index is rebuilt from every stored result either way (it lists them all).
        only = ([*this_run.values(), *(ExpectationSuiteIdentifier(name=s) for s in suites)]
                if incremental else None)
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=only)
        pages = {}
        for suite_name, key in this_run.items():
            [site] = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME)
            page = Path(unquote(urlsplit(site["site_url"]).path)).resolve().relative_to(
                folder.resolve())
            pages[suite_name] = f"{SITE_FOLDER}/{page.as_posix()}"
    for suite_name, page in pages.items():
        db.execute(conn, "reports/data_docs/set_docs_page.sql",
                   {"run_id": run_id, "suite": suite_name, "docs_page": page})
    conn.commit()
    index = location.url(INDEX)
    log.info("Data Docs: %s the run's %d pages (%d stored results in the index): %s",
             "added" if incremental else "rebuilt the site with", len(pages), len(stored), index)
    return DocsSite(index, pages)


def run_pages(conn: psycopg.Connection, location: ReportLocation, run_id: str) -> DocsSite:
    """The run's Data Docs, written by `validate`; written here if they are missing (the
    report folder failed during validate, or results came from an older release)."""
    found = dict(db.execute(conn, "reports/data_docs/docs_pages.sql",
                            {"run_id": run_id}).fetchall())
    if not found:
        # Nothing validated in this run (it stopped before validate): the site as it is.
        return DocsSite(location.url(INDEX), {})
    if None in found.values():
        return publish(conn, location, run_id)
    return DocsSite(location.url(INDEX), found)
