"""Gates: a judgement an operator makes in the Airflow UI, asked only when needed, recorded.

A gate is a task group `<gate>_gate`: `check` (a branch task) judges the run from counts;
when the judgement needs a person it follows `approve`, a Human-in-the-loop
`ApprovalOperator` whose form shows the check's subject and Markdown; otherwise it follows the
task after the gate directly (no join task: one scheduler loop less per gate). Approve → the
run goes on. Reject, or no answer within the timeout (Reject by
default) → `approve` fails with the reason and nothing downstream runs. A run whose
`accept_param` is set passes without asking (unless the check says the answer must come from
a person); a backfill never waits for a person: it fails in `check`. Every decision — who,
when, on what counts — goes to `badging.approval`, `badging.audit_log` and the run summary.
The volume gate stops the run on a refusal, and its decision binds later runs
(badging/gates/volume.py); the revocation gate (`stops_run=False`) only records it, and the task
that acts reads the decision (badging/lifecycle/revocation.py): held revocations are asked again.

Who may answer: the users the Airflow Variable `badging_approvers` names for the gate
(config/variables.json); nobody named, any user who may edit the DAG.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator

from badging.core.constants import (
    DAG_ID,
    DAG_TEST_USER,
    GATE_PASSES,
    NOBODY_CAN_ANSWER,
    Event,
    Gate,
)

log = logging.getLogger(__name__)

# The XCom key of the check's result (counts and Markdown only).
CHECK_KEY = "check"
BACKFILL = "backfill"
# The Airflow Variable naming who may answer each gate (config/variables.json):
# {"volume": [...], "revocation": [...]}, each entry a user id or {"id": ..., "name": ...}.
APPROVERS_VARIABLE = "badging_approvers"
# How long the check waits for `[api] base_url` to answer before saying nobody can answer.
PROBE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    """What a gate's check found. Counts and site codes only: it goes to XCom and the form.

    `subject`: the form's headline (names the day and the count). `must_ask`: only a
    person's answer passes it (the accept param does not). `passed_by_param`: it would ask
    at the defaults, and a param of the run let it through. `attributed`: a param of the run
    shaped the judgement, so the decision records who triggered the run.
    """

    ask: bool
    summary: str
    body: str
    detail: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    must_ask: bool = False
    passed_by_param: bool = False
    attributed: bool = False

    def as_xcom(self) -> dict[str, Any]:
        return {"ask": self.ask, "summary": self.summary, "subject": self.subject,
                "body": self.body, "detail": self.detail}


def unattended_decision(check: Check, *, accepted: bool, backfill: bool) -> Event | None:
    """The decision taken without a person, or None when one must be asked.

    A check that does not ask passes (by the param that let it through, if one did); the
    accept param passes what would ask, unless only a person may; a backfill never waits,
    so what would ask is refused.
    """
    if not check.ask:
        return Event.ACCEPTED_BY_PARAM if check.passed_by_param else Event.APPROVAL_NOT_NEEDED
    if accepted and not check.must_ask:
        return Event.ACCEPTED_BY_PARAM
    if backfill:
        return Event.REFUSED_UNATTENDED
    return None


def assigned_users(configured: Any, gate: Gate) -> list[dict[str, str]] | None:
    """The HITL `assigned_users` of a gate from the `badging_approvers` Variable's value:
    None (anyone who may edit the DAG) when it names nobody.

    Airflow 3.3.2 matches a responder's user id only: roles cannot be named (docs).

    Raises:
        ValueError: the value is not {gate: [user id or {"id", "name"}, ...]}.
    """
    if not configured:
        return None
    if not isinstance(configured, dict):
        raise ValueError(f"Variable {APPROVERS_VARIABLE} must be a JSON object by gate")
    users = []
    for entry in configured.get(str(gate)) or []:
        if isinstance(entry, str) and entry:
            users.append({"id": entry, "name": entry})
        elif isinstance(entry, dict) and entry.get("id"):
            users.append({"id": str(entry["id"]), "name": str(entry.get("name") or entry["id"])})
        else:
            raise ValueError(f"Variable {APPROVERS_VARIABLE}: {gate} approvers must be user ids "
                             "or {\"id\": ..., \"name\": ...}")
    return users or None


def api_answers(base: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether an Airflow API server answers at `base` (its public health endpoint)."""
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v2/monitor/health",
                                    timeout=timeout) as response:
            return "metadatabase" in json.loads(response.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return False


def nobody_can_answer(gate: Gate, *, base: str, run_id: str, accept_param: str,
                      accept_passes: bool, timeout: timedelta | None, dag_test: bool) -> str:
    """The warning of a gate that waits where no API server can take an answer."""
    task = f"{gate}_gate.approve"
    if dag_test:
        waits = "`airflow dags test` applies no answer timeout: it waits until answered."
    elif timeout:
        waits = f"Unanswered, it is rejected after {timeout.total_seconds() / 3600:g} h."
    else:
        waits = "It waits until it is answered."
    instead = (f"Or stop this run (Ctrl-C) and run the day again with the param "
               f"`{accept_param}` on, if you know the answer is Approve."
               if accept_passes else
               f"The param `{accept_param}` does not pass it: held decisions need an answer.")
    return "\n".join([
        f"{gate} gate: {NOBODY_CAN_ANSWER}: the run waits for an operator's answer and no "
        f"Airflow API server answers at {base} ([api] base_url).",
        f"  {waits}",
        "  To answer: start an API server on this metadata database (`make airflow`, or "
        "`airflow api-server` with the same configuration), then Browse -> Required actions,",
        f"  or PATCH {base.rstrip('/')}/api/v2/dags/{DAG_ID}/dagRuns/<run id>/taskInstances/"
        f"{task}/-1/hitlDetails with {{\"chosen_options\": [\"Approve\"], "
        f"\"params_input\": {{}}}} (or Reject); run id {run_id}.",
        f"  {instead}"])


def _warn_if_nobody_can_answer(context: dict[str, Any], gate: Gate, found: Check,
                               accept_param: str, timeout: timedelta | None) -> None:
    """Say so at once, on the console, when the run waits where nobody can answer it."""
    from badging.notify.site_lists import base_url

    base = base_url()
    if api_answers(base):
        return
    dag_test = getattr(context["dag_run"], "triggering_user_name", None) == DAG_TEST_USER
    message = nobody_can_answer(gate, base=base, run_id=context["run_id"],
                                accept_param=accept_param, accept_passes=not found.must_ask,
                                timeout=timeout, dag_test=dag_test)
    log.warning("%s", message)


def failure_message(gate: Gate, decision: Event, summary: str, decided_by: str | None,
                    decided_at: datetime) -> str:
    """The one line a gate that stops the run fails with (no student data: counts only)."""
    when = decided_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    how = {
        Event.REJECTED: f"rejected by {decided_by or 'an operator'} at {when}",
        Event.APPROVAL_TIMED_OUT: f"no answer by {when}: rejected by default",
        Event.REFUSED_UNATTENDED: "a backfill does not wait for a person",
    }[decision]
    # A refusal binds later runs (badging/gates/volume.py): only a release issues these rows.
    return (f"{gate} gate: {summary} — {how}. Nothing was issued; later runs hold these rows "
            f"until the day is released (a manual run with release_rejected_volume).")


def record(context: dict[str, Any], gate: Gate, decision: Event, *, decided_by: str | None,
           decided_at: datetime, check: dict[str, Any]) -> None:
    """Write the decision to badging.approval, badging.audit_log and the run summary."""
    from psycopg.types.json import Jsonb

    from badging.core import audit, db
    from badging.core.run import RunInfo

    run = RunInfo.from_context(context)
    detail = {"gate": str(gate), "decided_by": decided_by, "decided_at": decided_at.isoformat(),
              "summary": check["summary"], **check.get("detail", {})}
    with db.connect(db.BADGING_CONN_ID) as conn:
        db.execute(conn, "gates/approval/record.sql", {
            "run_id": run.run_id, "gate": str(gate), "logical_date": run.day,
            "event": str(decision), "decided_by": decided_by, "decided_at": decided_at,
            "summary": check["summary"], "detail": Jsonb(check.get("detail", {}))})
        db.execute(conn, "gates/approval/audit.sql",
                   audit.run_params(run) | {"event": str(decision), "detail": Jsonb(detail)})
        db.execute(conn, "gates/approval/summary_approvals.sql", {"run_id": run.run_id})
    log.info("%s gate: %s (by %s at %s): %s", gate, decision, decided_by or "-",
             decided_at.isoformat(), check["summary"])


@contextmanager
def gate_lock(gate: Gate) -> Iterator[None]:
    """One check of this gate at a time, across runs, from judging to the recorded decision:
    a run's check never sees another's judged rows without their decision (volume.take)."""
    import psycopg

    from badging.core import db

    name = {"name": f"badging.gate.{gate}"}
    with psycopg.connect(db.bounded_conninfo(db.BADGING_CONN_ID), autocommit=True) as conn:
        db.execute(conn, "gates/approval/lock.sql", name)
        try:
            yield
        finally:
            db.execute(conn, "gates/approval/unlock.sql", name)


def run_check(context: dict[str, Any], gate: Gate, check: Callable[[dict[str, Any]], Check],
              accept_param: str, group_id: str, leads_to: str, stops_run: bool = True,
              response_timeout: timedelta | None = None) -> str:
    """The body of a gate's `check` task: judge, decide what needs no person, branch.

    Returns:
        The task id to follow: `approve` when a person must decide, else `leads_to` (the
        task after the gate).

    Raises:
        AirflowFailException: a backfill's check would ask (it never waits), for a gate that
            stops the run; or the run's params ask for what cannot be done (ConfigurationError).
    """
    from airflow.sdk.exceptions import AirflowFailException

    from badging.core.errors import ConfigurationError
    from badging.core.run import run_type

    dag_run = context["dag_run"]
    with gate_lock(gate):
        try:
            found = check(context)
        except ConfigurationError as error:
            raise AirflowFailException(f"{gate} gate: {error}") from error
        context["ti"].xcom_push(key=CHECK_KEY, value=found.as_xcom())
        decision = unattended_decision(
            found, accepted=bool(context["params"].get(accept_param)),
            backfill=run_type(context) == BACKFILL)
        log.info("%s gate: %s", gate, found.summary)
        if decision is None:
            log.info("%s gate: asking an operator (Required actions in the UI): %s", gate,
                     found.subject)
            _warn_if_nobody_can_answer(context, gate, found, accept_param, response_timeout)
            return f"{group_id}.approve"
        now = datetime.now(UTC)
        # Nobody decided a day inside its band; a param's decision is whoever triggered the
        # run.
        by = (getattr(dag_run, "triggering_user_name", None)
              if decision != Event.APPROVAL_NOT_NEEDED or found.attributed else None)
        record(context, gate, decision, decided_by=by, decided_at=now, check=found.as_xcom())
    if decision not in GATE_PASSES and stops_run:
        raise AirflowFailException(failure_message(gate, decision, found.summary, by, now))
    return leads_to


class GateApprovalOperator(ApprovalOperator):
    """ApprovalOperator that records the answer and, for a gate that stops the run, fails on
    Reject or timeout."""

    def __init__(self, *, gate: Gate, check_task_id: str, stops_run: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.check_task_id = check_task_id
        self.stops_run = stops_run

    def execute(self, context) -> Any:
        # Who may answer is read when the form is written, not at parse time: a Variable
        # read at parse time would hit the metadata database on every parse.
        from airflow.sdk import Variable

        configured = Variable.get(APPROVERS_VARIABLE, default=None, deserialize_json=True)
        users = assigned_users(configured, self.gate)
        if users:
            self.assigned_users = users
            log.info("%s gate: only %s may answer", self.gate,
                     ", ".join(user["name"] for user in users))
        return super().execute(context)

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        from airflow.sdk.exceptions import AirflowFailException

        found = context["ti"].xcom_pull(task_ids=self.check_task_id, key=CHECK_KEY) or {
            "summary": "(check result missing)", "detail": {}}
        if "error" in event:
            decision, by, at, payload = Event.APPROVAL_TIMED_OUT, None, datetime.now(UTC), None
        else:
            # Validates the answer; the grandparent's, so that Reject skips nothing: the
            # failure below stops the run instead.
            payload = HITLOperator.execute_complete(self, context=context, event=event)
            user = event.get("responded_by_user") or {}
            by = user.get("name") or user.get("id") if isinstance(user, dict) else str(user)
            at = event.get("responded_at") or datetime.now(UTC)
            if event["chosen_options"] == [self.APPROVE]:
                decision = Event.APPROVED
            elif event.get("timedout"):
                decision = Event.APPROVAL_TIMED_OUT
            else:
                decision = Event.REJECTED
        record(context, self.gate, decision, decided_by=by, decided_at=at, check=found)
        if decision != Event.APPROVED and self.stops_run:
            raise AirflowFailException(failure_message(self.gate, decision, found["summary"],
                                                       by, at))
        return payload


def approval_gate(gate: Gate, *, check: Callable[[dict[str, Any]], Check],
                  accept_param: str, response_timeout: timedelta, leads_to: Any,
                  stops_run: bool = True):
    """Build the gate's task group in the DAG being defined, wired to the task after it;
    returns the group for wiring what comes before.

    Args:
        gate: which gate (its name, the group id's stem, the recorded gate).
        check: judges the run from its context; runs inside the `check` task. Its Check's
            subject and body are the approval form's.
        accept_param: the DAG param that, when true, passes without asking.
        response_timeout: how long the form waits; then Reject.
        leads_to: the task after the gate (a task or its XComArg). It follows `check` when
            nobody need answer and `approve` otherwise, so one of them is always skipped: its
            trigger rule must be none_failed_min_one_success.
        stops_run: a refusal fails the run (True) or is only recorded for the task that
            acts to read (False).

    Raises:
        ValueError: `leads_to` would be skipped with the approval it did not need.
    """
    from airflow.sdk import TaskGroup, TriggerRule, task

    after = getattr(leads_to, "operator", leads_to)
    if after.trigger_rule != TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS:
        raise ValueError(f"{after.task_id} follows the {gate} gate: its trigger_rule must be "
                         f"none_failed_min_one_success, not {after.trigger_rule}")
    group_id = f"{gate}_gate"
    with TaskGroup(group_id=group_id) as group:
        @task.branch(task_id="check", retries=1)
        def check_task(**context: Any) -> str:
            return run_check(context, gate, check, accept_param, group_id, after.task_id,
                             stops_run, response_timeout)

        found = f"ti.xcom_pull(task_ids='{group_id}.check', key='{CHECK_KEY}')"
        approve = GateApprovalOperator(
            task_id="approve", gate=gate, check_task_id=f"{group_id}.check", stops_run=stops_run,
            subject=f"{{{{ {found}['subject'] }}}}", body=f"{{{{ {found}['body'] }}}}",
            defaults=ApprovalOperator.REJECT, response_timeout=response_timeout)
        checked = check_task()
    # The branch skips whichever of the two it does not follow; `after`, downstream of
    # `approve` too, is not skipped when it follows `approve` (SkipMixin.skip_all_except).
    checked >> [approve, after]
    approve >> after
    return group
