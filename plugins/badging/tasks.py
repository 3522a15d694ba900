"""The DAG's task bodies: turn an Airflow context into calls on the pipeline modules.

Each function returns what goes to XCom: counts and batch keys, never rows or student data.
Failures that a retry cannot fix raise AirflowFailException so Airflow does not retry them.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any

from badging.run import RunInfo, run_type

log = logging.getLogger(__name__)

CREDLY_CONN_ID = "credly_api"


@contextmanager
def _no_retry_for(*errors: type[Exception]):
    """Re-raise these errors as AirflowFailException: a retry would fail the same way."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except errors as error:
        raise AirflowFailException(str(error)) from error


def _backfill(context: dict[str, Any]) -> bool:
    """Whether the run is a backfill's (checked before a task imports what it would use)."""
    from badging.constants import RUN_TYPE_BACKFILL

    return run_type(context) == RUN_TYPE_BACKFILL


# Tasks that some runs give nothing to do. decide_eligibility, upstream of all three, skips
# them in such a run before each starts a process (1–2 s of a backfill day's few seconds);
# each still asks when it runs, as one cleared by hand does (docs/run-cost.md).
SKIPPABLE_TASKS = ("sync_credly", "check_badges", "notify_sites")


def idle_reason(task_id: str, context: dict[str, Any]) -> str | None:
    """Why the task has nothing to do in this run, or None when it has work."""
    run = RunInfo.from_context(context)
    kind = run_type(context)
    backfill = _backfill(context)
    if task_id == "check_badges" and backfill:
        return "a backfill never revokes: the next scheduled or manual run checks every badge"
    if task_id == "sync_credly" and (run.dry_run or backfill):
        return (f"no Credly sync in a {kind} run (dry_run {run.dry_run}): a dry run changes "
                "no ledger, a backfill would read the same badges once per day")
    if task_id == "notify_sites" and (run.dry_run or run.is_range or backfill
                                      or not context["params"]["send_site_lists"]):
        return (f"no morning lists from this run ({kind} run, history load {run.is_range}, "
                f"dry_run {run.dry_run}, send_site_lists "
                f"{context['params']['send_site_lists']})")
    return None


def _skip_idle_tasks(context: dict[str, Any], result: Any) -> None:
    """Skip the SKIPPABLE_TASKS this run gives nothing to do; the task ends green with
    `result` as its XCom."""
    idle = [task_id for task_id in SKIPPABLE_TASKS if idle_reason(task_id, context)]
    if not idle:
        return
    from airflow.sdk.exceptions import DownstreamTasksSkipped

    log.info("skipped, nothing to do in this run: %s", ", ".join(idle))
    # The exception ends the task without its return value: keep the counts in XCom.
    context["ti"].xcom_push(key="return_value", value=result)
    raise DownstreamTasksSkipped(tasks=idle)


def extract(context: dict[str, Any]) -> dict[str, Any]:
    from badging.extract import extract as extract_rows

    run = RunInfo.from_context(context)
    staged = extract_rows(run)
    return {"day": run.day.isoformat(), "window_start": run.window_start.isoformat(),
            "window_end": run.window_end.isoformat(), "staged": staged}


def validate(context: dict[str, Any]) -> dict[str, Any]:
    from badging.errors import DataQualityError
    from badging.validate import validate as validate_rows

    run = RunInfo.from_context(context)
    with _no_retry_for(DataQualityError):
        outcome = validate_rows(run, max_failed_share=float(context["params"]["max_failed_share"]),
                                validation_prefix=context["dag"].dag_id)
    return outcome.as_xcom()


def decide_eligibility(context: dict[str, Any]) -> dict[str, int]:
    from badging.eligibility import decide

    launch = date.fromisoformat(context["params"]["program_launch"])
    decided = decide(RunInfo.from_context(context), program_launch=launch)
    _skip_idle_tasks(context, decided)
    return decided


def plan(context: dict[str, Any]) -> list[dict[str, int]]:
    from badging.credly.hook import CredlyHook
    from badging.errors import ConfigurationError
    from badging.ledger import batch_templates, refuse_templates_allowing_duplicates
    from badging.ledger import plan as plan_badges

    params = context["params"]
    run = RunInfo.from_context(context)
    hook = CredlyHook(CREDLY_CONN_ID)
    slots, concurrency = int(params["pool_slots"]), int(params["concurrency"])
    adopt = None
    if params.get("adopt_existing"):
        from badging.adoption import adopt as adopt_badges

        # plan holds one credly_api slot, worth `concurrency` calls in flight (pools.json):
        # the list is read that many pages at a time, never more.
        adopt = partial(adopt_badges, client=hook.get_conn(), concurrency=concurrency)
    with _no_retry_for(ConfigurationError):
        secret = hook.earner_id_secret()
        # A backfill's days run side by side and fill the pool between them: a day in
        # fewer, fuller batches starts fewer task processes (docs/run-cost.md).
        waves_of = 1 if _backfill(context) else slots
        batches, _ = plan_badges(run, earner_id_secret=secret,
                                 batch_size=int(params["batch_size"]), pool_slots=waves_of,
                                 retry_failed=bool(params["retry_failed"]), adopt=adopt)
        if batches:
            refuse_templates_allowing_duplicates(hook.get_conn(), batch_templates(run))
    return [batch.as_xcom() for batch in batches]


def issue(context: dict[str, Any], batch: dict[str, int]) -> dict[str, int]:
    from badging.credly.hook import CredlyHook
    from badging.errors import BatchRefused, ConfigurationError, CredlyAuthError
    from badging.issuer import BatchIssuer

    label = f"batch {batch['batch_no'] + 1} of {batch['of']} ({batch['size']} badges)"
    context["batch_label"] = label  # rendered by the task's map_index_template
    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError, BatchRefused):
        hook = CredlyHook(CREDLY_CONN_ID)
        issuer = BatchIssuer(run, hook.get_conn(),
                             concurrency=int(context["params"]["concurrency"]),
                             digest_secret=hook.earner_id_secret())
        return issuer.issue(batch["batch_no"], label)


def check_badges(context: dict[str, Any]) -> dict[str, Any]:
    """Every issued badge against the live CTIMS rows, under the source guard; plans what
    has held for the grace (docs/lifecycle.md).

    Not in backfills: they never change badges, and a backfill of history would read every
    live CTIMS row once per day it loads; the next nightly run checks every badge.
    """
    if reason := idle_reason("check_badges", context):
        log.info("no check of the live badges: %s", reason)
        return {}
    from dataclasses import asdict

    from badging.credly.hook import CredlyHook
    from badging.errors import ConfigurationError
    from badging.lifecycle.check import CheckOptions, check_badges

    params = context["params"]
    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, ValueError):
        # The earner id's key digests whom each badge names (name and email corrections).
        secret = CredlyHook(CREDLY_CONN_ID).earner_id_secret()
        options = CheckOptions(
            grace_days=int(params["revocation_grace_days"]),
            program_launch=date.fromisoformat(params["program_launch"]),
            digest_secret=secret,
            revoke_reviewed=tuple(int(c) for c in params.get("revoke_reviewed") or ()),
            accept_source_change=bool(params.get("accept_source_change")),
            triggered_by=getattr(context["dag_run"], "triggering_user_name", None))
        found = check_badges(run, options)
    if found.blocked:
        from badging.alerts import alert_source_guard

        alert_source_guard(context, found.blocked)
    return asdict(found)


def revocation_check(context: dict[str, Any]):
    """The revocation gate's check (its database code imported only when it runs)."""
    from badging.lifecycle.revocation import revocation_check as check

    return check(context)


def revoke(context: dict[str, Any]) -> dict[str, int]:
    from badging.credly.hook import CredlyHook
    from badging.errors import ConfigurationError, CredlyAuthError
    from badging.lifecycle.revocation import revoke as revoke_badges

    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError):
        hook = CredlyHook(CREDLY_CONN_ID)
        # Either the connection (a deployment's policy) or the run's param may ask.
        suppress = (bool(context["params"]["suppress_revoke_notification_email"])
                    or hook.suppresses_revoke_notification())
        return revoke_badges(run, hook.get_conn(), suppress_notification=suppress,
                             digest_secret=hook.earner_id_secret())


def sync_credly(context: dict[str, Any]) -> dict[str, Any]:
    """Every live badge's Credly state into the ledger (docs/credly-sync.md).

    Scheduled and manual runs sync; dry runs change no ledger and backfills would read the
    same badges once per day of history, so neither does.
    """
    if reason := idle_reason("sync_credly", context):
        log.info("%s", reason)
        return {}
    from badging.credly.hook import CredlyHook
    from badging.credly_sync import sync
    from badging.errors import ConfigurationError, CredlyAuthError

    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError):
        return sync(run, CredlyHook(CREDLY_CONN_ID).get_conn(),
                    concurrency=int(context["params"]["concurrency"])).as_xcom()


def report(context: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import asdict

    from badging.errors import RunNeedsAttention
    from badging.outcomes.task import keep_outcomes
    from badging.report import summarise

    run = RunInfo.from_context(context)
    # The console's outcome figures first (docs/outcomes.md): the summary below may turn the
    # run red by raising, and a failure here must not cost the run's summary.
    failed = keep_outcomes(context, run, backfill=_backfill(context))
    with _no_retry_for(RunNeedsAttention):
        summary = summarise(run, max_failed_share=float(context["params"]["max_failed_share"]))
    if failed is not None:
        raise failed
    return asdict(summary)


def notify_sites(context: dict[str, Any]) -> dict[str, Any]:
    """Mail each technology center its entries to fix, once per site and day.

    Scheduled and manual runs send (`send_site_lists`); backfills, history loads (years of
    old entries are no morning list: the correction report holds them) and dry runs never
    do. New lists need the run's rows all decided (decide_eligibility succeeded).
    """
    if reason := idle_reason("notify_sites", context):
        log.info("%s", reason)
        return {"sent": 0}
    from badging.notify import send_site_lists

    run = RunInfo.from_context(context)
    decided = context["ti"].xcom_pull(task_ids="decide_eligibility") is not None
    if not decided:
        log.warning("the run's rows were not all decided: no new lists, earlier ones retried")
    return send_site_lists(run, write_new=decided)


def fail_run(context: dict[str, Any]) -> None:
    """The leaf that keeps a run red when another task failed: alert the operators, then fail."""
    from airflow.sdk.exceptions import AirflowFailException

    from badging.alerts import alert_red_run

    alert_red_run(context)
    raise AirflowFailException("a task of this run failed: see the red task's log")
