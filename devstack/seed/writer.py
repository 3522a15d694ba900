"""Write a seed to CTIMS and the ledger, and report what it wrote (counts only)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from devstack.seed.records import STUDENT_ID_START, Dataset, IdStart, SeedParams
from devstack.seed.rows import generate

# Beside the package: tests/e2e and docs/testing.md name devstack/seed_truth.sql.
_TRUTH_DDL = Path(__file__).parents[1] / "seed_truth.sql"

# Reference tables may already hold this seed's rows: they are merged, not appended.
_CTIMS_REFERENCE = (("ctims", "sites", "sites"), ("ctims", "programs", "programs"),
                    ("ctims", "approved_assessments", "approved_assessments"),
                    ("ctims", "program_assessments", "program_assessments"))
_CTIMS_NEW = (("ctims", "students", "students"), ("ctims", "enrollments", "enrollments"),
              ("ctims", "realtime_certifications", "certifications"),
              ("devstack", "seed_truth", "truth"))


def _columns(records: Sequence[tuple]) -> sql.Composed:
    fields = type(records[0])._fields
    return sql.SQL(", ").join(sql.Identifier(name) for name in fields)


def _copy(cur: psycopg.Cursor, target: sql.Composable, records: Sequence[tuple]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, _columns(records))
    with cur.copy(statement) as copy:
        for record in records:
            copy.write_row(record)


def _merge(cur: psycopg.Cursor, schema: str, table: str, records: Sequence[tuple]) -> int:
    """Insert the records the table lacks (ON CONFLICT DO NOTHING); return how many."""
    if not records:
        return 0
    target = sql.Identifier(schema, table)
    staging = sql.Identifier(f"seed_{table}")
    cur.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, target))
    _copy(cur, staging, records)
    cur.execute(sql.SQL("INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT DO NOTHING")
                .format(target, staging, cols=_columns(records)))
    return cur.rowcount


def write(dataset: Dataset, ctims_conn: psycopg.Connection,
          badging_conn: psycopg.Connection) -> dict[str, int]:
    """Write a dataset: CTIMS tables and the truth in one database, templates in the other.

    Each database is written in one transaction, committed here on an autocommit or idle
    connection (inside a transaction the caller already opened, it is a savepoint and the
    caller commits). New students, enrollments and rows are COPYed as they are: a key
    clash means the start ids were wrong, and fails loudly.

    Returns:
        Rows inserted per table, as "schema.table".
    """
    inserted: dict[str, int] = {}
    with ctims_conn.transaction(), ctims_conn.cursor() as cur:
        cur.execute(_TRUTH_DDL.read_text())
        for schema, table, attribute in _CTIMS_REFERENCE:
            inserted[f"{schema}.{table}"] = _merge(cur, schema, table,
                                                   getattr(dataset, attribute))
        for schema, table, attribute in _CTIMS_NEW:
            records = getattr(dataset, attribute)
            if records:
                _copy(cur, sql.Identifier(schema, table), records)
            inserted[f"{schema}.{table}"] = len(records)
        # Only a seed with corrections reports them, so one without reads as it always has.
        if dataset.corrections:
            _copy(cur, sql.Identifier("devstack", "seed_correction"), dataset.corrections)
            inserted["devstack.seed_correction"] = len(dataset.corrections)
    with badging_conn.transaction(), badging_conn.cursor() as cur:
        inserted["badging.badge_templates"] = _merge(cur, "badging", "badge_templates",
                                                     dataset.badge_templates)
        inserted["badging.assessment_validity"] = _merge(cur, "badging", "assessment_validity",
                                                         dataset.assessment_validity)
    return inserted


def next_ids(ctims_conn: psycopg.Connection) -> IdStart:
    """The ids after the largest already in CTIMS (students and Real-Time rows).

    A row an earlier seed hard-deleted keeps its id, as a CTIMS sequence would: the
    corrections table still names it.
    """
    row = ctims_conn.execute(
        """
        SELECT greatest((SELECT max(student_id) FROM ctims.students),
                        (SELECT max(student_id) FROM ctims.realtime_certifications)),
               (SELECT max(certification_id) FROM ctims.realtime_certifications),
               to_regclass('devstack.seed_correction') IS NOT NULL
        """
    ).fetchone()
    student, certification, has_corrections = row if row else (None, None, False)
    if has_corrections:
        (corrected,) = ctims_conn.execute(
            "SELECT max(certification_id) FROM devstack.seed_correction").fetchone()
        certification = max((n for n in (certification, corrected) if n is not None),
                            default=None)
    return IdStart(student_id=student + 1 if student else STUDENT_ID_START,
                   certification_id=certification + 1 if certification else 1)


def has_certifications(ctims_dsn: str, entered_from: date | None = None,
                       entered_to: date | None = None) -> bool:
    """Whether CTIMS holds Real-Time rows (entered in that range of Chicago days, if given)."""
    with psycopg.connect(ctims_dsn, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM ctims.realtime_certifications
                WHERE (%(from)s::date IS NULL
                       OR (entered_at AT TIME ZONE 'America/Chicago')::date >= %(from)s)
                  AND (%(to)s::date IS NULL
                       OR (entered_at AT TIME ZONE 'America/Chicago')::date <= %(to)s))
            """, {"from": entered_from, "to": entered_to}).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class SeedReport:
    """Counts only: no names, emails or student ids."""

    params: SeedParams
    start_ids: IdStart
    inserted: dict[str, int]
    expected: dict[str, int]
    dirty_kinds: dict[str, int]
    generate_seconds: float
    write_seconds: float
    corrections: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        rows = self.inserted.get("ctims.realtime_certifications", 0)
        # A hard-deleted row's id was handed out all the same.
        last_id = self.start_ids.certification_id + rows + self.corrections.get(
            "hard_delete", 0) - 1
        corrected = ""
        if self.params.correction_rate:
            corrected = f", correction rate {self.params.correction_rate:g}"
        lines = [
            f"{rows} Real-Time rows entered {self.params.date_from}..{self.params.date_to} "
            f"(seed {self.params.seed}, dirty rate {self.params.dirty_rate:g}{corrected}, "
            f"certification ids {self.start_ids.certification_id}..{last_id}) "
            f"in {self.generate_seconds:.1f}s + {self.write_seconds:.1f}s",
            "  inserted: " + ", ".join(f"{table} {n}" for table, n in self.inserted.items()),
            "  expected: " + ", ".join(f"{name} {n}" for name, n in self.expected.items()),
            "  dirty:    " + (", ".join(f"{name} {n}" for name, n in self.dirty_kinds.items())
                              or "none"),
        ]
        if self.corrections:
            lines.append("  corrected: " + ", ".join(
                f"{kind} {n}" for kind, n in self.corrections.items()))
        return "\n".join(lines)


def summarise(dataset: Dataset) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per expected outcome and per dirty kind, largest first."""
    expected = Counter(t.expected for t in dataset.truth)
    dirty = Counter(t.dirty_kind for t in dataset.truth if t.dirty_kind)
    return dict(expected.most_common()), dict(dirty.most_common())


def run_seed(params: SeedParams, ctims_dsn: str, badging_dsn: str) -> SeedReport:
    """Generate a seed after the ids already in CTIMS and write it to both databases."""
    with psycopg.connect(ctims_dsn, autocommit=True) as ctims_conn, \
            psycopg.connect(badging_dsn, autocommit=True) as badging_conn:
        start_ids = next_ids(ctims_conn)
        started = time.perf_counter()
        dataset = generate(params, start_ids=start_ids)
        generated = time.perf_counter()
        inserted = write(dataset, ctims_conn, badging_conn)
        written = time.perf_counter()
    expected, dirty = summarise(dataset)
    corrections = dict(Counter(c.kind for c in dataset.corrections).most_common())
    return SeedReport(params, start_ids, inserted, expected, dirty,
                      generated - started, written - generated, corrections)

