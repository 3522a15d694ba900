"""Which badges tonight's check reads (docs/lifecycle.md, "A night costs what the day holds"):
every badge on the full check's night, else the badges of the students whose Real-Time entries
or record changed since the last nightly check, and of those the check must watch every night.

The entries are compared id by id with a snapshot of the Real-Time table kept at each nightly
check (badging.check_snapshot): an entry new, changed, hard-deleted or back with its old
updated_at is seen whatever its change time says. Only the buckets of entries whose digest
CTIMS computes differently from the one the last nightly check kept are read and compared
(badging.check_snapshot_bucket, migration 016), so the diff costs what changed. Student
records are read by change time.
The full check runs weekly (FULL_CHECK_WEEKDAY) and whenever the incremental state is missing
or suspect: no nightly check before, or not the night before (a gap, or a night the source
guard blocked), or an operator asks (param full_check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg

from badging.core import db, sql
from badging.core.run import RunInfo

# The night of Sunday's data (light: almost nothing is entered at weekends) checks everything.
FULL_CHECK_WEEKDAY = 6
# A student record changed on the primary reaches the replica late, stamped with the time it
# changed there: records changed this long before the last check began are read again.
RECORD_CHANGE_MARGIN = timedelta(days=3)
# A badge that expired since the last check may be renewed by a re-test entered while it was
# live (no change in CTIMS tonight): its student is read for this long after the expiry.
RENEWAL_LOOKBACK = timedelta(days=8)


@dataclass(frozen=True)
class Scope:
    """What tonight's check reads: every student (`students` None) or these; why; CTIMS's
    clock when it began (the next check's "changed since"); and the buckets of entries it read
    (None: all), where the snapshot becomes tonight's (lifecycle/check/update_snapshot.sql)."""

    students: list[int] | None
    why: str
    source_time: datetime
    buckets: list[int] | None

    @property
    def full(self) -> bool:
        return self.students is None


def scope(conn: psycopg.Connection, run: RunInfo, *, full_asked: bool, named: list[int],
          now: datetime, ctims: str) -> Scope:
    """Decide tonight's scope, and load into the check's transaction what CTIMS holds for it:
    every bucket's digest (temp table source_bucket) and the identities of the entries in the
    buckets read (source_now), ids and codes only.

    Args:
        full_asked: an operator asked for the full check (param full_check).
        named: certification ids an operator named tonight (revoke_reviewed).
        now: the check's clock (badges expired by then may renew).
    """
    why = _full_because(conn, run, full_asked)
    with db.connect(ctims, read_only=True) as source:
        # One view of CTIMS for its clock, the digests and the entries: the digests the
        # snapshot keeps are those of the entries it keeps.
        source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        (source_time,) = db.execute(source, "lifecycle/check/source_time.sql").fetchone()
        _copy(source, "lifecycle/check/bucket_digests.sql", None,
              conn, "lifecycle/check/source_bucket_table.sql",
              "lifecycle/check/source_bucket_copy.sql")
        buckets = None if why else [
            r[0] for r in db.execute(conn, "lifecycle/check/changed_buckets.sql")]
        _copy(source, "lifecycle/check/source_ids.sql", {"buckets": buckets},
              conn, "lifecycle/check/source_now_table.sql",
              "lifecycle/check/source_now_copy.sql")
        if why:
            return Scope(None, why, source_time, None)
        (_, since, _) = _last(conn, run)
        records = {r[0] for r in db.execute(source, "lifecycle/check/changed_records.sql",
                                            {"since": since - RECORD_CHANGE_MARGIN})}
    entries = {r[0] for r in db.execute(conn, "lifecycle/check/changed_students.sql",
                                        {"buckets": buckets})}
    watched = {r[0] for r in db.execute(conn, "lifecycle/check/watched_students.sql", {
        "named": named, "now": now, "expired_since": now - RENEWAL_LOOKBACK})}
    students = entries | records | watched
    students |= {r[0] for r in db.execute(conn, "lifecycle/check/entry_owners.sql",
                                          {"students": sorted(students), "buckets": buckets})}
    return Scope(sorted(students), f"incremental: {len(buckets)} buckets of entries changed, "
                 f"{len(entries)} students' entries, {len(records)} records, "
                 f"{len(watched)} watched", source_time, buckets)


def _copy(source: psycopg.Connection, query: str, params: dict | None,
          conn: psycopg.Connection, table: str, copy_in: str) -> None:
    """Stream `query`'s COPY out of CTIMS into the temp table `table` creates, in one pass."""
    db.execute(conn, table)
    with source.cursor() as out_cur, conn.cursor() as in_cur, \
            out_cur.copy(sql.load(query), params) as rows_out, \
            in_cur.copy(sql.load(copy_in)) as rows_in:
        for chunk in rows_out:
            rows_in.write(chunk)


def _last(conn: psycopg.Connection, run: RunInfo) -> tuple[date, datetime, bool] | None:
    return db.execute(conn, "lifecycle/check/last_check.sql", {"run_id": run.run_id}).fetchone()


def _full_because(conn: psycopg.Connection, run: RunInfo, full_asked: bool) -> str | None:
    """Why tonight's check must read everything, or None."""
    if full_asked:
        return "full: an operator asked (full_check)"
    if not run.is_nightly:
        return "full: not a nightly run (it audits what it would do, for every badge)"
    if run.day.weekday() == FULL_CHECK_WEEKDAY:
        return "full: the weekly full check"
    last = _last(conn, run)
    if last is None or not last[2] or last[1] is None:
        return "full: no earlier nightly check to compare with"
    if last[0] != run.day - timedelta(days=1):
        return f"full: the last nightly check was of {last[0]}, not the night before"
    return None
