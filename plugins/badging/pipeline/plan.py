"""The issuance ledger (docs/ledger.md): each badge planned once, then issued or failed."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from badging.core import audit, clock, db, sql
from badging.core.constants import RECERTIFICATION_WINDOW_DAYS, Event
from badging.core.errors import ConfigurationError, CredlyRetryableError
from badging.core.recipients import earner_id
from badging.core.run import RunInfo
from badging.pipeline.expiry import record_templates, stage_expiry, validities

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
                   max_batches: int = MAX_BATCHES, *, even: bool = False) -> int:
    """The batch size: at most `preferred` (grown past `max_batches` batches), and batches
    in full waves of the pool's `slots`, so the last wave leaves no slot idle while it drains.

    Filling a wave splits the badges further only while each batch keeps MIN_BATCH badges:
    a task's start costs more than a few calls. `even` cuts the same count of batches to one
    size (600 badges at 500: 300 and 300, not 500 and 100), for batches that run side by side
    with other runs' (RunInfo.even_batches); otherwise one slot's batches, which run one after
    another, keep `preferred` exactly.
    """
    if preferred < 1:
        raise ValueError(f"param 'batch_size' must be >= 1, got {preferred}")
    if slots < 1:
        raise ValueError(f"param 'pool_slots' must be >= 1, got {slots}")
    size = max(preferred, math.ceil(planned / max_batches))
    natural = math.ceil(planned / size)
    full_waves = min(math.ceil(natural / slots) * slots, max_batches)
    batches = max(natural, min(full_waves, planned // MIN_BATCH))
    return math.ceil(planned / batches) if batches > natural or (even and batches) else size


def _insert_pending(conn: psycopg.Connection, params: dict[str, Any], secret: str) -> None:
    """Insert the run's new badges as pending, their earner ids computed here (the secret
    never reaches the database: Postgres logs slow statements with their parameters)."""
    students = [row[0] for row in db.execute(conn, "pipeline/plan/new_badge_students.sql", params)]
    db.execute(conn, "pipeline/plan/earner_ids_table.sql")
    with conn.cursor() as cur, cur.copy(sql.load("pipeline/plan/earner_ids_copy.sql")) as copy:
        for student_id in students:
            copy.write_row((student_id, earner_id(secret, student_id)))
    db.execute(conn, "pipeline/plan/insert_pending.sql", params)


def plan(run: RunInfo, *, earner_id_secret: str, batch_size: int, pool_slots: int = 1,
         retry_failed: bool = False, adopt: Callable[[RunInfo], object] | None = None,
         templates: list[dict[str, Any]] | None = None,
         badging: str = db.BADGING_CONN_ID) -> tuple[list[Batch], dict[str, int]]:
    """Record every eligible badge in the ledger as pending (once) and cut the badges this
    run issues into batches: its own, and every badge still open from earlier runs.

    A badge that would already be expired is not issued, and a later passing entry renews an
    expired badge with the next certification period (docs/ledger.md). In a dry run the
    ledger is only read: rows that would be issued are audited `would_issue` and there are
    no batches.

    Args:
        adopt: called with the run once its badges are taken, before they are cut into
            batches (badging/lifecycle/adoption.py: badges Credly already holds leave the batches).
        templates: Credly's template list as just read (read_templates), whose default
            expiries are recorded; None: the ones recorded by an earlier plan hold.

    Returns:
        The batches, and the count of the run's rows per decision.
    """
    now = clock.now()
    params: dict[str, Any] = {"run_id": run.run_id, "issuing_run": run.issuing_run,
                              "dry_run": run.dry_run, "retry_failed": retry_failed,
                              "now": now, "window_days": RECERTIFICATION_WINDOW_DAYS,
                              "staged_run_id": run.run_id}
    with db.connect(badging) as conn:
        db.execute(conn, "pipeline/plan/reset.sql", params)
        if templates is not None and not run.dry_run:
            record_templates(conn, templates, now)
        stage_expiry(conn, "pipeline/plan/expiry_rows.sql", params,
                     validities(conn, templates), now)
        if not run.dry_run:
            _insert_pending(conn, params, earner_id_secret)
            db.execute(conn, "pipeline/plan/insert_renewals.sql", audit.run_params(run) | params)
            db.execute(conn, "pipeline/plan/reopen_failed.sql", params)
            db.execute(conn, "pipeline/plan/reopen_revoked.sql", audit.run_params(run) | params)
        db.execute(conn, "pipeline/plan/classify.sql", params)
        db.execute(conn, "pipeline/plan/clear_batches.sql", params)
        db.execute(conn, "pipeline/plan/take_open_rows.sql", params)
    # Committed: an adoption reads Credly for a while, and holds no ledger row meanwhile.
    if adopt is not None and not run.dry_run:
        adopt(run)
    with db.connect(badging) as conn:
        taken = db.execute(conn, "pipeline/plan/count_planned.sql", params).fetchone()[0]
        params["batch_size"] = batch_size_for(taken, batch_size, pool_slots,
                                                 even=run.even_batches)
        db.execute(conn, "pipeline/plan/assign_batches.sql", params)
        audit.record_decisions(conn, run, _PLAN_EVENTS)
        sizes = db.execute(conn, "pipeline/plan/batches.sql", params).fetchall()
        decisions = dict(db.execute(conn, "pipeline/plan/decision_counts.sql", params).fetchall())
    batches = [Batch(batch_no=no, size=size, of=len(sizes)) for no, size in sizes]
    log.info("plan: %d badges to issue in %d batches (%d planned by this run, the rest open "
             "from earlier runs); decisions %s", taken, len(batches),
             decisions.get("planned", 0), decisions)
    return batches, decisions


def batch_templates(run: RunInfo, badging: str = db.BADGING_CONN_ID) -> list[str]:
    """The Credly template ids the run's batches will issue."""
    with db.connect(badging) as conn:
        return [row[0] for row in db.execute(conn, "pipeline/plan/batch_templates.sql",
                                             {"run_id": run.run_id})]


def read_templates(client: CredlyClient) -> list[dict[str, Any]] | None:
    """Credly's template list (their default expiries, whether they allow duplicates), read
    once at the start of plan; None when Credly cannot be reached now: the expiries recorded
    by an earlier plan hold, and issue meets Credly's trouble as before."""
    try:
        return client.list_templates()
    except CredlyRetryableError as error:
        log.warning("Credly's template list could not be read (%s): the template expiries "
                    "recorded earlier hold", type(error).__name__)
        return None


def refuse_templates_allowing_duplicates(client: CredlyClient, template_ids: list[str],
                                         listed: list[dict[str, Any]] | None = None) -> None:
    """Stop before issuing if a template lets Credly issue duplicates: then Credly's own
    duplicate check no longer backs the ledger, and a lost response could become a second
    badge (docs/exactly-once.md).

    Args:
        listed: the template list plan already read (read_templates); None: read it now.

    Raises:
        ConfigurationError: naming the first such template.
    """
    if not template_ids:
        return
    # The organization's templates in one paged list, not a GET per template: a day of many
    # assessments needs a couple of hundred, seconds of Credly's latency before any batch.
    # A template Credly does not list is the batch's to refuse (not found), not this check's.
    templates = client.list_templates() if listed is None else listed
    allows = {t["id"]: bool(t.get("allow_duplicate_badges")) for t in templates}
    for template_id in template_ids:
        if allows.get(template_id):
            raise ConfigurationError(
                f"Credly template {template_id} allows duplicate badges: a lost response "
                f"could become a second badge. Turn allow_duplicate_badges off in Credly, "
                f"then clear plan")


