"""One claim protocol for every Credly write (docs/exactly-once.md): claim, fence, heartbeat,
end, and the lease after which a dead holder's claim is taken over.

An issue attempt on a ledger row and a revocation or correction attempt on a revocation row
are both *subjects* of a lease in `badging.lease`. Each subject's own claim and finish
statements (pipeline/issue/claim.sql, pipeline/issue/finish_attempt.sql,
lifecycle/revocation/claim_revocation.sql, lifecycle/revocation/finish_revocation.sql) change
its state in the same statement as they take or end the lease through `badging.take_lease` /
`badging.end_lease` (migration 011): the takeover rule lives there once. This module holds
the rest, once: the fence and the heartbeat.
"""

from __future__ import annotations

import logging
import os
import threading
from enum import StrEnum
from typing import Any

import psycopg

from badging.core import db
from badging.core.errors import ClaimLost

log = logging.getLogger(__name__)

# A claim not renewed for this long belongs to a dead worker, and anyone may take it over.
# A live holder renews its claims every HEARTBEAT_SECONDS (Heartbeat) and right before each
# Credly write (Lease.fence), so its longest gap between renewals is a heartbeat or one
# request (connect + read timeouts, 35 s): the lease is several times both, and a dead
# holder's rows are taken over within two minutes. The environment may shorten it (tests).
LEASE_SECONDS = int(os.environ.get("BADGING_LEASE_SECONDS", 90))
HEARTBEAT_SECONDS = max(1.0, LEASE_SECONDS / 6)


class Subject(StrEnum):
    """What a lease holds (`badging.lease.subject`)."""

    ISSUANCE = "issuance"
    REVOCATION = "revocation"


class Lease:
    """One attempt's claim on one subject, as its claim statement took it.

    The connection must be in autocommit mode: every statement is its own transaction,
    committed before Credly hears of the attempt.
    """

    def __init__(self, conn: psycopg.Connection, subject: Subject, subject_id: int,
                 holder: str):
        if not conn.autocommit:
            raise ValueError("a lease needs an autocommit connection")
        self.conn = conn
        self.subject = subject
        self.subject_id = subject_id
        self.holder = holder
        # Set by the subject's claim statement: the attempt that holds the claim.
        self.attempt: int | None = None

    @property
    def key(self) -> str:
        """The surrogate that names the subject in logs and errors (never a Credly id)."""
        return f"{self.subject}#{self.subject_id}"

    def params(self) -> dict[str, Any]:
        """What every claim and finish statement binds to find and fence this attempt."""
        return {"holder": self.holder, "lease_seconds": LEASE_SECONDS, "attempt": self.attempt}

    def renew(self) -> bool:
        """Renew the claim before a Credly write; False if it was taken over."""
        return bool(db.execute(self.conn, "core/lease/renew.sql", {
            "subject": str(self.subject), "subject_id": self.subject_id,
            "holder": self.holder, "attempt": self.attempt}).fetchone()[0])

    def fence(self) -> None:
        """The fence a Credly write runs right before it is sent.

        Raises:
            ClaimLost: the claim was taken over (a lease that passed): do not call.
        """
        if not self.renew():
            raise ClaimLost(f"{self.key}: the claim was taken over")


class Heartbeat:
    """Renews every claim of one holder every HEARTBEAT_SECONDS, on a thread of its own.

    While the process lives its claims stay held, however long a call waits (a Retry-After,
    the shared 429 pause); when it dies the renewals stop and the lease frees them. A failed
    renewal is logged and tried again next beat: the fence before each write is what stops a
    holder whose claim was taken over.
    """

    def __init__(self, conninfo: str, holder: str, interval: float = HEARTBEAT_SECONDS):
        self._conninfo = conninfo
        self._holder = holder
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="claims-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        conn = None
        while not self._stopped.wait(self._interval):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._conninfo, autocommit=True)
                db.execute(conn, "core/lease/heartbeat.sql", {"holder": self._holder})
            except psycopg.Error as error:
                log.warning("could not renew this task's claims (%s); trying again",
                            type(error).__name__)
                conn = None
        if conn is not None:
            conn.close()
