"""Operators' alerts through Airflow's SmtpNotifier: a red run, and a scheduled run still late.

Light at import (the DAG file names these callbacks at parse time): Airflow, the provider
and the database are imported inside the functions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from badging.core.constants import (
    AGENCY_TIMEZONE,
    AGENCY_TZ,
    DAG_ID,
    LATE_AT,
    RUN_TYPE_SCHEDULED,
    TaskId,
)

log = logging.getLogger(__name__)

SMTP_CONN_ID = "smtp_default"
# The leaf that turns the run red when another task failed: it sends the red-run alert.
ALERTING_TASK = TaskId.FAIL_RUN
REASON_MAX_CHARS = 300
# An exception's first line can still quote a value; addresses are masked whatever it is.
_EMAIL = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+")


def one_line(error: BaseException | None) -> str:
    """An exception as one line for an alert: class, first line, no email address, bounded."""
    if error is None:
        return "no exception recorded"
    lines = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    line = _EMAIL.sub("<address>", line)
    return line if len(line) <= REASON_MAX_CHARS else line[:REASON_MAX_CHARS - 1] + "…"


def run_url(base: str, dag_id: str, run_id: str) -> str:
    """The run's page in the Airflow UI."""
    return f"{base.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


@dataclass(frozen=True)
class AlertView:
    """What notify/operator_alert.html.j2 shows: task ids, one-line reasons, a link."""

    subject: str
    headline: str
    lines: list[str]
    run_id: str
    run_url: str
    footer: str

    def html(self) -> str:
        from badging.reports.templates import templates

        return templates().get_template("notify/operator_alert.html.j2").render(v=self)


def red_run_view(*, day: str, run_id: str, failures: list[tuple[str, int, str]],
                 base: str, dag_id: str = DAG_ID) -> AlertView:
    """The red-run alert: the red task first, with its one-line reason.

    `failures` are (task id, map index, reason), earliest first: the first is the cause,
    later ones (report, say) often follow from it.
    """
    named = [f"{task}[{index}]" if index >= 0 else task for task, index, _ in failures]
    red = named[0] if named else "a task"
    lines = [f"{name}: {reason}" for name, (_, _, reason) in zip(named, failures, strict=True)]
    if not failures:
        lines = ["No task recorded why it failed (a killed worker?): open the run's grid."]
    return AlertView(
        subject=f"[{dag_id}] red run for {day}: {red} failed",
        headline=f"The badge run for {day} is red: {red} failed.",
        lines=lines, run_id=run_id, run_url=run_url(base, dag_id, run_id),
        footer="The DAG's documentation (on its page) says what to do for each task.")


def late_run_view(*, day: str, run_id: str, base: str, dag_id: str = DAG_ID) -> AlertView:
    """The lateness alert: the scheduled run of `day` has not finished by LATE_AT (06:00) in
    Chicago."""
    return AlertView(
        subject=f"[{dag_id}] run for {day} not finished by {LATE_AT} {AGENCY_TIMEZONE}",
        headline=f"The scheduled badge run for {day} is still running at {LATE_AT} "
                 f"({AGENCY_TIMEZONE}).",
        lines=["Technology centers' morning lists and today's badges wait for it."],
        run_id=run_id, run_url=run_url(base, dag_id, run_id),
        footer="Look for a task waiting in Required actions, queued issue tasks (pool "
               "credly_api) or a stuck task.")


def source_guard_view(*, day: str, run_id: str, blocked: str, base: str,
                      dag_id: str = DAG_ID) -> AlertView:
    """The source guard's alert: the CTIMS replica changed beyond its thresholds tonight."""
    return AlertView(
        subject=f"[{dag_id}] source guard for {day}: no badge changed tonight",
        headline=f"The badge check of {day} found the CTIMS replica changed beyond the source "
                 f"guard's thresholds: nothing was revoked, replaced or moved.",
        lines=[blocked],
        run_id=run_id, run_url=run_url(base, dag_id, run_id),
        footer="If the replica is broken, fix it: the next night compares with the last good "
               "census again. If the change is real (a program or site removed for good), "
               "trigger a manual run of the latest day with accept_source_change on.")


def _notifier(view: AlertView, to: str | list[str], smtp_conn_id: str):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(to=to, subject=view.subject, html_content=view.html(),
                        smtp_conn_id=smtp_conn_id)


def _recipients(extra: dict[str, Any], smtp_conn_id: str) -> str:
    to = extra.get("alert_to")
    if not to:
        raise ValueError(f"connection {smtp_conn_id!r} has no extra.alert_to (who gets alerts)")
    return to


# --- Red run: every task records why it failed; the alerting leaf mails it -------------------


def record_failure(context: dict[str, Any]) -> None:
    """Task on_failure_callback: keep the failure's one-line reason for the alert.

    Never raises: a callback's error would hide the task's own.
    """
    ti = context["ti"]
    if ti.task_id == ALERTING_TASK:
        return
    try:
        from badging.core import db

        with db.connect(db.BADGING_CONN_ID) as conn:
            db.execute(conn, "notify/alerts/record_task_failure.sql", {
                "run_id": context["run_id"], "task_id": ti.task_id,
                "map_index": ti.map_index if ti.map_index is not None else -1,
                "try_number": ti.try_number or 1,
                "reason": one_line(context.get("exception"))})
    except Exception as error:
        # The class only: a database error's DETAIL line can echo the row it refused.
        log.warning("could not record why %s failed (%s)", ti.task_id, type(error).__name__)


def alert_red_run(context: dict[str, Any], *, smtp_conn_id: str = SMTP_CONN_ID) -> bool:
    """Mail the operators one message naming the run's red task; returns whether it went.

    A delivery failure is logged, not raised: the calling task fails the run anyway.
    """
    from badging.core import db
    from badging.core.run import RunInfo
    from badging.notify.site_lists import base_url

    run = RunInfo.from_context(context)
    dag_run = context["dag_run"]
    since = dag_run.start_date or datetime.min.replace(tzinfo=AGENCY_TZ)
    with db.connect(db.BADGING_CONN_ID) as conn:
        failures = db.execute(conn, "notify/alerts/run_failures.sql", {
            "run_id": run.run_id, "since": since, "except_task": ALERTING_TASK}).fetchall()
    view = red_run_view(day=run.day.isoformat(), run_id=run.run_id,
                        failures=[tuple(f) for f in failures], base=base_url(),
                        dag_id=context["dag"].dag_id)
    return _send(view, context, smtp_conn_id)


def _send(view: AlertView, context: dict[str, Any], smtp_conn_id: str) -> bool:
    """Mail a view to the operators from a task; a delivery failure is logged, not raised."""
    from airflow.sdk import BaseHook

    try:
        to = _recipients(BaseHook.get_connection(smtp_conn_id).extra_dejson, smtp_conn_id)
        _notifier(view, to, smtp_conn_id).notify(context)
    except Exception as error:
        from badging.notify.site_lists import error_name

        log.error("operators' alert not sent (%s): %s", error_name(error), view.subject)
        return False
    log.info("operators' alert sent: %s", view.subject)
    return True


def alert_source_guard(context: dict[str, Any], blocked: str, *,
                       smtp_conn_id: str = SMTP_CONN_ID) -> bool:
    """Mail the operators that tonight's check changed no badge, and why (counts only).

    A delivery failure is logged, not raised: the check's result stands either way.
    """
    from badging.core.run import RunInfo
    from badging.notify.site_lists import base_url

    run = RunInfo.from_context(context)
    view = source_guard_view(day=run.day.isoformat(), run_id=run.run_id, blocked=blocked,
                             base=base_url(), dag_id=context["dag"].dag_id)
    return _send(view, context, smtp_conn_id)


def template_health_view(*, day: str, run_id: str, findings: list[Any], base: str,
                         dag_id: str = DAG_ID) -> AlertView:
    """The template problems a report found first (outcomes.health.Finding: codes, template
    ids, what to do; docs/outcomes.md)."""
    return AlertView(
        subject=f"[{dag_id}] template health: {len(findings)} new problem"
                f"{'s' if len(findings) != 1 else ''} ({day})",
        headline="The report of this run found badge templates that will stop badges:",
        lines=[f"{f.assessment_code}: {f.problem} ({f.detail}"
               + (f", template {f.credly_template_id}" if f.credly_template_id else "")
               + f"). {f.action}" for f in findings],
        run_id=run_id, run_url=run_url(base, dag_id, run_id),
        footer="The console's Templates page (/badging/templates) lists every open problem.")


def alert_template_health(context: dict[str, Any], findings: list[Any], *,
                          smtp_conn_id: str = SMTP_CONN_ID) -> bool:
    """Mail the operators the template problems this run's report found first.

    A delivery failure is logged, not raised: the findings stay on the console.
    """
    from badging.core.run import RunInfo
    from badging.notify.site_lists import base_url

    run = RunInfo.from_context(context)
    view = template_health_view(day=run.day.isoformat(), run_id=run.run_id, findings=findings,
                                base=base_url(), dag_id=context["dag"].dag_id)
    return _send(view, context, smtp_conn_id)


# --- Late run: a DeadlineAlert callback, on the triggerer --------------------------------------


async def alert_late_run(context: dict[str, Any], smtp_conn_id: str = SMTP_CONN_ID) -> bool:
    """DeadlineAlert callback: alert on a *scheduled* run still going at 06:00 in Chicago.

    Airflow creates deadlines for backfill and manual runs too (a backfill of an old day is
    past its deadline at once): those are ignored here. Returns whether a message went.
    """
    from airflow.sdk import BaseHook

    from badging.notify.site_lists import base_url

    dag_run = context.get("dag_run") or {}
    if dag_run.get("run_type") != RUN_TYPE_SCHEDULED:
        log.info("deadline missed by a %s run: no alert", dag_run.get("run_type"))
        return False
    view = late_run_view(day=_processed_day(dag_run), run_id=dag_run.get("dag_run_id", ""),
                         base=base_url(), dag_id=dag_run.get("dag_id") or DAG_ID)
    conn = await BaseHook.aget_connection(smtp_conn_id)
    await _notifier(view, _recipients(conn.extra_dejson, smtp_conn_id),
                    smtp_conn_id).async_notify(context)
    log.info("operators' alert sent: %s", view.subject)
    return True


def _processed_day(dag_run: dict[str, Any]) -> str:
    """A scheduled run processes its data interval's day, in Chicago (docs/time.md)."""
    start = dag_run.get("data_interval_start") or dag_run.get("logical_date")
    if not start:
        return "(unknown day)"
    return datetime.fromisoformat(str(start)).astimezone(AGENCY_TZ).date().isoformat()



def without_deadline_in_dag_test(dag):
    """Let `dag.test()` (`airflow dags test`, make run, the e2e tests) run a DAG with a deadline.

    Airflow 3.3.2's dag.test() copies the DAG through serialization without turning its
    deadlines into deadline_alert ids, and a run that succeeds then fails in
    DagRun.update_state ("can't adapt type 'dict'"). dag.test() never checks deadlines
    anyway, so it runs without them; the scheduler's runs keep theirs.
    (tests/unit/dags/test_credly_badge_issuance.py notices when Airflow no longer needs this.)
    """
    original = dag.test

    def test(*args, **kwargs):
        kept, dag.deadline = dag.deadline, None
        try:
            return original(*args, **kwargs)
        finally:
            dag.deadline = kept

    dag.test = test
    return dag
