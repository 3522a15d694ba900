"""Extract on real Postgres: the window's rows, this run's staging only, non-UTF-8 rows flagged."""

from __future__ import annotations

import logging

import psycopg
from psycopg.conninfo import make_conninfo

from badging.core import migrations
from badging.pipeline import validate
from badging.pipeline.extract import extract
from devstack.seed import run_seed
from tests.integration.badging.conftest import SEED, run_info, stage


def _changed_in_window(stack, run) -> set[int]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return {r[0] for r in conn.execute(
            "SELECT certification_id FROM ctims.realtime_certifications"
            " WHERE updated_at >= %s AND updated_at < %s",
            (run.window_start, run.window_end))}


def _staged(stack, run_id: str) -> list[int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [r[0] for r in conn.execute(
            "SELECT certification_id FROM badging.staged_certification WHERE run_id = %s",
            (run_id,))]


def test_the_window_rows_are_staged_once_and_nothing_else(seeded):
    run = run_info("extract-a")
    expected = _changed_in_window(seeded, run)
    assert 0 < len(expected) < 400
    assert stage(seeded, run) == len(expected)
    assert sorted(_staged(seeded, run.run_id)) == sorted(expected)


def test_extracting_again_replaces_the_runs_rows_and_leaves_other_runs_alone(seeded):
    wide, narrow = run_info("extract-wide", lookback_days=6), run_info("extract-a")
    stage(seeded, wide)
    wide_rows = sorted(_staged(seeded, wide.run_id))
    assert stage(seeded, narrow) == stage(seeded, narrow)
    assert len(_staged(seeded, narrow.run_id)) == len(set(_staged(seeded, narrow.run_id)))
    assert sorted(_staged(seeded, wide.run_id)) == wide_rows
    assert len(wide_rows) > len(_staged(seeded, narrow.run_id))


def test_recipient_details_are_normalised_on_the_way_in(seeded):
    run = run_info("extract-a")
    stage(seeded, run)
    with psycopg.connect(seeded.dsn("badging")) as conn:
        rows = conn.execute(
            "SELECT assessment_code, email FROM badging.staged_certification"
            " WHERE run_id = %s AND assessment_code IS NOT NULL AND email IS NOT NULL",
            (run.run_id,)).fetchall()
    assert rows
    assert all(code == code.strip().upper() for code, _ in rows)
    assert all(email == email.strip().lower() for _, email in rows)


# A Real-Time row whose student CTIMS stores in Latin-1 bytes, not UTF-8: é is 0xE9 and ñ
# 0xF1, each alone (a SQL_ASCII database takes any byte). Its ids are far above the seed's.
BAD_ID = 990_001
_BAD_NAME, _BAD_SURNAME, _BAD_EMAIL_USER = "Josefina", "Muntaner", "josefina.muntaner"


def _ctims_database(stack, name: str, *, encoding: str, client_encoding: str | None = None):
    """A CTIMS of the model's shape in a database of its own, seeded like `seeded`'s.

    Returns:
        The DSN for the read-only role the pipeline uses.
    """
    with psycopg.connect(stack.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} ENCODING '{encoding}' LOCALE 'C'"
                     " TEMPLATE template0")
        if client_encoding:
            # A database whose sessions default to another client encoding: the extract
            # must not depend on it.
            conn.execute(f"ALTER DATABASE {name} SET client_encoding = '{client_encoding}'")
    owner = make_conninfo(stack.dsn(name), client_encoding="UTF8")
    migrations.apply(owner, "ctims")
    run_seed(SEED, owner, stack.dsn("badging"))
    return stack.dsn(name, user="ctims_reader")


def _add_badly_encoded_row(stack, database: str, run) -> None:
    """One more Real-Time row in the window, its student's name and email not UTF-8."""
    with psycopg.connect(make_conninfo(stack.dsn(database), client_encoding="UTF8")) as conn:
        conn.execute(
            "INSERT INTO ctims.students (student_id, first_name, last_name, email)"
            " VALUES (%(id)s, %(first)s || E'\\xe9', %(last)s || E'\\xf1',"
            "         %(user)s || E'\\xf1@example.org')",
            {"id": BAD_ID, "first": _BAD_NAME, "last": _BAD_SURNAME, "user": _BAD_EMAIL_USER})
        conn.execute(
            "INSERT INTO ctims.realtime_certifications"
            " SELECT %(id)s, %(id)s, assessment_code, site_code, program_code, test_date,"
            "        entered_by, entered_at, updated_at, NULL"
            " FROM ctims.realtime_certifications"
            " WHERE updated_at >= %(start)s AND updated_at < %(end)s AND deleted_at IS NULL"
            " ORDER BY certification_id LIMIT 1",
            {"id": BAD_ID, "start": run.window_start, "end": run.window_end})
        assert conn.execute("SELECT octet_length(first_name) FROM ctims.students"
                            " WHERE student_id = %s", (BAD_ID,)).fetchone() == (9,)


def test_a_row_that_is_not_utf8_is_quarantined_and_the_day_goes_on(clean_stack, caplog):
    run = run_info("extract-not-utf8")
    ctims = _ctims_database(clean_stack, "ctims_sql_ascii", encoding="SQL_ASCII")
    _add_badly_encoded_row(clean_stack, "ctims_sql_ascii", run)
    with psycopg.connect(ctims) as conn:
        in_window = conn.execute(
            "SELECT count(*) FROM ctims.realtime_certifications"
            " WHERE updated_at >= %s AND updated_at < %s",
            (run.window_start, run.window_end)).fetchone()[0]
    caplog.set_level(logging.DEBUG)
    staged = extract(run, ctims=ctims, badging=clean_stack.dsn("badging"))
    outcome = validate.validate(run, max_failed_share=1.0, validation_prefix="test",
                                badging=clean_stack.dsn("badging"))
    assert staged == in_window > 50
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        flagged = conn.execute(
            "SELECT certification_id, first_name FROM badging.staged_certification"
            " WHERE run_id = %s AND NOT text_valid_utf8", (run.run_id,)).fetchall()
        quarantine = dict(conn.execute(
            "SELECT certification_id, expectations FROM badging.quarantine WHERE run_id = %s",
            (run.run_id,)).fetchall())
        going_on = conn.execute(
            "SELECT count(*) FROM badging.staged_certification"
            " WHERE run_id = %s AND decision IS NULL", (run.run_id,)).fetchone()[0]
    # Staged with the bad bytes replaced, never dropped; held back by its own check.
    assert flagged == [(BAD_ID, _BAD_NAME + "\ufffd")]
    assert "text_valid_utf8" in quarantine[BAD_ID]
    assert [cid for cid, checks in quarantine.items() if "text_valid_utf8" in checks] == [BAD_ID]
    assert outcome.failed_checks["text_valid_utf8"] == 1
    assert going_on > 0
    assert going_on + len(quarantine) == staged
    # The extract says how many rows, never whose.
    assert "1 staged rows hold text that is not valid UTF-8" in caplog.text
    for secret in (_BAD_NAME, _BAD_SURNAME, _BAD_EMAIL_USER):
        assert secret not in caplog.text


def test_the_extract_reads_utf8_whatever_the_sources_default_client_encoding(clean_stack):
    # A UTF-8 CTIMS whose sessions default to LATIN1: had the extract taken that default,
    # Latin-1 bytes would reach the UTF-8 staging (the day stopped, or names quarantined).
    run = run_info("extract-latin1-client")
    ctims = _ctims_database(clean_stack, "ctims_latin1_client", encoding="UTF8",
                            client_encoding="LATIN1")
    with psycopg.connect(make_conninfo(clean_stack.dsn("ctims_latin1_client"),
                                       client_encoding="UTF8")) as conn:
        conn.execute("UPDATE ctims.students SET first_name = 'Zoë'"
                     " WHERE student_id IN (SELECT student_id FROM ctims.realtime_certifications"
                     "                      WHERE updated_at >= %s AND updated_at < %s)",
                     (run.window_start, run.window_end))
    extract(run, ctims=ctims, badging=clean_stack.dsn("badging"))
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        names = conn.execute(
            "SELECT DISTINCT first_name, text_valid_utf8 FROM badging.staged_certification"
            " WHERE run_id = %s AND student_id IS NOT NULL AND first_name IS NOT NULL",
            (run.run_id,)).fetchall()
    assert names == [("Zoë", True)]
