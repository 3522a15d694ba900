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

from badging.core.constants import TaskId
from badging.core.run import RunInfo

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


def extract(context: dict[str, Any]) -> dict[str, Any]:
    from badging.pipeline.extract import extract as extract_rows

    run = RunInfo.from_context(context)
    staged = extract_rows(run)
    return {"day": run.day.isoformat(), "window_start": run.window_start.isoformat(),
            "window_end": run.window_end.isoformat(), "staged": staged}


def validate(context: dict[str, Any]) -> dict[str, Any]:
    from badging.core.errors import DataQualityError
    from badging.pipeline.validate import validate as validate_rows

    run = RunInfo.from_context(context)
    with _no_retry_for(DataQualityError):
        outcome = validate_rows(run, max_failed_share=float(context["params"]["max_failed_share"]),
                                validation_prefix=context["dag"].dag_id)
    return outcome.as_xcom()


# The XCom key of decide_eligibility's counts (its return value is the branch it follows).
DECIDED_KEY = "decided"
# decide_eligibility's direct downstream tasks: plan always, the others when the run has work
# for them (RunInfo.idle_tasks). notify_sites is not among them: it runs after report, so it
# is downstream of plan, and a branch never skips what a followed task leads to; report, a
# branch too, skips it.
FOLLOWED = (TaskId.PLAN, TaskId.SYNC_CREDLY, TaskId.CHECK_BADGES)
# The XCom key of report's summary (its return value is the branch it follows).
SUMMARY_KEY = "summary"


def decide_eligibility(context: dict[str, Any]) -> list[str]:
    """The agency's rules on the run's rows, then the branch: the tasks the run has work for.

    Returns:
        The task ids to follow; the others of FOLLOWED are skipped and start no process.
    """
    from badging.pipeline.eligibility import decide

    run = RunInfo.from_context(context)
    launch = date.fromisoformat(context["params"]["program_launch"])
    context["ti"].xcom_push(key=DECIDED_KEY, value=decide(run, program_launch=launch))
    idle = run.idle_tasks
    for task_id, why in idle.items():
        log.info("skipped, nothing to do in this run: %s (%s)", task_id, why)
    return [str(t) for t in FOLLOWED if t not in idle]


def plan(context: dict[str, Any]) -> list[dict[str, int]]:
    from badging.core.errors import ConfigurationError
    from badging.credly.hook import CredlyHook
    from badging.pipeline.plan import (
        batch_templates,
        read_templates,
        refuse_templates_allowing_duplicates,
    )
    from badging.pipeline.plan import plan as plan_badges

    params = context["params"]
    run = RunInfo.from_context(context)
    hook = CredlyHook(CREDLY_CONN_ID)
    slots, concurrency = int(params["pool_slots"]), int(params["concurrency"])
    adopt = None
    if params.get("adopt_existing"):
        from badging.lifecycle.adoption import adopt as adopt_badges

        # plan holds one credly_api slot, worth `concurrency` calls in flight (pools.json):
        # the list is read that many pages at a time, never more.
        adopt = partial(adopt_badges, client=hook.get_conn(), concurrency=concurrency)
    with _no_retry_for(ConfigurationError):
        secret = hook.earner_id_secret()
        client = hook.get_conn()
        # One read of Credly's template list: their default expiries, and below whether
        # they allow duplicates.
        listed = read_templates(client)
        batches, _ = plan_badges(run, earner_id_secret=secret,
                                 batch_size=int(params["batch_size"]),
                                 pool_slots=run.batch_waves(slots),
                                 retry_failed=bool(params["retry_failed"]), adopt=adopt,
                                 templates=listed)
        if batches:
            refuse_templates_allowing_duplicates(client, batch_templates(run), listed)
    return [batch.as_xcom() for batch in batches]


def issue(context: dict[str, Any], batch: dict[str, int]) -> dict[str, int]:
    from badging.core.errors import BatchRefused, ConfigurationError, CredlyAuthError
    from badging.credly.hook import CredlyHook
    from badging.pipeline.issue import BatchIssuer

    label = f"batch {batch['batch_no'] + 1} of {batch['of']} ({batch['size']} badges)"
    context["batch_label"] = label  # rendered by the task's map_index_template
    from badging.reports.evidence import policy_from_airflow

    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError, BatchRefused, ValueError):
        hook = CredlyHook(CREDLY_CONN_ID)
        issuer = BatchIssuer(run, hook.get_conn(),
                             concurrency=int(context["params"]["concurrency"]),
                             digest_secret=hook.earner_id_secret(),
                             evidence=policy_from_airflow())
        return issuer.issue(batch["batch_no"], label)


def check_badges(context: dict[str, Any]) -> dict[str, Any]:
    """Every issued badge against the live CTIMS rows, under the source guard; plans what
    has held for the grace (docs/lifecycle.md). Skipped in backfills (RunInfo.idle_tasks)."""
    from dataclasses import asdict

    from badging.core.errors import ConfigurationError
    from badging.credly.hook import CredlyHook
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
            full_check=bool(params.get("full_check")),
            triggered_by=getattr(context["dag_run"], "triggering_user_name", None))
        found = check_badges(run, options)
    if found.blocked:
        from badging.notify.alerts import alert_source_guard

        alert_source_guard(context, found.blocked)
    return asdict(found)


def volume_check(context: dict[str, Any]):
    """The volume gate's check (its database code imported only when it runs)."""
    from badging.gates.volume import check

    return check(context)


def revocation_check(context: dict[str, Any]):
    """The revocation gate's check (its database code imported only when it runs)."""
    from badging.gates.revocation import revocation_check as check

    return check(context)


def revoke(context: dict[str, Any]) -> dict[str, int]:
    from badging.core.errors import ConfigurationError, CredlyAuthError
    from badging.credly.hook import CredlyHook
    from badging.lifecycle.revocation import revoke as revoke_badges
    from badging.reports.evidence import policy_from_airflow

    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError, ValueError):
        hook = CredlyHook(CREDLY_CONN_ID)
        # Either the connection (a deployment's policy) or the run's param may ask.
        suppress = (bool(context["params"]["suppress_revoke_notification_email"])
                    or hook.suppresses_revoke_notification())
        return revoke_badges(run, hook.get_conn(), suppress_notification=suppress,
                             digest_secret=hook.earner_id_secret(),
                             evidence=policy_from_airflow())


def sync_credly(context: dict[str, Any]) -> dict[str, Any]:
    """Every live badge's Credly state into the ledger (docs/credly-sync.md). Skipped in dry
    runs and backfills (RunInfo.idle_tasks)."""
    from badging.core.errors import ConfigurationError, CredlyAuthError
    from badging.credly.hook import CredlyHook
    from badging.lifecycle.sync import sync

    run = RunInfo.from_context(context)
    with _no_retry_for(ConfigurationError, CredlyAuthError):
        return sync(run, CredlyHook(CREDLY_CONN_ID).get_conn(),
                    concurrency=int(context["params"]["concurrency"])).as_xcom()


def report(context: dict[str, Any]) -> list[str]:
    """The run's summary (to XCom under SUMMARY_KEY), then the branch: notify_sites when the
    run sends lists (RunInfo.idle_tasks), else nothing, and it starts no process.

    Returns:
        The task ids to follow.
    """
    from dataclasses import asdict

    from badging.core.errors import RunNeedsAttention
    from badging.outcomes.task import keep_outcomes
    from badging.pipeline.report import summarise

    run = RunInfo.from_context(context)
    # The console's outcome figures first (docs/outcomes.md): the summary below may turn the
    # run red by raising, and a failure here must not cost the run's summary.
    failed = keep_outcomes(context, run)
    with _no_retry_for(RunNeedsAttention):
        summary = summarise(run, max_failed_share=float(context["params"]["max_failed_share"]))
    context["ti"].xcom_push(key=SUMMARY_KEY, value=asdict(summary))
    if failed is not None:
        raise failed
    idle = run.idle_tasks.get(TaskId.NOTIFY_SITES)
    if idle:
        log.info("skipped, nothing to do in this run: %s (%s)", TaskId.NOTIFY_SITES, idle)
        return []
    return [str(TaskId.NOTIFY_SITES)]


def notify_sites(context: dict[str, Any]) -> dict[str, Any]:
    """Mail each technology center its entries to fix, once per site and day; skipped where
    RunInfo.idle_tasks says (by report's branch, or here when report failed before it chose).
    New lists need the run's rows all decided."""
    from airflow.sdk.exceptions import AirflowSkipException

    run = RunInfo.from_context(context)
    idle = run.idle_tasks.get(TaskId.NOTIFY_SITES)
    if idle:
        raise AirflowSkipException(idle)
    from badging.notify.site_lists import send_site_lists

    decided = context["ti"].xcom_pull(task_ids=TaskId.DECIDE_ELIGIBILITY,
                                      key=DECIDED_KEY) is not None
    if not decided:
        log.warning("the run's rows were not all decided: no new lists, earlier ones retried")
    return send_site_lists(run, write_new=decided)


def fail_run(context: dict[str, Any]) -> None:
    """The leaf that keeps a run red when another task failed: alert the operators, then fail."""
    from airflow.sdk.exceptions import AirflowFailException

    from badging.notify.alerts import alert_red_run

    alert_red_run(context)
    raise AirflowFailException("a task of this run failed: see the red task's log")
