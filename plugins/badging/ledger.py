"""The issuance ledger (docs/ledger.md): each badge planned once, then issued or failed."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from badging import audit, db
from badging.constants import TERMINAL_EVENTS, Event, Reason, State
from badging.run import RunInfo

log = logging.getLogger(__name__)

# Mapped tasks stay far below Airflow's [core] max_map_length (1024) whatever the volume:
# past this many batches, batches grow instead.
MAX_BATCHES = 200
# An in_flight row older than this belongs to a dead worker. Longer than one row's worst
# case inside the client (all retries with their timeouts and back-off). The environment
# may shorten it where a dead worker's rows must be taken over sooner (fault tests).
LEASE_SECONDS = int(os.environ.get("BADGING_LEASE_SECONDS", 15 * 60))

_PLAN_EVENTS = (Event.PLANNED, Event.ALREADY_ISSUED, Event.INELIGIBLE, Event.WOULD_ISSUE)


@dataclass(frozen=True)
class Batch:
    """A batch key for XCom: which slice of the run's planned rows one mapped task issues."""

    batch_no: int
    size: int
    of: int

    def as_xcom(self) -> dict[str, int]:
        return {"batch_no": self.batch_no, "size": self.size, "of": self.of}


def batch_size_for(planned: int, preferred: int, max_batches: int = MAX_BATCHES) -> int:
    """The preferred batch size, grown when it would need more than `max_batches` batches."""
    if preferred < 1:
        raise ValueError(f"param 'batch_size' must be >= 1, got {preferred}")
    return max(preferred, math.ceil(planned / max_batches))


def plan(run: RunInfo, *, earner_id_secret: str, batch_size: int, retry_failed: bool = False,
         badging: str = db.BADGING_CONN_ID) -> tuple[list[Batch], dict[str, int]]:
    """Record every eligible badge in the ledger as pending (once) and cut this run's into batches.

    In a dry run the ledger is only read: rows that would be issued are audited
    `would_issue` and there are no batches.

    Returns:
        The batches, and the count of the run's rows per decision.
    """
    params: dict[str, Any] = {"run_id": run.run_id, "issuing_run": run.issuing_run,
                              "dry_run": run.dry_run,
                              "retry_failed": retry_failed, "earner_id_secret": earner_id_secret}
    with db.connect(badging) as conn:
        db.execute(conn, "plan/reset.sql", params)
        if not run.dry_run:
            db.execute(conn, "plan/insert_pending.sql", params)
            db.execute(conn, "plan/reopen_failed.sql", params)
        db.execute(conn, "plan/classify.sql", params)
        planned = db.execute(conn, "plan/count_planned.sql", params).fetchone()[0]
        params["batch_size"] = batch_size_for(planned, batch_size)
        db.execute(conn, "plan/assign_batches.sql", params)
        audit.record_decisions(conn, run, _PLAN_EVENTS)
        sizes = db.execute(conn, "plan/batches.sql", params).fetchall()
        decisions = dict(db.execute(conn, "plan/decision_counts.sql", params).fetchall())
    batches = [Batch(batch_no=no, size=size, of=len(sizes)) for no, size in sizes]
    log.info("plan: %d badges to issue in %d batches; decisions %s", planned, len(batches),
             decisions)
    return batches, decisions


@dataclass(frozen=True)
class Claim:
    previous_state: State
    attempt: int


@dataclass(frozen=True)
class Snapshot:
    state: State
    issued_run_id: str | None
    held_by_other: bool


class LedgerRow:
    """One badge's transitions, each one statement that also writes its audit row.

    The connection must be in autocommit mode: every statement is its own transaction, one
    round trip, committed before Credly hears of the attempt.
    """

    def __init__(self, conn: psycopg.Connection, run: RunInfo, issuance_id: int,
                 certification_id: int):
        if not conn.autocommit:
            raise ValueError("LedgerRow needs an autocommit connection")
        self._conn = conn
        self._run = run
        self.issuance_id = issuance_id
        self.certification_id = certification_id

    @property
    def key(self) -> str:
        """The surrogate that names this badge in logs and errors."""
        return f"issuance#{self.issuance_id}"

    def _params(self, **extra: Any) -> dict[str, Any]:
        return audit.run_params(self._run) | {
            "issuance_id": self.issuance_id, "certification_id": self.certification_id,
            "holder": self._run.holder, "issued_run_id": self._run.issuing_run,
            "lease_seconds": LEASE_SECONDS, **extra}

    def claim(self) -> Claim | None:
        """Commit the row in_flight for this attempt, or None if it is not ours to take."""
        row = db.execute(self._conn, "ledger/claim.sql",
                         self._params(event=str(Event.ISSUE_ATTEMPT))).fetchone()
        if row is None:
            return None
        return Claim(previous_state=State(row[0]), attempt=row[1])

    def snapshot(self) -> Snapshot:
        state, issued_run_id, claimed_by, lease_expired = db.execute(
            self._conn, "ledger/current.sql", self._params()).fetchone()
        held_by_other = (state == State.IN_FLIGHT and claimed_by != self._run.holder
                         and not lease_expired)
        return Snapshot(State(state), issued_run_id, held_by_other)

    def _finish(self, state: State, event: Event, *, credly_badge_id: str | None = None,
                error: str | None = None, **detail: Any) -> bool:
        finished = db.execute(self._conn, "ledger/finish_attempt.sql", self._params(
            state=str(state), event=str(event), credly_badge_id=credly_badge_id, error=error,
            detail=Jsonb(detail))).rowcount
        return finished > 0

    def mark_issued(self, credly_badge_id: str, event: Event, **detail: Any) -> bool:
        """Record the Credly badge; False if the claim was lost (lease taken over) meanwhile."""
        return self._finish(State.ISSUED, event, credly_badge_id=credly_badge_id, **detail)

    def mark_failed(self, error: str) -> None:
        """Failed for good (Credly refused this badge): only a correction or an operator retries."""
        self._finish(State.FAILED, Event.FAILED, error=error)

    def release(self, error: str) -> None:
        """Back to pending: the attempt did not issue, a retry takes it again."""
        self._finish(State.PENDING, Event.RETRY_LATER, error=error)

    def record_outcome_of_other_run(self, snapshot: Snapshot) -> None:
        """Close this run's story for a badge another run settled (concurrent runs).

        Once per run: a retry of this task walks the same rows again, and the row may even
        have failed in this run's own earlier try (a failed row keeps no run id).
        """
        if snapshot.state in (State.ISSUED, State.REVOKED):
            event, reason, detail = Event.ALREADY_ISSUED, Reason.ALREADY_ISSUED, {
                "issued_by_other_run": True}
        elif snapshot.state == State.FAILED:
            event, reason, detail = Event.FAILED, Reason.FAILED_IN_OTHER_RUN, {}
        else:
            return
        db.execute(self._conn, "ledger/record_settled.sql", self._params(
            event=str(event), reason=str(reason), detail=Jsonb(detail),
            terminal_events=[str(e) for e in TERMINAL_EVENTS]))
