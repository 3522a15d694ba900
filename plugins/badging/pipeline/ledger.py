"""One badge's issuing transitions on its ledger row (docs/exactly-once.md): claim, renew,
finish, each one statement with its audit row, on the shared lease (badging/core/lease.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from badging.core import audit, db
from badging.core.constants import TERMINAL_EVENTS, Event, Reason, State
from badging.core.lease import Lease, Subject
from badging.core.run import RunInfo


@dataclass(frozen=True)
class Claim:
    # Look the badge up in Credly before any POST: the claim was taken from a crashed
    # attempt, or the row's last attempt may have reached Credly.
    look_up_first: bool
    attempt: int


@dataclass(frozen=True)
class Snapshot:
    state: State
    issued_run_id: str | None
    held_by_other: bool


class LedgerRow:
    """One badge's transitions, each one statement that also writes its audit row; the claim
    is the shared lease (badging/core/lease.py).

    The connection must be in autocommit mode: every statement is its own transaction, one
    round trip, committed before Credly hears of the attempt.
    """

    def __init__(self, conn: psycopg.Connection, run: RunInfo, issuance_id: int,
                 certification_id: int, *, swept: bool = False):
        self.lease = Lease(conn, Subject.ISSUANCE, issuance_id, run.holder)
        self._conn = conn
        self._run = run
        self.issuance_id = issuance_id
        self.certification_id = certification_id
        # Planned by another run: its audit rows say so, and stay out of this run's story.
        self.swept = swept

    @property
    def key(self) -> str:
        """The surrogate that names this badge in logs and errors."""
        return self.lease.key

    @property
    def attempt(self) -> int | None:
        return self.lease.attempt

    def _params(self, **extra: Any) -> dict[str, Any]:
        return audit.run_params(self._run) | self.lease.params() | {
            "issuance_id": self.issuance_id, "certification_id": self.certification_id,
            "issued_run_id": self._run.issuing_run,
            "swept_detail": Jsonb({"swept": True} if self.swept else {}), **extra}

    def claim(self) -> Claim | None:
        """Commit the row in_flight for this attempt, or None if it is not ours to take."""
        row = db.execute(self._conn, "pipeline/issue/claim.sql",
                         self._params(event=str(Event.ISSUE_ATTEMPT))).fetchone()
        if row is None:
            return None
        self.lease.attempt = row[1]
        return Claim(look_up_first=row[0], attempt=row[1])

    def renew(self) -> bool:
        """Renew this attempt's claim before a Credly write; False if it was taken over."""
        return self.lease.renew()

    def snapshot(self) -> Snapshot:
        state, issued_run_id, holder, lease_expired = db.execute(
            self._conn, "pipeline/issue/current.sql", self._params()).fetchone()
        held_by_other = (state == State.IN_FLIGHT and holder != self._run.holder
                         and not lease_expired)
        return Snapshot(State(state), issued_run_id, held_by_other)

    def _finish(self, state: State, event: Event, *, credly_badge_id: str | None = None,
                error: str | None = None, lookup_first: bool = False,
                digests: tuple[str, str] | None = None, entry_test_date: date | None = None,
                expires_at: datetime | None = None, **detail: Any) -> bool:
        recipient_digest, name_digest = digests or (None, None)
        finished = db.execute(self._conn, "pipeline/issue/finish_attempt.sql", self._params(
            state=str(state), event=str(event), credly_badge_id=credly_badge_id, error=error,
            lookup_first=lookup_first, recipient_digest=recipient_digest,
            name_digest=name_digest, entry_test_date=entry_test_date, expires_at=expires_at,
            detail=Jsonb(detail))).rowcount
        return finished > 0

    def mark_issued(self, credly_badge_id: str, event: Event, *,
                    digests: tuple[str, str] | None = None,
                    entry_test_date: date | None = None, expires_at: datetime | None = None,
                    **detail: Any) -> bool:
        """Record the Credly badge, the digests of whom it names (recipient_digests), the
        test date it carries, when known, and its expiry as Credly says it (None: never);
        False if the claim was lost (lease taken over)."""
        return self._finish(State.ISSUED, event, credly_badge_id=credly_badge_id,
                            digests=digests, entry_test_date=entry_test_date,
                            expires_at=expires_at, **detail)

    def mark_failed(self, error: str, *, maybe_applied: bool = False,
                    digests: tuple[str, str] | None = None) -> None:
        """Failed for good (Credly refused this badge): only a correction or an operator retries.

        `maybe_applied`: the attempt may have reached Credly, so a later try looks first.
        `digests`: whom the refused request named; a later check reopens the row when CTIMS
        names someone else (lifecycle/check/reopen_failed.sql), and only then.
        """
        self._finish(State.FAILED, Event.FAILED, error=error, lookup_first=maybe_applied,
                     digests=digests)

    def release(self, error: str, *, maybe_applied: bool = False) -> None:
        """Back to pending: the attempt did not issue, a retry takes it again (looking the
        badge up first when the attempt may have reached Credly)."""
        self._finish(State.PENDING, Event.RETRY_LATER, error=error, lookup_first=maybe_applied)

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
        db.execute(self._conn, "pipeline/issue/record_settled.sql", self._params(
            event=str(event), reason=str(reason), detail=Jsonb(detail),
            terminal_events=[str(e) for e in TERMINAL_EVENTS]))
