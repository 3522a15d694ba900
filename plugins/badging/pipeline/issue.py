"""Issue one batch of planned badges through Credly, exactly once (docs/exactly-once.md)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from badging.core import audit, clock, db
from badging.core.constants import Event, Outcome, State
from badging.core.errors import (
    BadgingError,
    BatchIncomplete,
    BatchRefused,
    ClaimLost,
    CredlyAuthError,
    CredlyError,
    CredlyInvalidRequest,
    error_label,
)
from badging.core.lease import LEASE_SECONDS, Heartbeat
from badging.core.recipients import Recipient, recipient_digests, recipients
from badging.core.run import RunInfo
from badging.credly import TEMPLATE_DEFAULT, BadgeRequest, CredlyClient, Expiry
from badging.credly.classification import refuses_template_or_organization
from badging.pipeline.expiry import validities
from badging.pipeline.ledger import Claim, LedgerRow
from badging.reports.evidence import EvidencePolicy

log = logging.getLogger(__name__)

# How often a batch waits for badges another run holds in_flight to settle.
_HELD_POLL_SECONDS = 2.0


def worker_threads(concurrency: int) -> int:
    """Threads for `concurrency` Credly calls in flight: a few more, so that a thread busy
    with the ledger (claim before the call, result after) never leaves a call slot idle."""
    return concurrency + max(2, concurrency // 4)


# This many refusals of one template (or the organization) in the same words stop the batch:
# an archived template or a wrong organization id is the connection's or the template's
# fault, and failing every badge of it for good would hide that.
SAME_REFUSALS_TO_STOP = 3
# Why a planned badge was not issued: its Real-Time entry was deleted since (ledger error).
CERTIFICATION_GONE = "CertificationGone (deleted in CTIMS)"
# Why a planned badge was not issued: CTIMS names no usable recipient for its student now
# (a blank or malformed address or name, or no student row); reopened once it does.
RECIPIENT_UNKNOWN = "RecipientUnknown"
# Why a planned badge was not issued: by its entry's test date as CTIMS has it now, the badge
# would already be expired (corrected since plan, or left open past its expiry); a corrected
# entry reopens it.
EXPIRED_BEFORE_ISSUE = "BadgeExpired (expired before issue)"


@dataclass(frozen=True)
class BatchRow:
    """One open badge with what Credly needs; holds PII, so never logged or returned."""

    certification_id: int
    issuance_id: int
    template_id: str
    earner_id: str
    # Planned by another run and swept in by this one (docs/exactly-once.md).
    swept: bool
    assessment_code: str
    recipient: Recipient
    # The badge's expires_at from its test date (badging.core.validity), and its evidence.
    expiry: Expiry = TEMPLATE_DEFAULT
    evidence: tuple[dict[str, str], ...] = ()

    def request(self) -> BadgeRequest:
        return BadgeRequest(
            recipient_email=self.recipient.email, first_name=self.recipient.first_name,
            last_name=self.recipient.last_name, template_id=self.template_id,
            issued_at=self.recipient.test_date, earner_id=self.earner_id,
            badge_key=f"issuance#{self.issuance_id}",
            email_shared=self.recipient.email_shared, expiry=self.expiry,
            evidence=self.evidence,
        )


class _Connections:
    """One autocommit connection per worker thread: psycopg connections are not shared."""

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._local = threading.local()
        self._all: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self._conninfo, autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()


@contextmanager
def _thread_connections(conninfo: str) -> Iterator[_Connections]:
    pool = _Connections(conninfo)
    try:
        yield pool
    finally:
        pool.close()


class BatchIssuer:
    """Issues one batch with a bounded thread pool; every row ends issued, failed or retryable."""

    def __init__(self, run: RunInfo, client: CredlyClient, *, concurrency: int,
                 digest_secret: str | None = None, evidence: EvidencePolicy | None = None,
                 badging: str = db.BADGING_CONN_ID, ctims: str = db.CTIMS_CONN_ID):
        if concurrency < 1:
            raise ValueError(f"param 'concurrency' must be >= 1, got {concurrency}")
        self._run = run
        self._client = client
        self._concurrency = concurrency
        # `concurrency` bounds the calls in flight, not the threads (see worker_threads).
        self._call_slots = threading.BoundedSemaphore(concurrency)
        # Bounded sessions (docs/bounds.md): a held row lock or a vanished server ends a wait.
        self._conninfo = db.bounded_conninfo(badging, application_name="credly_badging.issue")
        self._ctims = ctims
        # The earner id's key: the ledger records whom each badge names as keyed digests
        # (None: the next badge check records them instead).
        self._digest_secret = digest_secret
        # What each badge's evidence says (the Variable badging_evidence; default: all).
        self._evidence = evidence or EvidencePolicy()
        self._stop = threading.Event()
        self._stopped_by: BadgingError | None = None
        self._counts: Counter[Outcome] = Counter()
        self._refusals: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def load(self, batch_no: int) -> list[BatchRow]:
        """The batch's open badges whose certification CTIMS still has (live, not deleted),
        whose student it names a usable recipient for, and whose badge would not already be
        expired; the others fail, saying why. Each badge's expiry and evidence come from its
        entry as CTIMS has it now."""
        now = clock.now()
        with psycopg.connect(self._conninfo) as conn:
            rows = db.execute(conn, "pipeline/issue/batch_rows.sql",
                              {"run_id": self._run.run_id, "batch_no": batch_no}).fetchall()
            found = recipients((row[0] for row in rows), ctims=self._ctims)
            valid = validities(conn)
            unusable: dict[str, list[tuple]] = {}
            for row in rows:
                recipient = found.get(row[0])
                why = CERTIFICATION_GONE if recipient is None else (
                    recipient.problem and f"{RECIPIENT_UNKNOWN} ({recipient.problem})")
                if (not why and recipient.test_date
                        and valid[row[5]].expired(recipient.test_date, now)):
                    why = EXPIRED_BEFORE_ISSUE
                if why:
                    unusable.setdefault(why, []).append(row)
            for why, failing in unusable.items():
                db.execute(conn, "pipeline/issue/fail_gone.sql", audit.run_params(self._run) | {
                    "issuance_ids": [row[1] for row in failing], "error": why,
                    "swept_ids": [row[1] for row in failing if row[4]]})
                log.warning("%d badges of the batch failed, not issued: %s", len(failing), why)
                self._count(Outcome.FAILED, len(failing))
        failed = {row[1] for failing in unusable.values() for row in failing}
        return [BatchRow(*row, recipient=found[row[0]],
                         expiry=valid.expiry(row[5], found[row[0]].test_date),
                         evidence=self._evidence.evidence(found[row[0]].entry))
                for row in rows if row[1] not in failed]

    def issue(self, batch_no: int, label: str) -> dict[str, int]:
        """Issue the batch; returns counts per outcome (no student data).

        Raises:
            CredlyAuthError: Credly refused the token; the batch stopped at once and the rows
                not yet attempted are untouched (still pending).
            BatchRefused: Credly refused a template (or the organization): those badges are
                pending again; SAME_REFUSALS_TO_STOP alike stopped the batch at once.
            BatchIncomplete: some rows are still retryable; Airflow's retry takes them.
        """
        rows = self.load(batch_no)
        total = len(rows)
        log.info("%s: %d badges to issue with %d in flight at most", label, total,
                 self._concurrency)
        progress_every = max(1, total // 10)
        done = 0
        with _thread_connections(self._conninfo) as connections, \
                Heartbeat(self._conninfo, self._run.holder), \
                ThreadPoolExecutor(worker_threads(self._concurrency),
                                   thread_name_prefix="issue") as pool:
            held: list[BatchRow] = []
            try:
                for row, outcome in zip(rows, pool.map(
                        lambda r: self._issue_row(r, connections), rows), strict=True):
                    self._count(outcome)
                    if outcome == Outcome.HELD_ELSEWHERE:
                        held.append(row)
                    done += 1
                    if done % progress_every == 0 or done == total:
                        log.info("%s: %d of %d done %s", label, done, total, self._summary())
                if held and not self._stop.is_set():
                    self._settle_held(held, connections, label)
            except BaseException:
                # The task's execution_timeout (raised in this thread) or a kill: rows still
                # queued must not start while the pool winds down.
                self._stop.set()
                raise
        counts = {str(outcome): n for outcome, n in self._counts.items()}
        # A refused template fails the task without retry even below the stop count:
        # retrying cannot help until a person fixes the template.
        stopped_by = self._stopped_by or self._refusal_error()
        if stopped_by is not None:
            raise stopped_by
        retryable = sum(counts.get(o, 0) for o in (Outcome.RETRY_LATER, Outcome.HELD_ELSEWHERE,
                                                    Outcome.NOT_ATTEMPTED))
        if retryable:
            raise BatchIncomplete(f"{label}: {retryable} of {total} badges are still retryable "
                                  f"{self._summary()}")
        return counts

    def _count(self, outcome: Outcome, delta: int = 1) -> None:
        with self._lock:
            self._counts[outcome] += delta

    def _summary(self) -> str:
        with self._lock:
            return "(" + ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items())) + ")"

    def _stop_batch(self, error: BadgingError) -> None:
        with self._lock:
            self._stopped_by = self._stopped_by or error
        self._stop.set()

    def _issue_row(self, row: BatchRow, connections: _Connections) -> Outcome:
        """One badge, start to end; whatever goes wrong ends this row only."""
        if self._stop.is_set():
            return Outcome.NOT_ATTEMPTED
        ledger = LedgerRow(connections.get(), self._run, row.issuance_id, row.certification_id,
                           swept=row.swept)
        # Claim only when a call can start: a claimed row never waits for a call slot or
        # for the process's 429 pause (the Heartbeat would keep it, but nobody else could).
        with self._call_slots:
            self._client.wait_until_callable()
            if self._stop.is_set():
                return Outcome.NOT_ATTEMPTED
            try:
                claim = ledger.claim()
            except psycopg.Error as error:
                log.warning("%s: could not claim (%s); left for a retry", ledger.key,
                            type(error).__name__)
                return Outcome.RETRY_LATER
            if claim is not None:
                # Whom the badge names, recorded however the attempt ends: a check reopens a
                # failed badge only when CTIMS names someone else (else it loops nightly).
                digests = self._digests(row.recipient)
                try:
                    outcome = self._attempt(row, digests, ledger, claim)
                except Exception as error:  # one row must not stop the batch
                    return self._end_after_unexpected(ledger, error, digests)
                if outcome != Outcome.HELD_ELSEWHERE:
                    return outcome
        return self._not_claimed(ledger, row)

    def _digests(self, recipient: Recipient) -> tuple[str, str] | None:
        if self._digest_secret is None:
            return None
        return recipient_digests(self._digest_secret, recipient.email, recipient.first_name,
                                 recipient.last_name)

    def _attempt(self, row: BatchRow, digests: tuple[str, str] | None, ledger: LedgerRow,
                 claim: Claim) -> Outcome:
        """Call Credly for a claimed row and record the answer (docs/exactly-once.md)."""
        request = row.request()
        maybe_applied = claim.look_up_first
        try:
            if maybe_applied:
                # A crashed or lost attempt may have reached Credly: look before posting.
                existing = self._client.find_existing_badge(request)
                if existing is not None:
                    ledger.mark_issued(existing.id, Event.ISSUED, digests=digests,
                                       entry_test_date=row.recipient.test_date,
                                       expires_at=existing.expires_at,
                                       recovered=True, attempt=claim.attempt)
                    return Outcome.ISSUED
                maybe_applied = False
            result = self._client.issue_badge(request, fence=lambda: self._fence(ledger))
        except ClaimLost:
            log.warning("%s: claim taken over before the call; left to its new holder",
                        ledger.key)
            return Outcome.HELD_ELSEWHERE
        except CredlyError as error:
            return self._refused(row, ledger, error, maybe_applied or error.maybe_applied,
                                 digests)
        event = Event.ISSUED if result.outcome == Outcome.ISSUED else Event.ALREADY_ISSUED
        detail: dict[str, Any] = {"attempt": claim.attempt, "recovered": result.recovered}
        if not ledger.mark_issued(result.badge.id, event, digests=digests,
                                  entry_test_date=row.recipient.test_date,
                                  expires_at=result.badge.expires_at, **detail):
            log.warning("%s: claim was taken over before the result was recorded", ledger.key)
        return Outcome.ISSUED if event == Event.ISSUED else Outcome.ALREADY_ISSUED

    @staticmethod
    def _fence(ledger: LedgerRow) -> None:
        if not ledger.renew():
            raise ClaimLost(f"{ledger.key}: the claim was taken over")

    def _refused(self, row: BatchRow, ledger: LedgerRow, error: CredlyError,
                 maybe_applied: bool, digests: tuple[str, str] | None) -> Outcome:
        """Record a Credly error; every exit keeps whether the badge may exist already."""
        label = error_label(error)
        if isinstance(error, CredlyAuthError):
            ledger.release(label, maybe_applied=maybe_applied)
            self._stop_batch(error)
            return Outcome.NOT_ATTEMPTED
        if isinstance(error, CredlyInvalidRequest) and refuses_template_or_organization(error):
            # Not this badge's fault: pending again, and enough of them stop the batch.
            ledger.release(label, maybe_applied=maybe_applied)
            self._count_refusal(row.template_id, error)
            return Outcome.RETRY_LATER
        if isinstance(error, CredlyInvalidRequest):
            ledger.mark_failed(label, maybe_applied=maybe_applied, digests=digests)
            log.warning("%s failed for good: %s", ledger.key, error)
            return Outcome.FAILED
        # Throttled, unreachable, or the outcome unknown even after the client's retries.
        if maybe_applied:
            log.warning("%s: %s, and an attempt may have reached Credly; the next claimer "
                        "looks it up first", ledger.key, label)
        ledger.release(label, maybe_applied=maybe_applied)
        return Outcome.RETRY_LATER

    def _count_refusal(self, template_id: str, error: CredlyInvalidRequest) -> None:
        key = (template_id, f"{error.detail} ({error_label(error)})")
        with self._lock:
            self._refusals[key] += 1
            refused = self._refusals[key]
        if refused >= SAME_REFUSALS_TO_STOP:
            self._stop_batch(_refused_error(key, refused))

    def _refusal_error(self) -> BatchRefused | None:
        """The batch's most frequent template-level refusal, as the task's one error."""
        with self._lock:
            if not self._refusals:
                return None
            key, refused = self._refusals.most_common(1)[0]
        return _refused_error(key, refused)

    def _end_after_unexpected(self, ledger: LedgerRow, error: Exception,
                              digests: tuple[str, str] | None) -> Outcome:
        """A fault of ours after the claim (a constraint, a bug): end this row as failed.

        The class name only: a database error's DETAIL line can hold a Credly badge id.
        It may have reached Credly, so whoever reopens it looks first.
        """
        name = type(error).__name__
        try:
            ledger.mark_failed(name, maybe_applied=True, digests=digests)
        except psycopg.Error:
            log.warning("%s: %s, and it could not be recorded; left in flight for the lease",
                        ledger.key, name)
            return Outcome.RETRY_LATER
        log.warning("%s: %s ended this badge's attempt; marked failed", ledger.key, name)
        return Outcome.FAILED

    def _not_claimed(self, ledger: LedgerRow, row: BatchRow) -> Outcome:
        """The row was not ours to take (or was taken over): settled, or held by another run."""
        snapshot = ledger.snapshot()
        if row.swept and snapshot.held_by_other:
            # Another run's badge that it is issuing right now: its business, not ours.
            return Outcome.LEFT_TO_HOLDER
        if snapshot.held_by_other or snapshot.state == State.PENDING:
            # Another run holds it, or released it between our claim and our look: the
            # settle loop comes back for it.
            return Outcome.HELD_ELSEWHERE
        if not row.swept:
            # Settled by another run, or by an earlier try or clear of this one: the audit
            # gets this run's terminal event unless the run already has one for the row.
            ledger.record_outcome_of_other_run(snapshot)
        return Outcome.SETTLED_EARLIER

    def _settle_held(self, held: list[BatchRow], connections: _Connections, label: str) -> None:
        """Wait for rows another run holds: a live holder finishes them, a dead one's lease
        runs out (twice the lease is enough for either), then settle or take them over."""
        log.info("%s: %d badges are in flight in another run; waiting for them", label,
                 len(held))
        deadline = time.monotonic() + 2 * LEASE_SECONDS
        waiting = held
        while waiting and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(_HELD_POLL_SECONDS)
            still = []
            for row in waiting:
                outcome = self._issue_row(row, connections)
                if outcome == Outcome.HELD_ELSEWHERE:
                    still.append(row)
                else:
                    self._count(Outcome.HELD_ELSEWHERE, -1)
                    self._count(outcome)
            waiting = still


def _refused_error(key: tuple[str, str], refused: int) -> BatchRefused:
    template_id, why = key
    return BatchRefused(
        f"Credly refused {refused} badges of template {template_id}: {why}. Fix the template "
        f"in Credly (or badging.badge_templates), then clear this task; the badges are pending")
