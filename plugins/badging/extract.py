"""Extract: the window's Real-Time rows from CTIMS into this run's staging, and site contacts."""

from __future__ import annotations

import logging

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
        contacts = db.execute(source, "extract/site_contacts.sql").fetchall()
        with target.cursor() as cur:
            cur.executemany(sql.load("extract/upsert_site_contact.sql"),
                            [{"site_code": code, "contact_email": email}
                             for code, email in contacts])
        db.execute(target, "staging/analyze.sql")
        staged = db.execute(target, "extract/count_staged.sql", params).fetchone()[0]
    log.info("staged %d Real-Time rows changed in [%s, %s)", staged,
             run.window_start.isoformat(), run.window_end.isoformat())
    return staged
