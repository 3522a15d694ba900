"""The revocation executor (docs/lifecycle.md, docs/recipient-corrections.md): the changes the
nightly check planned — revoke, replace, move — made in Credly exactly once, through the
shared lease (badging/core/lease.py), behind the revocation gate.

Each change re-reads CTIMS right before it touches Credly and is cancelled when what it was
planned for moved again: a revocation whose entry is back as issued, a correction whose new
name or address changed again or is blank tonight. A move issues the badge to the corrected
address, records it, and only then revokes the old one: the student always holds one live
badge. Nothing here changes a badge in a run that is not a night of the check, or whose
check the source guard blocked.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from badging.core import audit, db
from badging.core.constants import (
    GATE_PASSES,
    REVOCATION_TEXT,
    CorrectionAction,
    CredlyState,
    Event,
    Gate,
    RevocationState,
)
from badging.core.errors import (
    BatchIncomplete,
    ClaimLost,
    CredlyAuthError,
    CredlyError,
    CredlyInvalidRequest,
    CredlyUnresolvedDuplicate,
    error_label,
)
from badging.core.lease import LEASE_SECONDS, Heartbeat, Lease, Subject
from badging.core.recipients import Recipient, entries_as_issued, recipients
from badging.core.run import RunInfo
from badging.credly import BadgeRequest, CredlyClient
from badging.lifecycle.corrections import RecipientNow
from badging.pipeline.expiry import Validities, validities
from badging.reports.evidence import EvidencePolicy

log = logging.getLogger(__name__)

# How often `revoke` looks again at a change another holder has in flight.
_HELD_POLL_SECONDS = 2.0
# The outcome of a change another holder has in flight (or took over from this one).
HELD_ELSEWHERE = "held_elsewhere"


def may_change(run: RunInfo) -> bool:
    """Only a night of the check changes badges after issuance (RunInfo.is_nightly)."""
    return run.is_nightly


@dataclass(frozen=True)
class Planned:
    """One open change as open_revocations.sql reads it; holds a student id (never logged)."""

    revocation_id: int
    certification_id: int
    action: CorrectionAction
    live_certification_id: int | None
    template_id: str
    earner_id: str
    student_id: int
    assessment_code: str
    entry_test_date: date | None
    requested_by: str | None
    target: str | None
    new_badge_id: str | None


class RevocationRow:
    """One change's transitions, each one statement with its audit row (autocommit); the
    claim is the shared lease."""

    def __init__(self, conn: psycopg.Connection, run: RunInfo, planned: Planned):
        self.lease = Lease(conn, Subject.REVOCATION, planned.revocation_id, run.holder)
        self._conn = conn
        self._run = run
        self.planned = planned

    @property
    def key(self) -> str:
        return self.lease.key

    @property
    def attempt(self) -> int | None:
        return self.lease.attempt

    def fence(self) -> None:
        self.lease.fence()

    def _params(self, **extra: Any) -> dict[str, Any]:
        return audit.run_params(self._run) | self.lease.params() | {
            "revocation_id": self.planned.revocation_id,
            "certification_id": self.planned.certification_id, **extra}

    def claim(self) -> str | None:
        """Commit it in_flight for this attempt; the Credly badge id, or None if not ours."""
        row = db.execute(self._conn, "lifecycle/revocation/claim_revocation.sql",
                         self._params()).fetchone()
        if row is None:
            return None
        self.lease.attempt = row[0]
        return row[1]

    def held_by_other(self) -> bool:
        """Another holder has it in flight (a live run, or a dead one until its lease ends)."""
        state = db.execute(self._conn, "lifecycle/revocation/revocation_state.sql",
                           {"revocation_id": self.planned.revocation_id}).fetchone()
        return state is not None and state[0] == RevocationState.IN_FLIGHT

    def record_new_badge(self, badge_id: str) -> None:
        """A move's new badge, committed before the old one is revoked.

        Raises:
            ClaimLost: the claim was taken over; its new holder finds the badge in Credly.
        """
        if db.execute(self._conn, "lifecycle/revocation/record_new_badge.sql", self._params(
                replacement_badge_id=badge_id)).fetchone() is None:
            raise ClaimLost(f"{self.key}: the claim was taken over")

    def finish(self, done: Done, error: str | None = None) -> bool:
        # Badge ids and Credly states only in the detail: no student data.
        detail = {"attempt": self.attempt, "replacement_badge_id": done.replacement_badge_id,
                  "credly_state": done.credly_state}
        return db.execute(self._conn, "lifecycle/revocation/finish_revocation.sql", self._params(
            revocation_state=str(done.state), event=str(done.event), error=error,
            replacement_badge_id=done.replacement_badge_id,
            entry_test_date=done.entry_test_date,
            detail=Jsonb({k: v for k, v in detail.items() if v is not None}))).rowcount > 0


@dataclass(frozen=True)
class Done:
    """How one claimed revocation or correction ends (finish_revocation.sql)."""

    state: RevocationState
    event: Event
    replacement_badge_id: str | None = None
    credly_state: str | None = None
    entry_test_date: date | None = None


CANCELLED = Done(RevocationState.CANCELLED, Event.REVOKE_CANCELLED)
Call = Callable[[RevocationRow, str], Done]


@dataclass(frozen=True)
class Executor:
    """What every change's call needs: Credly, the run's policy, and CTIMS as re-read."""

    client: CredlyClient
    suppress_notification: bool
    digest_secret: str
    # The live entries corrections name now, and the revoked badges' entries back as issued.
    found: dict[int, Recipient]
    back_as_issued: frozenset[tuple[int, str, date]]
    # What a replaced or moved badge says besides its earner: its expiry from the test date
    # (as a new badge's) and its evidence.
    valid: Validities = field(default_factory=lambda: Validities({}))
    evidence: EvidencePolicy = field(default_factory=EvidencePolicy)

    def call_for(self, planned: Planned) -> Call:
        if planned.action == CorrectionAction.REPLACE:
            return self._replace
        if planned.action == CorrectionAction.MOVE:
            return self._move
        return self._revoke

    def _revoke(self, row: RevocationRow, badge_id: str) -> Done:
        p = row.planned
        # Its own entry is back as issued since the check (re-entered, undeleted, the test
        # date put back): the next check decides it again. An operator's request stands.
        if p.requested_by is None and (p.student_id, p.assessment_code,
                                       p.entry_test_date) in self.back_as_issued:
            return CANCELLED
        self.client.revoke_badge(badge_id, REVOCATION_TEXT, self.suppress_notification,
                                 fence=row.fence, badge_key=row.key)
        return Done(RevocationState.REVOKED, Event.REVOKED)

    def _recipient(self, row: RevocationRow) -> Recipient | None:
        """The corrected recipient as CTIMS has it right now, if it is still the one the
        change was planned for (usable, the same digests); else None: cancel."""
        recipient = self.found.get(row.planned.live_certification_id)
        if recipient is None:
            return None
        now = RecipientNow.of(self.digest_secret, recipient.email, recipient.first_name,
                              recipient.last_name)
        return recipient if now.target == row.planned.target else None

    def _replace(self, row: RevocationRow, badge_id: str) -> Done:
        """A corrected name: Credly's replace, which keeps the address and links old and new."""
        recipient = self._recipient(row)
        if recipient is None:
            return CANCELLED
        if row.attempt and row.attempt > 1:
            # An earlier attempt may have replaced it (Credly refuses a second replace).
            old = self.client.get_badge(badge_id)
            if old is not None and old.replacement_badge_id:
                return Done(RevocationState.REPLACED, Event.REPLACED, old.replacement_badge_id)
        # replace_badge looks the replacement up itself when the response is lost.
        new = self.client.replace_badge(
            badge_id, row.planned.template_id, recipient.test_date,
            first_name=recipient.first_name, last_name=recipient.last_name,
            expiry=self.valid.expiry(row.planned.assessment_code, recipient.test_date),
            evidence=self.evidence.evidence(recipient.entry), badge_key=row.key,
            fence=row.fence)
        return Done(RevocationState.REPLACED, Event.REPLACED, new.id)

    def _move(self, row: RevocationRow, badge_id: str) -> Done:
        """A corrected address: a new badge to it first, recorded, then the old one revoked
        (Credly's replace keeps the address). An accepted or rejected badge is the earner's:
        left alone."""
        recipient = self._recipient(row)
        if recipient is None:
            return CANCELLED
        new_id = row.planned.new_badge_id
        badge = self.client.get_badge(badge_id)
        state = badge.state if badge else None
        # Revoked on a later attempt, its new badge recorded: our own crashed attempt's work.
        ours = state == CredlyState.REVOKED and new_id is not None
        if state != CredlyState.PENDING and not ours:
            return Done(RevocationState.KEPT, Event.EMAIL_CHANGED_AFTER_ACCEPTANCE,
                        credly_state=state)
        if new_id is None:
            new_id = self._issue_moved(row, recipient, badge_id)
            row.record_new_badge(new_id)
        self.client.revoke_badge(badge_id, REVOCATION_TEXT, self.suppress_notification,
                                 fence=row.fence, badge_key=row.key)
        return Done(RevocationState.MOVED, Event.EMAIL_MOVED, new_id,
                    entry_test_date=recipient.test_date)

    def _issue_moved(self, row: RevocationRow, recipient: Recipient, old_id: str) -> str:
        """The badge at the corrected address, without the earner id the old, still live
        badge carries (Credly refuses a second live badge of a template for one earner id);
        a lost response is found at the new address by the client."""
        request = BadgeRequest(
            recipient_email=recipient.email, first_name=recipient.first_name,
            last_name=recipient.last_name, template_id=row.planned.template_id,
            issued_at=recipient.test_date, earner_id=row.planned.earner_id,
            badge_key=row.key, email_shared=recipient.email_shared, send_earner_id=False,
            expiry=self.valid.expiry(row.planned.assessment_code, recipient.test_date),
            evidence=self.evidence.evidence(recipient.entry))
        result = self.client.issue_badge(request, fence=row.fence)
        if result.badge.id == old_id:
            # A lookup resolved the new badge to the old one: never record that as a move.
            raise CredlyUnresolvedDuplicate("the corrected address resolved to the old badge",
                                            status=422, badge_key=row.key)
        return result.badge.id


def revoke(run: RunInfo, client: CredlyClient, *, suppress_notification: bool,
           digest_secret: str, evidence: EvidencePolicy | None = None,
           badging: str = db.BADGING_CONN_ID, ctims: str = db.CTIMS_CONN_ID) -> dict[str, int]:
    """Make the run's planned revocations, replaces and moves in Credly, if the run is a
    night of the check, its source guard passed and its gate passed.

    Returns:
        Counts per outcome (no student data).

    Raises:
        CredlyAuthError: Credly refused the token (the rest stay planned).
        BatchIncomplete: some changes are still retryable; Airflow's retry takes them.
    """
    if not may_change(run):
        log.info("not a nightly run: no badge is changed after issuance (the check audited "
                 "what it would do)")
        return {}
    conninfo = db.bounded_conninfo(badging, application_name="credly_badging.revoke")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        checked = db.execute(conn, "lifecycle/revocation/blocked.sql",
                             {"run_id": run.run_id}).fetchone()
        if checked is None or checked[0] or not checked[1]:
            log.warning("nothing changed: %s", checked[0] if checked and checked[0]
                        else "no nightly badge check in this run")
            return {}
        decision = db.execute(conn, "gates/approval/decision.sql",
                              {"run_id": run.run_id, "gate": str(Gate.REVOCATION)}).fetchone()
        why = decision[0] if decision else "no gate decision"
        # What an operator held before runs only on this run's own approval (docs/gates.md).
        passes = why in GATE_PASSES
        approved = why == Event.APPROVED
        if not approved:
            kept = db.execute(conn, "lifecycle/revocation/hold.sql", audit.run_params(run) | {
                "detail": Jsonb({"gate": why}), "only_held": passes}).rowcount
            if kept or not passes:
                log.warning("revocations held (%s): %d badges stay open; the next run asks "
                            "again", why, kept)
            if not passes:
                return {"held": kept}
        planned = [Planned(*row) for row in db.execute(
            conn, "lifecycle/revocation/open_revocations.sql",
            {"run_id": run.run_id, "include_held": approved}).fetchall()]
        executor = replace(_executor(client, planned, suppress_notification, digest_secret, ctims),
                           valid=validities(conn), evidence=evidence or EvidencePolicy())
        counts: Counter[str] = Counter()
        held: list[tuple[RevocationRow, Call]] = []
        with Heartbeat(conninfo, run.holder):
            for one in planned:
                row, call = RevocationRow(conn, run, one), executor.call_for(one)
                outcome = _settle(row, client, call)
                if outcome == HELD_ELSEWHERE:
                    held.append((row, call))
                else:
                    counts[outcome] += 1
            counts.update(_settle_held(held, client))
    log.info("revocations and corrections: %s", dict(counts))
    unsettled = counts["retry_later"] + counts[HELD_ELSEWHERE]
    if unsettled:
        raise BatchIncomplete(f"{unsettled} of {len(planned)} revocations are still retryable "
                              f"or held elsewhere {dict(counts)}")
    return dict(counts)


def _executor(client: CredlyClient, planned: list[Planned], suppress_notification: bool,
              digest_secret: str, ctims: str) -> Executor:
    """Re-read CTIMS for the run's changes, right before any of them touches Credly."""
    wanted = {p.live_certification_id for p in planned
              if p.action != CorrectionAction.REVOKE and p.live_certification_id is not None}
    revokes = [p for p in planned if p.action == CorrectionAction.REVOKE
               and p.requested_by is None and p.entry_test_date is not None]
    return Executor(client=client, suppress_notification=suppress_notification,
                    digest_secret=digest_secret,
                    found=recipients(wanted, ctims=ctims) if wanted else {},
                    back_as_issued=frozenset(entries_as_issued(
                        [(p.student_id, p.assessment_code, p.entry_test_date) for p in revokes],
                        ctims=ctims) if revokes else ()))


def _settle_held(held: list[tuple[RevocationRow, Call]], client: CredlyClient) -> Counter[str]:
    """Wait for changes another holder has in flight: a live one finishes them, a dead one's
    lease runs out (twice the lease is enough for either); then settle or take them over.
    What is still held at the end counts as held_elsewhere (the task's retry comes back)."""
    counts: Counter[str] = Counter()
    if not held:
        return counts
    log.info("%d revocations are in flight elsewhere; waiting for them", len(held))
    deadline = time.monotonic() + 2 * LEASE_SECONDS
    while held and time.monotonic() < deadline:
        time.sleep(_HELD_POLL_SECONDS)
        still = []
        for row, call in held:
            outcome = _settle(row, client, call)
            if outcome == HELD_ELSEWHERE:
                still.append((row, call))
            else:
                counts[outcome] += 1
        held = still
    if held:
        counts[HELD_ELSEWHERE] = len(held)
    return counts


def _settle(row: RevocationRow, client: CredlyClient, call: Call) -> str:
    """Claim, call, finish one revocation or correction; returns its outcome's name."""
    client.wait_until_callable()
    badge_id = row.claim()
    if badge_id is None:
        return HELD_ELSEWHERE if row.held_by_other() else "settled_earlier"
    try:
        done = call(row, badge_id)
    except ClaimLost:
        return HELD_ELSEWHERE
    except CredlyAuthError as error:
        row.finish(Done(RevocationState.PLANNED, Event.RETRY_LATER), error_label(error))
        raise
    except CredlyInvalidRequest as error:
        # Credly refuses this change for good (the badge was deleted or replaced there, or
        # the corrected address holds another earner's badge): a person decides; the
        # report lists it.
        row.finish(Done(RevocationState.FAILED, Event.REVOKE_FAILED), error_label(error))
        log.warning("%s failed for good: %s", row.key, error_label(error))
        return "failed"
    except CredlyError as error:
        row.finish(Done(RevocationState.PLANNED, Event.RETRY_LATER), error_label(error))
        return "retry_later"
    except Exception as error:  # one revocation must not stop the others
        row.finish(Done(RevocationState.FAILED, Event.REVOKE_FAILED), type(error).__name__)
        log.warning("%s: %s ended this revocation; marked failed", row.key,
                    type(error).__name__)
        return "failed"
    if not row.finish(done):
        log.warning("%s: claim was taken over before the result was recorded", row.key)
    return str(done.state)
