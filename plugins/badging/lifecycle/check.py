"""The nightly badge check (docs/lifecycle.md): issued badges against the live CTIMS rows, under
the source guard, with findings that must hold for the grace before anything changes.

One pass:
1. stage the live CTIMS rows of tonight's scope (lifecycle/scope.py: every student weekly and
   when the incremental state is missing, else the students whose entries or record changed
   and those watched) under `<run id>#live`, and decide them with the day's rules;
2. census every table the rules read; beyond the guard's thresholds the run changes nothing;
3. per issued badge: justified, or unjustified by its own entries (revoked after the grace),
   or refused only through a reference table (listed for a person, never revoked by the
   pipeline); whom it should name now (a blank or malformed value is unknown, not changed);
4. in a nightly run only (RunInfo.is_nightly) findings advance a night, and what has held for
   the grace is planned; otherwise the check audits what it would do;
5. a badge the pipeline revoked that is earned again is issued again (healing), a badge
   that failed for want of a usable recipient reopens when the student's record is fixed,
   and a re-test renews a badge that has expired since (the next certification period).

Every badge is checked against the live entries of its own certification period
(docs/ledger.md, "Certification periods").
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from badging.core import audit, clock, db, sql
from badging.core.constants import RECERTIFICATION_WINDOW_DAYS, Event
from badging.core.run import RunInfo
from badging.lifecycle.corrections import RecipientNow
from badging.lifecycle.guard import blocked_reason, census_of, trips
from badging.lifecycle.scope import scope
from badging.pipeline.expiry import stage_expiry, validities
from badging.pipeline.extract import stage_all_rows

log = logging.getLogger(__name__)

# The check stages the live CTIMS rows under the run's id plus this (run-scoped, dropped
# when the check ends).
LIVE_SUFFIX = "#live"


@dataclass(frozen=True)
class BadgeCheck:
    """What one run's check found; counts only (XCom, logs)."""

    live_rows: int
    live_badges: int
    # Their own entries no longer earn them (revoked after the grace).
    unjustified: int
    # Only a reference table refuses them: a person decides.
    needs_review: int
    # Why the run may not change badges (the source guard), or None.
    blocked: str | None
    # A night of the check: findings advanced, changes planned.
    counted: bool
    # Every badge read (the weekly full check, or the incremental state was missing).
    full_check: bool = True


@dataclass(frozen=True)
class CheckOptions:
    """What the run's params and its operator ask of the check."""

    grace_days: int
    program_launch: date
    digest_secret: str
    # Certification ids of badges needing review an operator asked to revoke.
    revoke_reviewed: tuple[int, ...] = ()
    # The operator takes tonight's census as the guard's new baseline.
    accept_source_change: bool = False
    # Who triggered the run (recorded with what an operator asked for).
    triggered_by: str | None = None
    # An operator asks for the full check tonight (param full_check).
    full_check: bool = False


def check_badges(run: RunInfo, options: CheckOptions, *, ctims: str = db.CTIMS_CONN_ID,
                 badging: str = db.BADGING_CONN_ID) -> BadgeCheck:
    """Check every issued badge against the live CTIMS rows (the module's one pass).

    Raises:
        ValueError: grace_days below 1, or revoke_reviewed outside a nightly run.
    """
    if options.grace_days < 1:
        raise ValueError(f"param 'revocation_grace_days' must be >= 1, got {options.grace_days}")
    if (options.revoke_reviewed or options.accept_source_change) and not run.is_nightly:
        raise ValueError("params 'revoke_reviewed' and 'accept_source_change' act in a nightly "
                         "run only: a manual run of the latest day, not dry")
    live_run_id = run.run_id + LIVE_SUFFIX
    # The census reads every CTIMS table in full: on its own connection while the scope is
    # read and the live rows staged, not before them (it is needed only by the guard).
    census_pool = ThreadPoolExecutor(max_workers=1)
    census_read = census_pool.submit(_census, ctims)
    params = audit.run_params(run) | {
        "live_run_id": live_run_id, "staged_run_id": live_run_id, "day": run.day,
        "grace_days": options.grace_days, "now": clock.now(), "run_id": run.run_id,
        "window_days": RECERTIFICATION_WINDOW_DAYS}
    try:
        with db.connect(badging) as conn:
            tonight = scope(conn, run, full_asked=options.full_check,
                            named=list(options.revoke_reviewed), now=params["now"],
                            ctims=ctims)
            log.info("badge check: %s", tonight.why)
            params["students"] = tonight.students
            stage_all_rows(live_run_id, student_ids=tonight.students, ctims=ctims,
                           badging=badging)
            census = census_read.result()
            blocked, accepted_by = _guard(conn, params, census, options)
            db.execute(conn, "pipeline/eligibility/decide.sql",
                       {"run_id": live_run_id, "program_launch": options.program_launch})
            db.execute(conn, "lifecycle/check/justification.sql", params)
            live_rows, live_badges, unjustified, review = db.execute(
                conn, "lifecycle/check/counts.sql", params).fetchone()
            counted = run.is_nightly and blocked is None
            if blocked is None:
                _load_recipients(conn, params, options.digest_secret)
                db.execute(conn, "lifecycle/check/observe.sql", params)
                if counted:
                    _advance(conn, run, params, options)
                    # The next nightly check compares the table with tonight's.
                    db.execute(conn, "lifecycle/check/update_snapshot.sql",
                               {"buckets": tonight.buckets})
                    db.execute(conn, "lifecycle/check/update_snapshot_buckets.sql")
                else:
                    db.execute(conn, "lifecycle/check/would_revoke.sql", params)
                    db.execute(conn, "lifecycle/check/would_correct.sql", params)
                if not run.dry_run:
                    # Healing, never on a night the source looks broken: a glitch that
                    # brings rows back would revoke and re-issue in turn, each mailed.
                    db.execute(conn, "pipeline/plan/reopen_revoked.sql", params)
                    db.execute(conn, "lifecycle/check/reopen_failed.sql", params)
                    _renew(conn, params)
            db.execute(conn, "lifecycle/check/record_check.sql", params | {
                "live_rows": live_rows, "live_badges": live_badges,
                "unjustified": unjustified, "blocked": blocked, "census": Jsonb(census),
                "counted": counted, "accepted_by": accepted_by, "full_check": tonight.full,
                "students_checked": None if tonight.full else len(tonight.students),
                "buckets_read": None if tonight.buckets is None else len(tonight.buckets),
                "source_time": tonight.source_time})
    finally:
        census_pool.shutdown()
        with db.connect(badging) as conn:
            db.execute(conn, "lifecycle/check/drop_live_rows.sql", {"live_run_id": live_run_id})
        _vacuum_staging(badging)
    found = BadgeCheck(live_rows, live_badges, unjustified, review, blocked, counted,
                       tonight.full)
    log.info("badge check: %s", asdict(found))
    return found


def _vacuum_staging(badging: str) -> None:
    """Give the dropped live rows' pages back (lifecycle/check/vacuum_staging.sql). Upkeep,
    not the check: a failure is logged, and autovacuum comes later anyway."""
    try:
        with db.connect(badging) as conn:
            conn.autocommit = True  # VACUUM runs outside a transaction
            db.execute(conn, "lifecycle/check/vacuum_staging.sql")
    except psycopg.Error as error:
        log.warning("badge check: the staging table was not vacuumed (%s)",
                    type(error).__name__)


def _census(ctims: str) -> dict[str, Any]:
    with db.connect(ctims, read_only=True) as source:
        return census_of(db.execute(source, "lifecycle/check/census.sql").fetchall())


def _guard(conn: psycopg.Connection, params: dict[str, Any], census: dict[str, Any],
           options: CheckOptions) -> tuple[str | None, str | None]:
    """Compare tonight's census with the baseline: (why the run is blocked, who accepted the
    change instead). Both are audited."""
    row = db.execute(conn, "lifecycle/check/baseline_census.sql", params).fetchone()
    blocked = blocked_reason(trips(row[0], census)) if row else None
    if blocked is None:
        return None, None
    if options.accept_source_change:
        who = options.triggered_by or "an operator"
        db.execute(conn, "lifecycle/check/audit_run.sql", params | {
            "event": str(Event.SOURCE_CHANGE_ACCEPTED), "reason": None,
            "detail": Jsonb({"accepted_by": who, "change": blocked})})
        log.warning("source guard: %s; accepted as the new baseline by %s", blocked, who)
        return None, who
    db.execute(conn, "lifecycle/check/audit_run.sql", params | {
        "event": str(Event.SOURCE_GUARD_TRIPPED), "reason": None,
        "detail": Jsonb({"blocked": blocked})})
    log.warning("source guard: %s", blocked)
    return blocked, None


def _load_recipients(conn: psycopg.Connection, params: dict[str, Any], secret: str) -> None:
    """Digest, here where the key lives, whom each badge should name now
    (lifecycle/check/recipient_now_table.sql); the names and addresses never leave this function."""
    rows = db.execute(conn, "lifecycle/check/live_recipients.sql", params).fetchall()
    db.execute(conn, "lifecycle/check/recipient_now_table.sql")
    with conn.cursor() as cur, cur.copy(sql.load("lifecycle/check/recipient_now_copy.sql")) as copy:
        for issuance_id, certification_id, email, first_name, last_name in rows:
            now = RecipientNow.of(secret, email, first_name, last_name)
            copy.write_row((issuance_id, certification_id, now.recipient_digest,
                            now.name_digest, now.problem))
    db.execute(conn, "lifecycle/check/baseline_digests.sql", params)


def _renew(conn: psycopg.Connection, params: dict[str, Any]) -> None:
    """Plan the renewals tonight's live rows earn: a re-test of a badge that has expired since
    (entered while it was still live, it waited: renews_at_expiry). The next run issues them."""
    if stage_expiry(conn, "lifecycle/check/renewal_rows.sql", params, validities(conn),
                    params["now"]):
        db.execute(conn, "pipeline/plan/insert_renewals.sql", params)


def _advance(conn: psycopg.Connection, run: RunInfo, params: dict[str, Any],
             options: CheckOptions) -> None:
    """A night of the check: findings advance, stale changes are cancelled, what has held
    for the grace is planned, and the run takes every open change for its gate."""
    db.execute(conn, "lifecycle/check/baseline_entries.sql", params)
    db.execute(conn, "lifecycle/check/advance_findings.sql", params)
    db.execute(conn, "lifecycle/check/cancel_stale_corrections.sql", params)
    db.execute(conn, "lifecycle/check/plan_revocations.sql", params)
    if options.revoke_reviewed:
        db.execute(conn, "lifecycle/check/plan_requested.sql", params | {
            "certification_ids": list(options.revoke_reviewed),
            "requested_by": options.triggered_by or "an operator"})
    db.execute(conn, "lifecycle/check/plan_corrections.sql", params)
    db.execute(conn, "lifecycle/check/take_open.sql", params)
    log.info("a night of the badge check: findings advanced (run %s)", run.run_id)
