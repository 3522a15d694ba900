"""The issuance ledger (docs/ledger.md): each badge planned once, then issued or failed."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from badging.core import audit, db, sql
from badging.core.constants import TERMINAL_EVENTS, Event, Reason, State
from badging.core.errors import ConfigurationError
from badging.core.lease import Lease, Subject
from badging.core.run import RunInfo

if TYPE_CHECKING:
    from badging.credly import CredlyClient

log = logging.getLogger(__name__)

# Mapped tasks stay far below Airflow's [core] max_map_length (1024) whatever the volume:
# past this many batches, batches grow instead.
MAX_BATCHES = 200
# The fewest badges worth a batch of their own when batches are split to fill the pool.
MIN_BATCH = 50
_PLAN_EVENTS = (Event.PLANNED, Event.ALREADY_ISSUED, Event.INELIGIBLE, Event.WOULD_ISSUE)


@dataclass(frozen=True)
class Batch:
    """A batch key for XCom: which slice of the run's planned rows one mapped task issues."""

    batch_no: int
    size: int
    of: int

    def as_xcom(self) -> dict[str, int]:
        return {"batch_no": self.batch_no, "size": self.size, "of": self.of}


def batch_size_for(planned: int, preferred: int, slots: int = 1,
                   max_batches: int = MAX_BATCHES) -> int:
    """The batch size: at most `preferred` (grown past `max_batches` batches), and batches
    in full waves of the pool's `slots`, so the last wave leaves no slot idle while it drains.

    Filling a wave splits the badges further only while each batch keeps MIN_BATCH badges:
    a task's start costs more than a few calls.
    """
    if preferred < 1:
        raise ValueError(f"param 'batch_size' must be >= 1, got {preferred}")
    if slots < 1:
        raise ValueError(f"param 'pool_slots' must be >= 1, got {slots}")
    size = max(preferred, math.ceil(planned / max_batches))
    natural = math.ceil(planned / size)
    full_waves = min(math.ceil(natural / slots) * slots, max_batches)
    batches = max(natural, min(full_waves, planned // MIN_BATCH))
    return math.ceil(planned / batches) if batches > natural else size


def earner_id(secret: str, student_id: int) -> str:
    """The student's issuer_earner_id for Credly: a keyed hash, stable, never the raw id."""
    digest = hashlib.sha256(f"{secret}:{student_id}".encode()).hexdigest()
    return f"okct-{digest[:40]}"


def recipient_digests(secret: str, email: str | None, first_name: str | None,
                      last_name: str | None) -> tuple[str, str]:
    """Keyed digests of whom a badge names (address; first|last name), with the earner id's
    secret: the ledger sees a correction without holding the name or the address."""
    def digest(text: str) -> str:
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:40]

    email_text = (email or "").strip().lower()
    name_text = f"{(first_name or '').strip()}|{(last_name or '').strip()}"
    return digest(f"email:{email_text}"), digest(f"name:{name_text}")


def _insert_pending(conn: psycopg.Connection, params: dict[str, Any], secret: str) -> None:
    """Insert the run's new badges as pending, their earner ids computed here (the secret
    never reaches the database: Postgres logs slow statements with their parameters)."""
    students = [row[0] for row in db.execute(conn, "plan/new_badge_students.sql", params)]
    db.execute(conn, "plan/earner_ids_table.sql")
    with conn.cursor() as cur, cur.copy(sql.load("plan/earner_ids_copy.sql")) as copy:
        for student_id in students:
            copy.write_row((student_id, earner_id(secret, student_id)))
    db.execute(conn, "plan/insert_pending.sql", params)


def plan(run: RunInfo, *, earner_id_secret: str, batch_size: int, pool_slots: int = 1,
         retry_failed: bool = False, adopt: Callable[[RunInfo], object] | None = None,
         badging: str = db.BADGING_CONN_ID) -> tuple[list[Batch], dict[str, int]]:
    """Record every eligible badge in the ledger as pending (once) and cut the badges this
    run issues into batches: its own, and every badge still open from earlier runs.

    In a dry run the ledger is only read: rows that would be issued are audited
    `would_issue` and there are no batches.

    Args:
        adopt: called with the run once its badges are taken, before they are cut into
            batches (badging/lifecycle/adoption.py: badges Credly already holds leave the batches).

    Returns:
        The batches, and the count of the run's rows per decision.
    """
    params: dict[str, Any] = {"run_id": run.run_id, "issuing_run": run.issuing_run,
                              "dry_run": run.dry_run, "retry_failed": retry_failed}
    with db.connect(badging) as conn:
        db.execute(conn, "plan/reset.sql", params)
        if not run.dry_run:
            _insert_pending(conn, params, earner_id_secret)
            db.execute(conn, "plan/reopen_failed.sql", params)
            db.execute(conn, "plan/reopen_revoked.sql",
                       audit.run_params(run) | params | {"staged_run_id": run.run_id})
        db.execute(conn, "plan/classify.sql", params)
        db.execute(conn, "plan/clear_batches.sql", params)
        db.execute(conn, "plan/take_open_rows.sql", params)
    # Committed: an adoption reads Credly for a while, and holds no ledger row meanwhile.
    if adopt is not None and not run.dry_run:
        adopt(run)
    with db.connect(badging) as conn:
        taken = db.execute(conn, "plan/count_planned.sql", params).fetchone()[0]
        params["batch_size"] = batch_size_for(taken, batch_size, pool_slots)
        db.execute(conn, "plan/assign_batches.sql", params)
        audit.record_decisions(conn, run, _PLAN_EVENTS)
        sizes = db.execute(conn, "plan/batches.sql", params).fetchall()
        decisions = dict(db.execute(conn, "plan/decision_counts.sql", params).fetchall())
    batches = [Batch(batch_no=no, size=size, of=len(sizes)) for no, size in sizes]
    log.info("plan: %d badges to issue in %d batches (%d planned by this run, the rest open "
             "from earlier runs); decisions %s", taken, len(batches),
             decisions.get("planned", 0), decisions)
    return batches, decisions


def batch_templates(run: RunInfo, badging: str = db.BADGING_CONN_ID) -> list[str]:
    """The Credly template ids the run's batches will issue."""
    with db.connect(badging) as conn:
        return [row[0] for row in db.execute(conn, "plan/batch_templates.sql",
                                             {"run_id": run.run_id})]


def refuse_templates_allowing_duplicates(client: CredlyClient, template_ids: list[str]) -> None:
    """Stop before issuing if a template lets Credly issue duplicates: then Credly's own
    duplicate check no longer backs the ledger, and a lost response could become a second
    badge (docs/exactly-once.md).

    Raises:
        ConfigurationError: naming the first such template.
    """
    if not template_ids:
        return
    # The organization's templates in one paged list, not a GET per template: a day of many
    # assessments needs a couple of hundred, seconds of Credly's latency before any batch.
    # A template Credly does not list is the batch's to refuse (not found), not this check's.
    allows = {t["id"]: bool(t.get("allow_duplicate_badges")) for t in client.list_templates()}
    for template_id in template_ids:
        if allows.get(template_id):
            raise ConfigurationError(
                f"Credly template {template_id} allows duplicate badges: a lost response "
                f"could become a second badge. Turn allow_duplicate_badges off in Credly, "
                f"then clear plan")


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
        row = db.execute(self._conn, "ledger/claim.sql",
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
            self._conn, "ledger/current.sql", self._params()).fetchone()
        held_by_other = (state == State.IN_FLIGHT and holder != self._run.holder
                         and not lease_expired)
        return Snapshot(State(state), issued_run_id, held_by_other)

    def _finish(self, state: State, event: Event, *, credly_badge_id: str | None = None,
                error: str | None = None, lookup_first: bool = False,
                digests: tuple[str, str] | None = None, entry_test_date: date | None = None,
                **detail: Any) -> bool:
        recipient_digest, name_digest = digests or (None, None)
        finished = db.execute(self._conn, "ledger/finish_attempt.sql", self._params(
            state=str(state), event=str(event), credly_badge_id=credly_badge_id, error=error,
            lookup_first=lookup_first, recipient_digest=recipient_digest,
            name_digest=name_digest, entry_test_date=entry_test_date,
            detail=Jsonb(detail))).rowcount
        return finished > 0

    def mark_issued(self, credly_badge_id: str, event: Event, *,
                    digests: tuple[str, str] | None = None,
                    entry_test_date: date | None = None, **detail: Any) -> bool:
        """Record the Credly badge, the digests of whom it names (recipient_digests) and the
        test date it carries, when known; False if the claim was lost (lease taken over)."""
        return self._finish(State.ISSUED, event, credly_badge_id=credly_badge_id,
                            digests=digests, entry_test_date=entry_test_date, **detail)

    def mark_failed(self, error: str, *, maybe_applied: bool = False,
                    digests: tuple[str, str] | None = None) -> None:
        """Failed for good (Credly refused this badge): only a correction or an operator retries.

        `maybe_applied`: the attempt may have reached Credly, so a later try looks first.
        `digests`: whom the refused request named; a later check reopens the row when CTIMS
        names someone else (lifecycle/reopen_failed.sql), and only then.
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
        db.execute(self._conn, "ledger/record_settled.sql", self._params(
            event=str(event), reason=str(reason), detail=Jsonb(detail),
            terminal_events=[str(e) for e in TERMINAL_EVENTS]))
