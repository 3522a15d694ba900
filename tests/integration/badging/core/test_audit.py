"""The audit log on real Postgres: one row per decision with who took it, and append-only."""

from __future__ import annotations

import psycopg
import pytest

from badging.core import audit
from badging.core.constants import Event
from tests.integration.badging.conftest import DAY


def _record(stack, run) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return audit.record_decisions(conn, run, [Event.QUARANTINED])


def test_decisions_are_recorded_once_with_the_task_try_that_took_them(seeded, validated):
    with psycopg.connect(seeded.dsn("badging")) as conn:
        quarantined = conn.execute(
            "SELECT count(*) FROM badging.staged_certification"
            " WHERE run_id = %s AND decision = 'quarantined'", (validated.run_id,)).fetchone()[0]
        rows = conn.execute(
            "SELECT logical_date, task_id, try_number, detail FROM badging.audit_log"
            " WHERE run_id = %s AND event = 'quarantined'", (validated.run_id,)).fetchall()
    assert quarantined > 0
    # validate recorded them; recording again adds nothing.
    assert len(rows) == quarantined
    assert _record(seeded, validated) == 0
    assert {(day, task, tries) for day, task, tries, _ in rows} == {(DAY, "test", 1)}
    assert all(detail["expectations"] for *_, detail in rows)


def test_the_audit_log_refuses_updates_and_deletes(seeded, validated):
    with psycopg.connect(seeded.dsn("badging"), autocommit=True) as conn:
        for statement in ("UPDATE badging.audit_log SET reason = 'edited'",
                          "DELETE FROM badging.audit_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)
