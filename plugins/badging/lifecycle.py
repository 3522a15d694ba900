"""A badge's life after issuance (docs/lifecycle.md): checked every run, revoked when CTIMS
no longer justifies it, issued again when the justification comes back.

`check_badges` compares every issued badge with every live CTIMS row (one COPY, the same
eligibility rules as the day's rows) and counts run days of lost justification; a badge
unjustified for `grace_days` successive run days gets a planned revocation. The revocation
gate asks an operator when a run would revoke many; `revoke` then calls Credly with the
issuing protocol's claim, fence and lease (docs/exactly-once.md). Nothing here revokes in a
dry run, a backfill, or a run whose source looks collapsed.

The same check and task correct a justified badge whose student's name or email was fixed in
CTIMS (docs/recipient-corrections.md): `badging.revocation.action` replace or move.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from badging import audit, db, sql
from badging.approval import Check
from badging.constants import (
    GATE_PASSES,
    REVOCATION_TEXT,
    REVOCATIONS_WITHOUT_APPROVAL,
    RUN_TYPE_BACKFILL,
    CorrectionAction,
    Event,
    Gate,
    RevocationState,
)
from badging.credly import CredlyClient
from badging.errors import (
    BatchIncomplete,
    ClaimLost,
    CredlyAuthError,
    CredlyError,
    CredlyInvalidRequest,
    error_label,
)
from badging.extract import Recipient, recipients, stage_all_rows
from badging.ledger import LEASE_SECONDS, Heartbeat, recipient_digests
from badging.markdown import escape
from badging.run import RunInfo, run_type

log = logging.getLogger(__name__)

# The check stages the live CTIMS rows under the run's id plus this (run-scoped, dropped
# when the check ends).
LIVE_SUFFIX = "#live"
# A live CTIMS total below this share of the previous check's is a broken source (a
# truncated or half-loaded table), not corrections: the run revokes nothing.
COLLAPSE_SHARE = 0.9
# How often `revoke` looks again at a change another holder has in flight.
_HELD_POLL_SECONDS = 2.0
# The outcome of a change another holder has in flight (or took over from this one).
HELD_ELSEWHERE = "held_elsewhere"


@dataclass(frozen=True)
class BadgeCheck:
    """What one run's check found; counts only (XCom, logs)."""

    live_rows: int
    live_badges: int
    unjustified: int
    # Why the run may not revoke, or None.
    blocked: str | None
    # False in dry runs and backfills: they audit would_revoke and count no day.
    counted: bool


def may_revoke(run: RunInfo, run_type: str) -> bool:
    """Dry runs and backfills never revoke (a backfill reports what it would revoke)."""
    return not run.dry_run and run_type != RUN_TYPE_BACKFILL


def collapse(live_rows: int, previous: int | None) -> str | None:
    """Why a live total looks like a broken source, or None."""
    if previous and live_rows < previous * COLLAPSE_SHARE:
        return (f"CTIMS holds {live_rows} Real-Time rows, {previous} at the previous check: "
                f"a collapsed source, not corrections; nothing revoked")
    return None


def check_badges(run: RunInfo, *, grace_days: int, program_launch: date, counted: bool,
                 digest_secret: str, ctims: str = db.CTIMS_CONN_ID,
                 badging: str = db.BADGING_CONN_ID) -> BadgeCheck:
    """Check every issued badge against the live CTIMS rows, count the run's day in each
    unjustified badge's streak, and plan the revocations whose grace is over.

    Args:
        grace_days: successive run days a badge must be found unjustified to be revoked.
        counted: False for dry runs and backfills (they only audit would_revoke,
            would_replace and would_move).
        digest_secret: the earner id's key, for the recipient digests (ledger.recipient_digests).

    Raises:
        ValueError: grace_days below 1.
    """
    if grace_days < 1:
        raise ValueError(f"param 'revocation_grace_days' must be >= 1, got {grace_days}")
    live_run_id = run.run_id + LIVE_SUFFIX
    stage_all_rows(live_run_id, ctims=ctims, badging=badging)
    params = audit.run_params(run) | {"live_run_id": live_run_id, "day": run.day,
                                      "grace_days": grace_days}
    try:
        with db.connect(badging) as conn:
            db.execute(conn, "eligibility/decide.sql",
                       {"run_id": live_run_id, "program_launch": program_launch})
            db.execute(conn, "lifecycle/justification.sql", params)
            live_rows, live_badges, unjustified = db.execute(
                conn, "lifecycle/counts.sql", params).fetchone()
            previous = db.execute(conn, "lifecycle/previous_live_rows.sql", params).fetchone()
            blocked = collapse(live_rows, previous[0] if previous else None)
            if blocked:
                log.warning("revocations blocked: %s", blocked)
            elif not counted:
                db.execute(conn, "lifecycle/would_revoke.sql", params)
                _load_recipients(conn, params, digest_secret)
                db.execute(conn, "lifecycle/would_correct.sql", params)
            else:
                _load_recipients(conn, params, digest_secret)
                db.execute(conn, "lifecycle/cancel_stale_corrections.sql", params)
                db.execute(conn, "lifecycle/clear_justified.sql", params)
                db.execute(conn, "lifecycle/mark_unjustified.sql", params)
                db.execute(conn, "lifecycle/plan_revocations.sql", params)
                db.execute(conn, "lifecycle/baseline_digests.sql", params)
                db.execute(conn, "lifecycle/plan_corrections.sql", params)
            db.execute(conn, "lifecycle/record_check.sql", params | {
                "live_rows": live_rows, "live_badges": live_badges,
                "unjustified": unjustified, "blocked": blocked})
    finally:
        with db.connect(badging) as conn:
            db.execute(conn, "lifecycle/drop_live_rows.sql", {"live_run_id": live_run_id})
    found = BadgeCheck(live_rows, live_badges, unjustified, blocked, counted)
    log.info("badge check: %s", asdict(found))
    return found


def _load_recipients(conn: psycopg.Connection, params: dict[str, Any], secret: str) -> None:
    """Digest, here where the key lives, whom each justified badge should name now
    (lifecycle/recipient_now_table.sql); the names and addresses never leave this function."""
    rows = db.execute(conn, "lifecycle/live_recipients.sql", params).fetchall()
    db.execute(conn, "lifecycle/recipient_now_table.sql")
    with conn.cursor() as cur, cur.copy(sql.load("lifecycle/recipient_now_copy.sql")) as copy:
        for issuance_id, certification_id, email, first_name, last_name in rows:
            copy.write_row((issuance_id, certification_id,
                            *recipient_digests(secret, email, first_name, last_name)))


def open_revocations(run_id: str, badging: str = db.BADGING_CONN_ID
                     ) -> list[tuple[str, str, int, int]]:
    """(site, reason, badges, of them held by an earlier refusal) of the revocations the run
    decides."""
    with db.connect(badging) as conn:
        return db.execute(conn, "lifecycle/run_revocations.sql", {"run_id": run_id}).fetchall()


def revocation_check(context: dict[str, Any]) -> Check:
    """The revocation gate's check: the run's open revocations judged (revocation_judgement)."""
    run = RunInfo.from_context(context)
    limit = int(context["params"]["max_revocations_without_approval"])
    if not may_revoke(run, run_type(context)):
        return Check(ask=False, summary="a dry run or backfill revokes nothing", body="",
                     subject=f"Revoke nothing (run of {run.day})")
    return revocation_judgement(open_revocations(run.run_id), limit=limit, day=run.day)


def revocation_judgement(rows: list[tuple[str, str, int, int]], *, limit: int,
                         day: date) -> Check:
    """Ask an operator when the run would revoke more than `limit` badges
    (`max_revocations_without_approval`), and whenever an earlier run's operator held some
    (rejected, or left unanswered): those are revoked only on a new approval, whatever the
    threshold or `accept_revocations`. A limit above the default is recorded with who
    triggered the run. The form shows the badges per (escaped) site and reason.

    Args:
        rows: (site, reason, badges, of them held before), as open_revocations.
    """
    total = sum(n for _, _, n, _ in rows)
    held = sum(h for *_, h in rows)
    table = "\n".join(f"| {escape(site)} | {escape(reason)} | {n} | {h} |"
                      for site, reason, n, h in rows)
    held_note = (f"**{held} of them were held by an earlier run's operator** (rejected, or not "
                 "answered in time): they are revoked only if you approve now.\n\n"
                 if held else "")
    body = (f"**{total} badges** would be revoked in Credly, or replaced or moved for a "
            f"corrected name or email (reasons name_corrected, email_corrected); the earners "
            f"are told unless notifications are suppressed. At most {limit} are changed "
            f"without asking, and none that an operator held before.\n\n{held_note}"
            f"| site | reason | badges | held before |\n|---|---|---|---|\n{table}\n\n"
            "**Approve** to revoke them now. **Reject** to hold them: nothing is revoked, "
            "and the next run asks again. The rest of the run goes on either way.")
    summary = (f"{total} badges to revoke (at most {limit} without approval"
               + (f"; {held} held by an earlier decision" if held else "") + ")")
    ask = held > 0 or total > limit
    return Check(ask=ask, summary=summary, body=body,
                 subject=f"Revoke {total} badges (run of {day})?",
                 must_ask=held > 0,
                 passed_by_param=not ask and total > REVOCATIONS_WITHOUT_APPROVAL,
                 attributed=limit > REVOCATIONS_WITHOUT_APPROVAL,
                 detail={"revocations": total, "held_before": held, "maximum": limit,
                         "by_site": [{"site": s, "reason": r, "badges": n, "held_before": h}
                                     for s, r, n, h in rows]})


class RevocationRow:
    """One revocation's transitions, each one statement with its audit row (autocommit)."""

    def __init__(self, conn: psycopg.Connection, run: RunInfo, revocation_id: int,
                 certification_id: int):
        self._conn = conn
        self._run = run
        self.revocation_id = revocation_id
        self.certification_id = certification_id
        self.attempt: int | None = None

    @property
    def key(self) -> str:
        return f"revocation#{self.revocation_id}"

    def _params(self, **extra: Any) -> dict[str, Any]:
        return audit.run_params(self._run) | {
            "revocation_id": self.revocation_id, "certification_id": self.certification_id,
            "holder": self._run.holder, "lease_seconds": LEASE_SECONDS,
            "attempt": self.attempt, **extra}

    def claim(self) -> str | None:
        """Commit it in_flight for this attempt; the Credly badge id, or None if not ours."""
        row = db.execute(self._conn, "lifecycle/claim_revocation.sql", self._params()).fetchone()
        if row is None:
            return None
        self.attempt = row[0]
        return row[1]

    def held_by_other(self) -> bool:
        """Another holder has it in flight (a live run, or a dead one until its lease ends)."""
        state = db.execute(self._conn, "lifecycle/revocation_state.sql",
                           {"revocation_id": self.revocation_id}).fetchone()
        return state is not None and state[0] == RevocationState.IN_FLIGHT

    def fence(self) -> None:
        if db.execute(self._conn, "lifecycle/renew_revocation.sql", self._params()).rowcount == 0:
            raise ClaimLost(f"{self.key}: the claim was taken over")

    def finish(self, state: RevocationState, event: Event, error: str | None = None, *,
               replacement_badge_id: str | None = None, credly_state: str | None = None) -> bool:
        # Badge ids and Credly states only in the detail: no student data.
        detail = {"attempt": self.attempt, "replacement_badge_id": replacement_badge_id,
                  "credly_state": credly_state}
        return db.execute(self._conn, "lifecycle/finish_revocation.sql", self._params(
            revocation_state=str(state), event=str(event), error=error,
            replacement_badge_id=replacement_badge_id,
            detail=Jsonb({k: v for k, v in detail.items() if v is not None}))).rowcount > 0


def revoke(run: RunInfo, client: CredlyClient, *, run_type: str, suppress_notification: bool,
           badging: str = db.BADGING_CONN_ID) -> dict[str, int]:
    """Revoke the run's planned revocations in Credly, and make its planned name and email
    corrections (replace, move), if the run may and the gate passed.

    Returns:
        Counts per outcome (no student data).

    Raises:
        CredlyAuthError: Credly refused the token (the rest stay planned).
        BatchIncomplete: some revocations are still retryable; Airflow's retry takes them.
    """
    if not may_revoke(run, run_type):
        log.info("a dry run or backfill revokes nothing (its check audited would_revoke)")
        return {}
    conninfo = db.bounded_conninfo(badging, application_name="credly_badging.revoke")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        blocked = db.execute(conn, "lifecycle/blocked.sql", {"run_id": run.run_id}).fetchone()
        if blocked is None or blocked[0]:
            log.warning("nothing revoked: %s", blocked[0] if blocked else "no badge check")
            return {}
        decision = db.execute(conn, "approval/decision.sql",
                              {"run_id": run.run_id, "gate": str(Gate.REVOCATION)}).fetchone()
        why = decision[0] if decision else "no gate decision"
        # What an operator held before runs only on this run's own approval (docs/gates.md).
        passes = why in GATE_PASSES
        approved = why == Event.APPROVED
        if not approved:
            kept = db.execute(conn, "lifecycle/hold.sql", audit.run_params(run) | {
                "detail": Jsonb({"gate": why}), "only_held": passes}).rowcount
            if kept or not passes:
                log.warning("revocations held (%s): %d badges stay open; the next run asks "
                            "again", why, kept)
            if not passes:
                return {"held": kept}
        rows = db.execute(conn, "lifecycle/open_revocations.sql",
                          {"run_id": run.run_id, "include_held": approved}).fetchall()
        # A correction calls Credly with the student's name as CTIMS has it now (never stored).
        wanted = {live for _, _, action, live, _ in rows
                  if action != CorrectionAction.REVOKE and live is not None}
        found = recipients(wanted) if wanted else {}
        counts: Counter[str] = Counter()
        held: list[tuple[RevocationRow, Call]] = []
        with Heartbeat(conninfo, run):
            for revocation_id, certification_id, action, live, template_id in rows:
                row = RevocationRow(conn, run, revocation_id, certification_id)
                if action == CorrectionAction.REPLACE:
                    call = _replacer(client, template_id, found.get(live))
                elif action == CorrectionAction.MOVE:
                    call = _mover(client, suppress_notification)
                else:
                    call = _revoker(client, suppress_notification)
                outcome = _settle(row, client, call)
                if outcome == HELD_ELSEWHERE:
                    held.append((row, call))
                else:
                    counts[outcome] += 1
            counts.update(_settle_held(held, client))
    log.info("revocations and corrections: %s", dict(counts))
    unsettled = counts["retry_later"] + counts[HELD_ELSEWHERE]
    if unsettled:
        raise BatchIncomplete(f"{unsettled} of {len(rows)} revocations are still retryable "
                              f"or held elsewhere {dict(counts)}")
    return dict(counts)


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


@dataclass(frozen=True)
class Done:
    """How one claimed revocation or correction ends (finish_revocation.sql)."""

    state: RevocationState
    event: Event
    replacement_badge_id: str | None = None
    credly_state: str | None = None


Call = Callable[[RevocationRow, str], Done]


def _revoker(client: CredlyClient, suppress_notification: bool) -> Call:
    def call(row: RevocationRow, badge_id: str) -> Done:
        client.revoke_badge(badge_id, REVOCATION_TEXT, suppress_notification, fence=row.fence)
        return Done(RevocationState.REVOKED, Event.REVOKED)
    return call


def _replacer(client: CredlyClient, template_id: str, recipient: Recipient | None) -> Call:
    """A corrected name: Credly's replace, which keeps the address and links old and new."""
    def call(row: RevocationRow, badge_id: str) -> Done:
        if recipient is None:
            # The entry went away since the check: the next check decides again.
            return Done(RevocationState.CANCELLED, Event.REVOKE_CANCELLED)
        if row.attempt and row.attempt > 1:
            # An earlier attempt may have replaced it (Credly refuses a second replace).
            old = client.get_badge(badge_id)
            if old is not None and old.replacement_badge_id:
                return Done(RevocationState.REPLACED, Event.REPLACED, old.replacement_badge_id)
        # replace_badge looks the replacement up itself when the response is lost.
        new = client.replace_badge(badge_id, template_id, recipient.test_date,
                                   first_name=recipient.first_name,
                                   last_name=recipient.last_name, badge_key=row.key,
                                   fence=row.fence)
        return Done(RevocationState.REPLACED, Event.REPLACED, new.id)
    return call


def _mover(client: CredlyClient, suppress_notification: bool) -> Call:
    """A corrected address: an unaccepted badge is revoked and the ledger row issued again
    by the next sweep (Credly's replace keeps the recipient); an accepted one is left alone."""
    def call(row: RevocationRow, badge_id: str) -> Done:
        badge = client.get_badge(badge_id)
        state = badge.state if badge else None
        # A revoked badge on a later attempt: our own crashed attempt revoked it.
        ours = state == "revoked" and row.attempt is not None and row.attempt > 1
        if state != "pending" and not ours:
            return Done(RevocationState.KEPT, Event.EMAIL_CHANGED_AFTER_ACCEPTANCE,
                        credly_state=state)
        client.revoke_badge(badge_id, REVOCATION_TEXT, suppress_notification, fence=row.fence)
        return Done(RevocationState.MOVED, Event.EMAIL_MOVED)
    return call


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
        row.finish(RevocationState.PLANNED, Event.RETRY_LATER, error_label(error))
        raise
    except CredlyInvalidRequest as error:
        # Credly refuses this change for good (the badge was deleted or replaced there):
        # a person decides; the report lists it.
        row.finish(RevocationState.FAILED, Event.REVOKE_FAILED, error_label(error))
        log.warning("%s failed for good: %s", row.key, error_label(error))
        return "failed"
    except CredlyError as error:
        row.finish(RevocationState.PLANNED, Event.RETRY_LATER, error_label(error))
        return "retry_later"
    except Exception as error:  # one revocation must not stop the others
        row.finish(RevocationState.FAILED, Event.REVOKE_FAILED, type(error).__name__)
        log.warning("%s: %s ended this revocation; marked failed", row.key,
                    type(error).__name__)
        return "failed"
    if not row.finish(done.state, done.event, replacement_badge_id=done.replacement_badge_id,
                      credly_state=done.credly_state):
        log.warning("%s: claim was taken over before the result was recorded", row.key)
    return str(done.state)
