"""Extract: the window's Real-Time rows from CTIMS into this run's staging, and site contacts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from badging.core import db, sql
from badging.core.run import RunInfo

log = logging.getLogger(__name__)

# The last staged column, text_valid_utf8, as COPY text writes a boolean.
_VALID, _INVALID = b"\tt\n", b"\tf\n"


def extract(run: RunInfo, *, ctims: str = db.CTIMS_CONN_ID,
            badging: str = db.BADGING_CONN_ID) -> int:
    """Replace the run's staged rows with the window's rows from CTIMS; returns how many.

    Also refreshes each site's contact (badging.site_contact) for the morning lists.
    """
    staged = stage_rows(run.run_id, run.window_start, run.window_end, ctims=ctims,
                        badging=badging)
    with db.connect(ctims, read_only=True, client_encoding=db.RAW_BYTES) as source, \
            db.connect(badging) as target:
        contacts = [{"site_code": _utf8(code), "contact_email": _utf8(email)}
                    for code, email in db.execute(source, "pipeline/extract/site_contacts.sql")]
        with target.cursor() as cur:
            cur.executemany(sql.load("pipeline/extract/upsert_site_contact.sql"),
                            [c for c in contacts if c["site_code"]])
    log.info("staged %d Real-Time rows changed in [%s, %s)", staged,
             run.window_start.isoformat(), run.window_end.isoformat())
    return staged


def stage_all_rows(staged_run_id: str, *, student_ids: list[int] | None = None,
                   ctims: str = db.CTIMS_CONN_ID, badging: str = db.BADGING_CONN_ID) -> int:
    """Stage every Real-Time row CTIMS holds, deleted ones included, under `staged_run_id`
    (the lifecycle check's run id), or only these students' rows; returns how many."""
    return stage_rows(staged_run_id, ALL_TIME[0], ALL_TIME[1], student_ids=student_ids,
                      ctims=ctims, badging=badging)


# Change times every row of CTIMS falls in (timestamptz's infinities have no Python value).
ALL_TIME = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))


def stage_rows(staged_run_id: str, window_start: datetime, window_end: datetime, *,
               student_ids: list[int] | None = None, ctims: str = db.CTIMS_CONN_ID,
               badging: str = db.BADGING_CONN_ID) -> int:
    """Replace the rows staged under `staged_run_id` with CTIMS's rows changed in the window.

    The rows travel database to database as one COPY stream, never through Python
    objects, so a 200,000-row backfill day costs seconds and little memory. CTIMS sends its
    bytes as stored, unconverted (db.RAW_BYTES), and they are decoded here as UTF-8 before
    the UTF-8 staging session takes them: a row whose bytes are not UTF-8 (a SQL_ASCII
    database stores whatever it is given) is staged with its bad bytes replaced and
    text_valid_utf8 false, and validate quarantines it; the other rows go on.
    """
    params = {"run_id": staged_run_id, "window_start": window_start, "window_end": window_end,
              "student_ids": student_ids}
    with db.connect(ctims, read_only=True, client_encoding=db.RAW_BYTES) as source, \
            db.connect(badging) as target:
        db.execute(target, "pipeline/extract/clear_run.sql", params)
        lines = Utf8Lines()
        # COPY (query) cannot take server-side parameters; a ClientCursor binds them
        # client-side with libpq's quoting.
        with psycopg.ClientCursor(source) as out_cur, target.cursor() as in_cur, \
                out_cur.copy(sql.load("pipeline/extract/realtime_rows.sql"), params) as rows_out, \
                in_cur.copy(sql.load("pipeline/extract/stage_copy.sql")) as rows_in:
            for chunk in lines.flagged(rows_out):
                rows_in.write(chunk)
        db.execute(target, "core/staging/analyze.sql")
        staged = db.execute(target, "pipeline/extract/count_staged.sql", params).fetchone()[0]
    if lines.invalid:
        # A count only: the rows' text is exactly what must not reach a log.
        log.warning("%d staged rows hold text that is not valid UTF-8 in CTIMS; validate "
                    "quarantines them (check text_valid_utf8)", lines.invalid)
    return staged


def _utf8(value: bytes | str | None) -> str | None:
    """A value of the raw-bytes session as text; not UTF-8 → None (no usable contact)."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value


class Utf8Lines:
    """Cuts a COPY text stream into whole rows and appends each row's text_valid_utf8 field.

    COPY text ends every row with a newline and escapes newlines inside values, and no byte
    of a multi-byte UTF-8 character is a newline, so a row is exactly the bytes up to a
    newline however the stream was chunked. A row that does not decode as UTF-8 is passed on
    with each bad byte replaced by U+FFFD (COPY's escapes are ASCII, so they survive) and
    its flag false. Only bytes are handled: no row's text is ever kept or shown.

    Attributes:
        invalid: how many rows so far were not valid UTF-8.
    """

    def __init__(self) -> None:
        self.invalid = 0
        self._tail = b""

    def flagged(self, chunks: Iterable[bytes | bytearray | memoryview]) -> Iterator[bytes]:
        """The stream again, in whole rows, each ending with its flag.

        Raises:
            ValueError: the stream ended inside a row (not COPY text output).
        """
        for chunk in chunks:
            data = self._tail + chunk if self._tail else bytes(chunk)
            if data.endswith(b"\n"):  # libpq hands over one whole row at a time
                self._tail = b""
                yield self._flag(data)
                continue
            end = data.rfind(b"\n") + 1
            self._tail = data[end:]
            if end:
                yield self._flag(data[:end])
        if self._tail:
            raise ValueError("the COPY stream ended inside a row")

    def _flag(self, rows: bytes) -> bytes:
        try:
            rows.decode("utf-8")
        except UnicodeDecodeError:
            return b"".join(self._flag_one(row) for row in rows[:-1].split(b"\n"))
        return rows.replace(b"\n", _VALID)

    def _flag_one(self, row: bytes) -> bytes:
        try:
            row.decode("utf-8")
        except UnicodeDecodeError:
            self.invalid += 1
            return row.decode("utf-8", errors="replace").encode("utf-8") + _INVALID
        return row + _VALID


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
        for kind, code, name in db.execute(source, "pipeline/extract/names.sql", params):
            by_kind[kind][code] = name
    return found
