"""Every pipeline session is bounded: statement, lock and idle timeouts, keepalives, UTF-8."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from badging.core import db, migrations


def _with(dsn: str, **params) -> str:
    """The DSN with libpq keywords added, as an Airflow connection's extras would add them."""
    return make_conninfo(dsn, **params)


def _settings(conn: psycopg.Connection) -> dict[str, str]:
    names = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
             "client_encoding", "default_transaction_read_only", "application_name")
    return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in names}


def _issuance_row(stack) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute(
            "INSERT INTO badging.issuance (student_id, assessment_code, certification_id,"
            " credly_template_id, earner_id, planned_run_id)"
            " VALUES (1, 'LOCK100', 1, 'template', 'okct-x', 'lock-probe')"
            " RETURNING issuance_id").fetchone()[0]


def test_a_session_gets_the_pipeline_bounds_by_default(clean_stack):
    with db.connect(clean_stack.dsn("badging")) as conn:
        assert _settings(conn) == {
            "statement_timeout": "10min", "lock_timeout": "1min",
            "idle_in_transaction_session_timeout": "10min", "client_encoding": "UTF8",
            "default_transaction_read_only": "off", "application_name": "credly_badging"}
        libpq = conn.info.get_parameters()
    assert {k: libpq.get(k) for k in db.NETWORK_BOUNDS} == db.NETWORK_BOUNDS
    with db.connect(clean_stack.dsn("ctims", user="ctims_reader"), read_only=True) as conn:
        assert _settings(conn)["default_transaction_read_only"] == "on"
        assert _settings(conn)["lock_timeout"] == "1min"


def test_the_connections_extras_override_a_bound_but_not_read_only(clean_stack):
    dsn = _with(clean_stack.dsn("ctims", user="ctims_reader"), connect_timeout=3,
                options="-c statement_timeout=30min -c default_transaction_read_only=off")
    with db.connect(dsn, read_only=True) as conn:
        settings = _settings(conn)
        assert conn.info.get_parameters()["connect_timeout"] == "3"
    assert settings["statement_timeout"] == "30min"
    assert settings["lock_timeout"] == "1min"
    assert settings["default_transaction_read_only"] == "on"


def test_a_held_row_lock_ends_the_waiting_statement_with_a_lock_timeout(clean_stack):
    issuance_id = _issuance_row(clean_stack)
    dsn = _with(clean_stack.dsn("badging"), options="-c lock_timeout=500ms")
    with psycopg.connect(clean_stack.dsn("badging")) as holder:
        holder.execute("SELECT 1 FROM badging.issuance WHERE issuance_id = %s FOR UPDATE",
                       (issuance_id,))
        started = time.monotonic()
        with pytest.raises(psycopg.errors.LockNotAvailable, match="lock timeout"), \
                db.connect(dsn) as conn:
            conn.execute("UPDATE badging.issuance SET attempts = attempts + 1"
                         " WHERE issuance_id = %s", (issuance_id,))
        assert time.monotonic() - started < 5


def test_a_long_statement_ends_with_a_statement_timeout(clean_stack):
    dsn = _with(clean_stack.dsn("badging"), options="-c statement_timeout=300ms")
    started = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"), \
            db.connect(dsn) as conn:
        conn.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - started < 5


def test_a_server_that_never_answers_fails_the_connect_within_its_timeout():
    # A black hole: the TCP connection is accepted (by the kernel's backlog) and nothing ever
    # answers the startup packet. The real default connect timeout applies (10 s).
    with socket.create_server(("127.0.0.1", 0), backlog=1) as hole:
        dsn = f"postgresql://nobody@127.0.0.1:{hole.getsockname()[1]}/none"
        outcome: list[BaseException | None] = []

        def attempt() -> None:
            try:
                with db.connect(dsn):
                    outcome.append(None)
            except psycopg.OperationalError as error:
                outcome.append(error)

        started = time.monotonic()
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(timeout=30)
        elapsed = time.monotonic() - started
    assert outcome, "still connecting"
    assert isinstance(outcome[0], psycopg.OperationalError)
    assert int(db.NETWORK_BOUNDS["connect_timeout"]) - 1 < elapsed < 20


def test_a_migrator_waits_for_another_migrator_whatever_the_lock_timeout(clean_stack):
    # A database whose default lock_timeout is short (a DBA's setting, or the pipeline's own
    # bound): the advisory lock wait of core/migrations/lock.sql must not end with it.
    clean_stack.postgres.ensure_database("migrations_lock_wait")
    dsn = clean_stack.dsn("migrations_lock_wait")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER DATABASE migrations_lock_wait SET lock_timeout = '200ms'")
    released = threading.Event()
    with psycopg.connect(dsn) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (migrations._ADVISORY_LOCK_KEY,))
        timer = threading.Timer(1.0, lambda: (other.commit(), released.set()))
        timer.start()
        try:
            migrations.apply(dsn, "badging")
        finally:
            timer.join()
    assert released.is_set()
    with db.connect(dsn, bounds=db.MIGRATION_BOUNDS) as conn:
        assert _settings(conn)["lock_timeout"] == "0"
        assert _settings(conn)["statement_timeout"] == "0"
