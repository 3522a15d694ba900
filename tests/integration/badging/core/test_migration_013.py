"""Migration 013 on a copy of a populated ledger: every badge becomes period 1 of its student
and assessment, nothing else moves, and the ledger's statements work on the rows it kept
(docs/ledger.md, "Certification periods")."""

from __future__ import annotations

import shutil
import uuid
from datetime import date

import psycopg
import pytest

from badging.core import migrations, sql

LAST_BEFORE = "012_binding_decisions.sql"


@pytest.fixture
def ledger_at_012(stack, tmp_path, monkeypatch):
    """A fresh database migrated up to 012, filled as a deployment's ledger would be."""
    shutil.copytree(sql.include_dir(), tmp_path / "include")
    folder = tmp_path / "include" / "sql" / "core" / "migrations" / "badging"
    for later in sorted(folder.glob("*.sql")):
        if later.name > LAST_BEFORE:
            later.unlink()
    monkeypatch.setenv("BADGING_INCLUDE_DIR", str(tmp_path / "include"))
    sql.load.cache_clear()
    name = f"migration_013_{uuid.uuid4().hex[:8]}"
    stack.postgres.ensure_database(name)
    dsn = stack.dsn(name)
    assert migrations.apply(dsn, "badging")[-1] == LAST_BEFORE
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO badging.badge_templates VALUES ('SAFE1', 'tpl-1', true);
            INSERT INTO badging.issuance (student_id, assessment_code, certification_id,
                credly_template_id, earner_id, state, credly_badge_id, planned_run_id,
                issued_run_id, issued_at, entry_test_date, credly_state)
            VALUES (1, 'SAFE1', 11, 'tpl-1', 'okct-1', 'issued', 'badge-1', 'r1', 'r1', now(),
                    '2024-01-10', 'accepted'),
                   (2, 'SAFE1', 12, 'tpl-1', 'okct-2', 'revoked', 'badge-2', 'r1', 'r1', now(),
                    '2024-01-10', 'revoked'),
                   (3, 'SAFE1', 13, 'tpl-1', 'okct-3', 'pending', NULL, 'r2', NULL, NULL,
                    NULL, NULL),
                   (4, 'SAFE1', 14, 'tpl-1', 'okct-4', 'failed', NULL, 'r2', NULL, NULL,
                    NULL, NULL);
            INSERT INTO badging.revocation (issuance_id, credly_badge_id, reason,
                revocation_state, planned_run_id, run_id, revoked_run_id)
            SELECT issuance_id, 'badge-2', 'deleted', 'revoked', 'r3', 'r3', 'r3'
            FROM badging.issuance WHERE student_id = 2;
            INSERT INTO badging.badge_finding (issuance_id, kind, detail, first_day, last_day,
                nights, first_seen_at, last_seen_at)
            SELECT issuance_id, 'needs_review', 'no_aligned_program', '2026-05-01',
                   '2026-05-02', 2, now(), now()
            FROM badging.issuance WHERE student_id = 1;
        """)
        before = conn.execute("SELECT issuance_id, student_id, state, credly_badge_id"
                              " FROM badging.issuance ORDER BY issuance_id").fetchall()
    monkeypatch.delenv("BADGING_INCLUDE_DIR")
    sql.load.cache_clear()
    return dsn, before


def test_every_existing_badge_becomes_period_1_and_keeps_its_findings_and_revocations(
        ledger_at_012):
    dsn, before = ledger_at_012
    assert migrations.apply(dsn, "badging")[0].startswith("013_")
    with psycopg.connect(dsn) as conn:
        after = conn.execute("SELECT issuance_id, student_id, state, credly_badge_id, period,"
                             " expires_at, previous_issuance_id"
                             " FROM badging.issuance ORDER BY issuance_id").fetchall()
        assert [row[:4] for row in after] == before
        assert {row[4:] for row in after} == {(1, None, None)}
        assert conn.execute("SELECT count(*) FROM badging.revocation r JOIN badging.issuance i"
                            " USING (issuance_id) WHERE i.student_id = 2").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM badging.badge_finding").fetchone() == (1,)
        keys = {name for (name,) in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'badging.issuance'::regclass"
            " AND contype = 'u'")}
        assert "issuance_period_key" in keys
        assert "issuance_student_id_assessment_code_key" not in keys
        # Every entry of a student and assessment falls in its one period ...
        first = before[0][0]
        for tested in (date(2020, 1, 1), date(2024, 1, 10), date(2030, 1, 1)):
            assert conn.execute("SELECT badging.entry_period(1, 'SAFE1', %s)",
                                (tested,)).fetchone() == (first,)
        # ... and the badge of period 1 renews only once its expiry is known.
        assert conn.execute("SELECT badging.renews(%s, '2026-05-01', 90)",
                            (first,)).fetchone() == (False,)
        # The plan's insert still finds the key taken; the next period is a row of its own.
        conn.execute("INSERT INTO badging.issuance (student_id, assessment_code,"
                     " certification_id, credly_template_id, earner_id, planned_run_id)"
                     " VALUES (1, 'SAFE1', 21, 'tpl-1', 'okct-1', 'r4')"
                     " ON CONFLICT (student_id, assessment_code, period) DO NOTHING")
        assert conn.execute("SELECT count(*) FROM badging.issuance").fetchone() == (4,)
        conn.execute("INSERT INTO badging.issuance (student_id, assessment_code, period,"
                     " certification_id, credly_template_id, earner_id, planned_run_id,"
                     " entry_test_date, previous_issuance_id)"
                     " VALUES (1, 'SAFE1', 2, 21, 'tpl-1', 'okct-1', 'r4', '2026-05-01', %s)",
                     (first,))
        second = conn.execute("SELECT badging.entry_period(1, 'SAFE1', '2026-06-01')"
                              ).fetchone()[0]
        assert second != first
        assert conn.execute("SELECT badging.entry_period(1, 'SAFE1', '2025-06-01')"
                            ).fetchone() == (first,)
        # The acceptance view kept its columns and counts expired badges apart.
        assert conn.execute("SELECT badges, accepted, gone, expired FROM badging.acceptance"
                            ).fetchall() == [(2, 1, 1, 0)]
    assert migrations.apply(dsn, "badging") == []
