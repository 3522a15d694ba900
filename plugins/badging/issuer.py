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
from datetime import date
from typing import Any

import psycopg

from badging import db
from badging.constants import Event, Outcome, State
from badging.credly import BadgeRequest, CredlyClient
from badging.errors import (
    BatchIncomplete,
    CredlyAuthError,
    CredlyInvalidRequest,
    CredlyRetryableError,
    CredlyUnknownOutcome,
)
from badging.ledger import LEASE_SECONDS, LedgerRow
from badging.run import RunInfo

log = logging.getLogger(__name__)

# How often a batch waits for badges another run holds in_flight to settle.
_HELD_POLL_SECONDS = 2.0


def worker_threads(concurrency: int) -> int:
    """Threads for `concurrency` Credly calls in flight: a few more, so that a thread busy
    with the ledger (claim before the call, result after) never leaves a call slot idle."""
    return concurrency + max(2, concurrency // 4)


@dataclass(frozen=True)
class BatchRow:
    """One planned badge with what Credly needs; holds PII, so never logged or returned."""

    certification_id: int
    issuance_id: int
    email: str
    first_name: str
    last_name: str
    test_date: date
    template_id: str
    earner_id: str

    def request(self) -> BadgeRequest:
        return BadgeRequest(
            recipient_email=self.email, first_name=self.first_name, last_name=self.last_name,
            template_id=self.template_id, issued_at=self.test_date, earner_id=self.earner_id,
            badge_key=f"issuance#{self.issuance_id}",
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
            conn = psycopg.connect(self._conninfo, autocommit=True,
                                   application_name="credly_badging.issue")
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
                 badging: str = db.BADGING_CONN_ID):
        if concurrency < 1:
            raise ValueError(f"param 'concurrency' must be >= 1, got {concurrency}")
        self._run = run
        self._client = client
        self._concurrency = concurrency
        # `concurrency` bounds the calls in flight, not the threads (see worker_threads).
        self._call_slots = threading.BoundedSemaphore(concurrency)
        self._conninfo = db.resolve_dsn(badging)
        self._stop = threading.Event()
        self._auth_error: CredlyAuthError | None = None
        self._counts: Counter[Outcome] = Counter()
        self._counts_lock = threading.Lock()

    def load(self, batch_no: int) -> list[BatchRow]:
        with psycopg.connect(self._conninfo) as conn:
            rows = db.execute(conn, "issue/batch_rows.sql",
                              {"run_id": self._run.run_id, "batch_no": batch_no}).fetchall()
        return [BatchRow(*row) for row in rows]

    def issue(self, batch_no: int, label: str) -> dict[str, int]:
        """Issue the batch; returns counts per outcome (no student data).

        Raises:
            CredlyAuthError: Credly refused the token; the batch stopped at once and the rows
                not yet attempted are untouched (still pending).
            BatchIncomplete: some rows are still retryable; Airflow's retry takes them.
        """
        rows = self.load(batch_no)
        total = len(rows)
        log.info("%s: %d badges to issue with %d in flight at most", label, total,
                 self._concurrency)
        progress_every = max(1, total // 10)
        done = 0
        with _thread_connections(self._conninfo) as connections, \
                ThreadPoolExecutor(worker_threads(self._concurrency),
                                   thread_name_prefix="issue") as pool:
            held: list[BatchRow] = []
            for row, outcome in zip(rows, pool.map(lambda r: self._issue_row(r, connections),
                                                   rows), strict=True):
                self._count(outcome)
                if outcome == Outcome.HELD_ELSEWHERE:
                    held.append(row)
                done += 1
                if done % progress_every == 0 or done == total:
                    log.info("%s: %d of %d done %s", label, done, total, self._summary())
            if held and not self._stop.is_set():
                self._settle_held(held, connections, label)
        counts = {str(outcome): n for outcome, n in self._counts.items()}
        if self._auth_error is not None:
            raise self._auth_error
        retryable = counts.get(Outcome.RETRY_LATER, 0) + counts.get(Outcome.HELD_ELSEWHERE, 0)
        if retryable:
            raise BatchIncomplete(f"{label}: {retryable} of {total} badges are still retryable "
                                  f"{self._summary()}")
        return counts

    def _count(self, outcome: Outcome, delta: int = 1) -> None:
        with self._counts_lock:
            self._counts[outcome] += delta

    def _summary(self) -> str:
        with self._counts_lock:
            return "(" + ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items())) + ")"

    def _issue_row(self, row: BatchRow, connections: _Connections) -> Outcome:
        if self._stop.is_set():
            return Outcome.NOT_ATTEMPTED
        ledger = LedgerRow(connections.get(), self._run, row.issuance_id, row.certification_id)
        claim = ledger.claim()
        if claim is None:
            return self._not_claimed(ledger)
        request = row.request()
        # A crashed attempt may have reached Credly: until a lookup says otherwise, the row
        # must stay in_flight so that whoever takes it next looks before posting.
        maybe_applied = claim.previous_state == State.IN_FLIGHT
        try:
            if maybe_applied:
                with self._call_slots:
                    existing = self._client.find_existing_badge(request)
                if existing is not None:
                    ledger.mark_issued(existing.id, Event.ISSUED, recovered=True,
                                       attempt=claim.attempt)
                    return Outcome.ISSUED
                maybe_applied = False
            with self._call_slots:
                result = self._client.issue_badge(request)
        except CredlyAuthError as error:
            self._release_unless(maybe_applied, ledger, error)
            self._auth_error = error
            self._stop.set()
            return Outcome.NOT_ATTEMPTED
        except CredlyInvalidRequest as error:
            ledger.mark_failed(_error_label(error))
            log.warning("%s failed for good: %s", ledger.key, error)
            return Outcome.FAILED
        except CredlyUnknownOutcome:
            # Credly may hold the badge: the row stays in_flight, so whoever takes it next
            # (this task's retry, or anyone after the lease) looks it up before posting.
            log.warning("%s: outcome unknown after retries; left in_flight", ledger.key)
            return Outcome.RETRY_LATER
        except CredlyRetryableError as error:
            # Throttled or never reached Credly, even after the client's own retries.
            self._release_unless(maybe_applied, ledger, error)
            return Outcome.RETRY_LATER
        event = Event.ISSUED if result.outcome == Outcome.ISSUED else Event.ALREADY_ISSUED
        detail: dict[str, Any] = {"attempt": claim.attempt, "recovered": result.recovered}
        if not ledger.mark_issued(result.badge.id, event, **detail):
            log.warning("%s: claim was taken over before the result was recorded", ledger.key)
        return Outcome.ISSUED if event == Event.ISSUED else Outcome.ALREADY_ISSUED

    @staticmethod
    def _release_unless(maybe_applied: bool, ledger: LedgerRow, error: Exception) -> None:
        """Hand the row back as pending, unless an earlier attempt may have issued it."""
        if maybe_applied:
            log.warning("%s: could not look up a crashed attempt (%s); left in_flight",
                        ledger.key, _error_label(error))
        else:
            ledger.release(_error_label(error))

    def _not_claimed(self, ledger: LedgerRow) -> Outcome:
        """The row was not ours to take: settled already, or held by another run."""
        snapshot = ledger.snapshot()
        if snapshot.held_by_other or snapshot.state == State.PENDING:
            # Another run holds it, or released it between our claim and our look: the
            # settle loop comes back for it.
            return Outcome.HELD_ELSEWHERE
        # Settled by another run, or by an earlier try or clear of this one: the audit gets
        # this run's terminal event unless the run already has one for the row.
        ledger.record_outcome_of_other_run(snapshot)
        return Outcome.SETTLED_EARLIER

    def _settle_held(self, held: list[BatchRow], connections: _Connections, label: str) -> None:
        """Wait (up to the lease) for rows another run holds, then settle or take them over."""
        log.info("%s: %d badges are in flight in another run; waiting for them", label,
                 len(held))
        deadline = time.monotonic() + LEASE_SECONDS
        waiting = held
        while waiting and time.monotonic() < deadline:
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


def _error_label(error: Exception) -> str:
    """What the ledger and audit keep of an error: its class and HTTP status, never text."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status else "")
