"""Extract: stream the window's Real-Time rows from CTIMS into this run's staging."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

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
class Names:
    """CTIMS names by code; a code CTIMS does not know has none."""

    sites: dict[str, str] = field(default_factory=dict)
    programs: dict[str, str] = field(default_factory=dict)
    assessments: dict[str, str] = field(default_factory=dict)


def names(*, sites: Iterable[str] = (), programs: Iterable[str] = (),
          assessments: Iterable[str] = (), ctims: str = db.CTIMS_CONN_ID) -> Names:
    """Look up the CTIMS names of the given site, program and assessment codes.

    Args:
        sites, programs, assessments: codes as staged (trimmed; assessments upper-cased).
        ctims: the CTIMS connection id or DSN (read-only).

    Returns:
        The names found, by kind and code.
    """
    found = Names()
    by_kind = {"site": found.sites, "program": found.programs, "assessment": found.assessments}
    params = {"sites": sorted(set(sites)), "programs": sorted(set(programs)),
              "assessments": sorted(set(assessments))}
    with db.connect(ctims, read_only=True) as source:
        for kind, code, name in db.execute(source, "extract/names.sql", params):
            by_kind[kind][code] = name
    return found
