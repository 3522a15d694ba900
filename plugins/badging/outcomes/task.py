"""The report task's part in the outcomes: Airflow's connections in, the alert out."""

from __future__ import annotations

import logging
from typing import Any

from badging.core.run import RunInfo

log = logging.getLogger(__name__)

CREDLY_CONN_ID = "credly_api"


def keep_outcomes(context: dict[str, Any], run: RunInfo) -> Exception | None:
    """Keep the console's figures for this run (outcomes.keep) and mail the operators the
    template problems that appeared; returns the error to raise once the run summary is
    written, None when all went well.

    Credly is read only where the run may call it: not in dry runs (they call nothing) nor
    backfills (a backfill's days would read the same list once per day).
    """
    from airflow.sdk import BaseHook

    from badging.notify.alerts import alert_template_health
    from badging.outcomes.health import token_facts
    from badging.outcomes.keep import keep

    templates = token = None
    try:
        extra = BaseHook.get_connection(CREDLY_CONN_ID).extra_dejson or {}
        token = token_facts(extra)
        if not (run.dry_run or run.is_backfill):
            from badging.credly.hook import CredlyHook

            # Two tries, short reads: a report is not held up by Credly for a health check.
            templates = CredlyHook(CREDLY_CONN_ID, max_attempts=2,
                                   read_timeout=15.0).get_conn().list_templates
    except Exception as error:  # no Credly connection: the figures are kept without it
        log.warning("outcomes: no Credly connection to read (%s)", type(error).__name__)
    try:
        kept = keep(run, templates=templates, token=token or (None, None))
    except Exception as error:
        from badging.core.errors import ReportNotWritten

        log.error("outcomes: the console's figures were not kept (%s)", type(error).__name__)
        # The class only: a database error's DETAIL line can echo a row.
        return ReportNotWritten(f"the console's outcome figures were not kept "
                                f"({type(error).__name__}); the next report catches up")
    if kept.new_findings:
        alert_template_health(context, kept.new_findings)
    return None
