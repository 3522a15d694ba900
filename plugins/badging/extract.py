"""Extract: stream the window's Real-Time rows from CTIMS into this run's staging."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import psycopg

from badging import db, sql
from badging.run import RunInfo

log = logging.getLogger(__name__)


def extract(run: RunInfo, *, ctims: str = db.CTIMS_CONN_ID,
            badging: str = db.BADGING_CONN_ID) -> int:
    """Replace the run's staged rows with the window's rows from CTIMS; returns how many.

    The rows travel database to database as one COPY stream, never through Python
    objects, so a 200,000-row backfill day costs seconds and little memory.
    """
    params = {"run_id": run.run_id, "window_start": run.window_start,
              "window_end": run.window_end}
    with db.connect(ctims, read_only=True) as source, db.connect(badging) as target:
        db.execute(target, "extract/clear_run.sql", params)
        # COPY (query) cannot take server-side parameters; a ClientCursor binds them
        # client-side with libpq's quoting.
        with psycopg.ClientCursor(source) as out_cur, target.cursor() as in_cur, \
                out_cur.copy(sql.load("extract/realtime_rows.sql"), params) as rows_out, \
                in_cur.copy(sql.load("extract/stage_copy.sql")) as rows_in:
            for chunk in rows_out:
                rows_in.write(chunk)
        db.execute(target, "staging/analyze.sql")
        staged = db.execute(target, "extract/count_staged.sql", params).fetchone()[0]
    log.info("staged %d Real-Time rows changed in [%s, %s)", staged,
             run.window_start.isoformat(), run.window_end.isoformat())
    return staged


@dataclass(frozen=True)
class Recipient:
    """Who a certification's badge goes to, as CTIMS has it now; PII, so never logged."""

    email: str
    first_name: str
    last_name: str
    test_date: date
    # Another student uses the same email (badging.credly.BadgeRequest.email_shared).
    email_shared: bool


def recipients(certification_ids: Iterable[int], *,
               ctims: str = db.CTIMS_CONN_ID) -> dict[int, Recipient]:
    """The live CTIMS details of these certifications, by id; deleted ones are left out."""
    with db.connect(ctims, read_only=True) as source:
        rows = db.execute(source, "extract/recipients.sql",
                          {"certification_ids": list(certification_ids)}).fetchall()
    return {certification_id: Recipient(*details) for certification_id, *details in rows}
