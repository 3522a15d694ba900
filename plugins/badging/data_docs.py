"""Data Docs: a GX site rebuilt from the scrubbed results validate stored in the database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg

from badging import db
from badging.report_location import ReportLocation

log = logging.getLogger(__name__)

SITE_FOLDER = "data_docs"
SITE_NAME = "badging"
# Runs the site's index lists; older pages stay on disk but drop out of the index.
KEEP_RUNS = 30
# GX names a result page after its batch; one batch per run here.
_BATCH_ID = "staged-realtime_certifications"


@dataclass(frozen=True)
class DocsSite:
    """Where the site's index is, and the run's result pages relative to the report root."""

    index: str
    run_pages: dict[str, str]


def build(conn: psycopg.Connection, location: ReportLocation, run_id: str, *,
          keep_runs: int = KEEP_RUNS) -> DocsSite:
    """Rebuild the Data Docs site from the last `keep_runs` runs' stored results.

    The results come from badging.dq_result, not from files, so the report task can run
    on any worker; they were scrubbed of offending values before they were stored.

    Args:
        conn: a badging_db connection.
        location: where the site goes (its `data_docs` folder).
        run_id: the run whose result pages to return.
        keep_runs: how many runs the index lists.

    Returns:
        The index page (a path, or a URL for a remote location) and the run's pages by suite.
    """
    from badging.data_docs_site import site_config
    from badging.validate import ephemeral_gx_context, load_suite

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

    stored = db.execute(conn, "report/recent_dq_results.sql", {"runs": keep_runs}).fetchall()
    for suite_name in sorted({suite for _, suite, _ in stored}):
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
    with location.writing(SITE_FOLDER) as folder:
        context.add_data_docs_site(SITE_NAME, site_config(folder))
        context.build_data_docs(site_names=[SITE_NAME])
        pages = {}
        for suite_name, key in this_run.items():
            [site] = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME)
            page = Path(unquote(urlsplit(site["site_url"]).path)).resolve().relative_to(
                folder.resolve())
            pages[suite_name] = f"{SITE_FOLDER}/{page.as_posix()}"
    index = location.url(f"{SITE_FOLDER}/index.html")
    log.info("Data Docs rebuilt from %d stored results: %s", len(stored), index)
    return DocsSite(index, pages)
