"""Gates: a judgement an operator makes in the Airflow UI, asked only when needed, recorded.

A gate is a task group `<gate>_gate`: `check` (a branch task) judges the run from counts;
when the judgement needs a person it follows `approve`, a Human-in-the-loop
`ApprovalOperator` whose form shows the check's Markdown; `passed` joins the two paths.
Approve → the run goes on. Reject, or no answer within the timeout (Reject by default) →
`approve` fails with the reason and nothing downstream runs. A run whose `accept_param` is
set passes without asking; a backfill never waits for a person: it fails in `check`. Every
decision — who, when, on what counts — goes to `badging.approval`, `badging.audit_log` and
the run summary. The volume gate stops the run on a refusal; the revocation gate
(`stops_run=False`) only records it, and the task that acts reads the decision
(badging/lifecycle/revocation.py): held revocations are decided again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator

from badging.constants import GATE_PASSES, Event, Gate

log = logging.getLogger(__name__)

# The XCom key of the check's result (counts and Markdown only).
CHECK_KEY = "check"
BACKFILL = "backfill"


@dataclass(frozen=True)
class Check:
    """What a gate's check found. Counts and site codes only: it goes to XCom and the form."""

    ask: bool
    summary: str
    body: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_xcom(self) -> dict[str, Any]:
        return {"ask": self.ask, "summary": self.summary, "body": self.body,
                "detail": self.detail}


def unattended_decision(check: Check, *, accepted: bool, backfill: bool) -> Event | None:
    """The decision taken without a person, or None when one must be asked.

    A check that does not ask passes; the accept param passes what would ask; a backfill
    never waits, so what would ask is refused.
    """
    if not check.ask:
        return Event.APPROVAL_NOT_NEEDED
    if accepted:
        return Event.ACCEPTED_BY_PARAM
    if backfill:
        return Event.REFUSED_UNATTENDED
    return None


def failure_message(gate: Gate, decision: Event, summary: str, decided_by: str | None,
                    decided_at: datetime) -> str:
    """The one line a gate that stops the run fails with (no student data: counts only)."""
    when = decided_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    how = {
        Event.REJECTED: f"rejected by {decided_by or 'an operator'} at {when}",
        Event.APPROVAL_TIMED_OUT: f"no answer by {when}: rejected by default",
        Event.REFUSED_UNATTENDED: ("a backfill does not wait for a person; set the run's "
                                   "accept param if this volume is known to be good"),
    }[decision]
    return f"{gate} gate: {summary} — {how}. Nothing was issued."


def record(context: dict[str, Any], gate: Gate, decision: Event, *, decided_by: str | None,
           decided_at: datetime, check: dict[str, Any]) -> None:
    """Write the decision to badging.approval, badging.audit_log and the run summary."""
    from psycopg.types.json import Jsonb

    from badging import audit, db
    from badging.run import RunInfo

    run = RunInfo.from_context(context)
    detail = {"gate": str(gate), "decided_by": decided_by, "decided_at": decided_at.isoformat(),
              "summary": check["summary"], **check.get("detail", {})}
    with db.connect(db.BADGING_CONN_ID) as conn:
        db.execute(conn, "approval/record.sql", {
            "run_id": run.run_id, "gate": str(gate), "logical_date": run.day,
            "event": str(decision), "decided_by": decided_by, "decided_at": decided_at,
            "summary": check["summary"], "detail": Jsonb(check.get("detail", {}))})
        db.execute(conn, "approval/audit.sql",
                   audit.run_params(run) | {"event": str(decision), "detail": Jsonb(detail)})
        db.execute(conn, "approval/summary_approvals.sql", {"run_id": run.run_id})
    log.info("%s gate: %s (by %s at %s): %s", gate, decision, decided_by or "-",
             decided_at.isoformat(), check["summary"])


def run_check(context: dict[str, Any], gate: Gate, check: Callable[[dict[str, Any]], Check],
              accept_param: str, group_id: str, stops_run: bool = True) -> str:
    """The body of a gate's `check` task: judge, decide what needs no person, branch.

    Returns:
        The task id to follow: `approve` when a person must decide, else `passed`.

    Raises:
        AirflowFailException: a backfill's check would ask (it never waits), for a gate that
            stops the run.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from badging.run import run_type

    found = check(context)
    context["ti"].xcom_push(key=CHECK_KEY, value=found.as_xcom())
    dag_run = context["dag_run"]
    decision = unattended_decision(
        found, accepted=bool(context["params"].get(accept_param)),
        backfill=run_type(context) == BACKFILL)
    log.info("%s gate: %s", gate, found.summary)
    if decision is None:
        log.info("%s gate: asking an operator (Required actions in the UI)", gate)
        return f"{group_id}.approve"
    now = datetime.now(UTC)
    # Nobody decided a day inside its band; the param's decision is whoever triggered the run.
    by = (None if decision == Event.APPROVAL_NOT_NEEDED
          else getattr(dag_run, "triggering_user_name", None))
    record(context, gate, decision, decided_by=by, decided_at=now, check=found.as_xcom())
    if decision not in GATE_PASSES and stops_run:
        raise AirflowFailException(failure_message(gate, decision, found.summary, by, now))
    return f"{group_id}.passed"


class GateApprovalOperator(ApprovalOperator):
    """ApprovalOperator that records the answer and, for a gate that stops the run, fails on
    Reject or timeout."""

    def __init__(self, *, gate: Gate, check_task_id: str, stops_run: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.check_task_id = check_task_id
        self.stops_run = stops_run

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


def approval_gate(gate: Gate, *, check: Callable[[dict[str, Any]], Check], subject: str,
                  accept_param: str, response_timeout: timedelta, stops_run: bool = True):
    """Build the gate's task group in the DAG being defined; returns it for wiring.

    Args:
        gate: which gate (its name, the group id's stem, the recorded gate).
        check: judges the run from its context; runs inside the `check` task.
        subject: the headline of the approval form.
        accept_param: the DAG param that, when true, passes without asking.
        response_timeout: how long the form waits; then Reject.
        stops_run: a refusal fails the run (True) or is only recorded for the task that
            acts to read (False).
    """
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import TaskGroup, task

    group_id = f"{gate}_gate"
    with TaskGroup(group_id=group_id) as group:
        @task.branch(task_id="check", retries=1)
        def check_task(**context: Any) -> str:
            return run_check(context, gate, check, accept_param, group_id, stops_run)

        approve = GateApprovalOperator(
            task_id="approve", gate=gate, check_task_id=f"{group_id}.check", stops_run=stops_run,
            subject=subject,
            body=f"{{{{ ti.xcom_pull(task_ids='{group_id}.check', key='{CHECK_KEY}')['body'] }}}}",
            defaults=ApprovalOperator.REJECT, response_timeout=response_timeout)
        passed = EmptyOperator(task_id="passed", trigger_rule="none_failed_min_one_success")
        checked = check_task()
        checked >> [approve, passed]
        approve >> passed
    return group
