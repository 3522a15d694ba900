"""Migrations apply once, re-apply as a no-op, refuse edited history; the CTIMS role only reads."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from badging.core import migrations, sql


def test_reapplying_is_a_no_op(stack):
    assert migrations.apply(stack.dsn("ctims"), "ctims") == []
    assert migrations.apply(stack.dsn("badging"), "badging") == []


def test_a_fresh_database_gets_every_migration_then_none(stack):
    stack.postgres.ensure_database("migrations_probe")
    dsn = stack.dsn("migrations_probe")
    assert migrations.apply(dsn, "badging") == migrations.migration_names("badging")
    assert migrations.apply(dsn, "badging") == []


def test_an_edited_migration_is_refused(stack, tmp_path, monkeypatch):
    shutil.copytree(sql.include_dir(), tmp_path / "include")
    first = tmp_path / "include" / "sql" / "core" / "migrations" / "badging" / "001_ledger.sql"
    first.write_text(first.read_text() + "\n-- edited after release\n")
    monkeypatch.setenv("BADGING_INCLUDE_DIR", str(tmp_path / "include"))
    sql.load.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            migrations.apply(stack.dsn("badging"), "badging")
    finally:
        sql.load.cache_clear()


def test_a_comment_correction_keeps_an_earlier_checksum_valid(stack, tmp_path, monkeypatch):
    # Deployments that applied 001_ledger.sql before each correction of its comments.
    earlier_texts = migrations.EARLIER_CHECKSUMS[("badging", "001_ledger.sql")]
    assert len(earlier_texts) == 2
    stack.postgres.ensure_database("migrations_earlier")
    dsn = stack.dsn("migrations_earlier")
    migrations.apply(dsn, "badging")
    for earlier in earlier_texts:
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE public.schema_migrations SET checksum = %s "
                         "WHERE component = 'badging' AND name = '001_ledger.sql'", [earlier])
        assert migrations.apply(dsn, "badging") == []
    # A changed statement is not a comment correction: refused, earlier checksum or not.
    shutil.copytree(sql.include_dir(), tmp_path / "include")
    first = tmp_path / "include" / "sql" / "core" / "migrations" / "badging" / "001_ledger.sql"
    first.write_text(first.read_text().replace("DEFAULT 0", "DEFAULT 1", 1))
    monkeypatch.setenv("BADGING_INCLUDE_DIR", str(tmp_path / "include"))
    sql.load.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            migrations.apply(dsn, "badging")
    finally:
        sql.load.cache_clear()


def test_the_ctims_reader_role_cannot_write(stack):
    with psycopg.connect(stack.dsn("ctims", user="ctims_reader")) as conn:
        assert conn.execute("SELECT count(*) FROM ctims.sites").fetchone()[0] >= 0
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO ctims.sites VALUES ('123456789', 'x', true)")


def test_the_audit_log_is_append_only(stack):
    with psycopg.connect(stack.dsn("badging")) as conn:
        conn.execute("INSERT INTO badging.audit_log (run_id, task_id, event) "
                     "VALUES ('probe', 'probe', 'planned')")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM badging.audit_log WHERE run_id = 'probe'")
        conn.rollback()
