"""The seed written to real Postgres: keys, re-seeding, and a truth row for every Real-Time row."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from badging.core import migrations
from devstack import seed

REPO = Path(__file__).resolve().parents[4]
MIGRATIONS = REPO / "include" / "sql" / "core" / "migrations"
REFERENCE_TABLES = ("ctims.sites", "ctims.programs", "ctims.approved_assessments",
                    "ctims.program_assessments")


# --- databases --------------------------------------------------------------------------

@pytest.fixture
def databases(stack, request):
    """A fresh, migrated ctims and badging database pair for one test, on the session's server."""
    suffix = request.node.name.removeprefix("test_")[:40]
    names = {"ctims": f"ctims_{suffix}", "badging": f"badging_{suffix}"}
    with psycopg.connect(stack.dsn("postgres"), autocommit=True) as admin:
        for name in names.values():
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    for component, name in names.items():
        stack.postgres.ensure_database(name)
        migrations.apply(stack.dsn(name), component)
    return stack.dsn(names["ctims"]), stack.dsn(names["badging"])


# --- helpers --------------------------------------------------------------------------

def fingerprint(conn: psycopg.Connection, table: str) -> tuple[int, str]:
    """Row count and a hash of the content, in a stable order."""
    schema, name = table.split(".")
    query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM {} AS t").format(sql.Identifier(schema, name))
    return conn.execute(query).fetchone()


def scalar(conn: psycopg.Connection, query: str, params: tuple = ()):
    return conn.execute(query, params).fetchone()[0]


def check_consistent(ctims: psycopg.Connection, badging: psycopg.Connection) -> None:
    """Keys hold and the truth covers each Real-Time row exactly once."""
    assert scalar(ctims, """
        SELECT count(*) FROM ctims.realtime_certifications rc
        FULL JOIN devstack.seed_truth t USING (certification_id)
        WHERE rc.certification_id IS NULL OR t.certification_id IS NULL""") == 0
    assert scalar(ctims, """
        SELECT count(*) FROM ctims.realtime_certifications rc
        LEFT JOIN ctims.students s USING (student_id) WHERE s.student_id IS NULL""") == 0
    # A duplicate points at an earlier, eligible row of the same badge and test date.
    assert scalar(ctims, """
        SELECT count(*) FROM devstack.seed_truth t
        JOIN ctims.realtime_certifications d USING (certification_id)
        LEFT JOIN devstack.seed_truth ot ON ot.certification_id = t.duplicate_of
        LEFT JOIN ctims.realtime_certifications o ON o.certification_id = t.duplicate_of
        WHERE t.expected = 'duplicate'
          AND (ot.expected IS DISTINCT FROM 'eligible' OR o.student_id <> d.student_id
               OR upper(btrim(o.assessment_code)) <> upper(btrim(d.assessment_code))
               OR o.test_date <> d.test_date OR o.certification_id >= d.certification_id)
        """) == 0
    # Eligible rows, checked by SQL in the shape of the pipeline's own extract.
    assert scalar(ctims, """
        SELECT count(*) FROM devstack.seed_truth t
        JOIN ctims.realtime_certifications rc USING (certification_id)
        WHERE t.expected = 'eligible' AND NOT EXISTS (
            SELECT 1 FROM ctims.enrollments e
            JOIN ctims.programs p ON p.program_code = e.program_code AND p.approved
            JOIN ctims.sites s ON s.site_code = p.site_code AND s.accredited
            JOIN ctims.program_assessments pa ON pa.program_code = p.program_code
             AND pa.assessment_code = upper(btrim(rc.assessment_code))
            WHERE e.student_id = rc.student_id AND e.start_date <= rc.test_date)""") == 0
    active = {code for (code,) in badging.execute(
        "SELECT assessment_code FROM badging.badge_templates WHERE active")}
    eligible_codes = {code for (code,) in ctims.execute("""
        SELECT DISTINCT upper(btrim(rc.assessment_code)) FROM devstack.seed_truth t
        JOIN ctims.realtime_certifications rc USING (certification_id)
        WHERE t.expected = 'eligible'""")}
    assert eligible_codes <= active


# --- tests ----------------------------------------------------------------------------

def test_seed_writes_every_table_and_the_truth(databases):
    ctims_dsn, badging_dsn = databases
    params = seed.SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=5000, dirty_rate=0.2,
                             seed=7)
    report = seed.run_seed(params, ctims_dsn, badging_dsn)
    expected = seed.generate(params)
    with psycopg.connect(ctims_dsn) as ctims, psycopg.connect(badging_dsn) as badging:
        assert scalar(ctims, "SELECT count(*) FROM ctims.realtime_certifications") == 5000
        assert scalar(ctims, "SELECT count(*) FROM ctims.students") == len(expected.students)
        assert scalar(ctims, "SELECT count(*) FROM ctims.enrollments") == len(
            expected.enrollments)
        assert scalar(ctims, "SELECT count(*) FROM ctims.sites") == 60
        assert scalar(badging, "SELECT count(*) FROM badging.badge_templates") == len(
            expected.badge_templates)
        by_outcome = dict(ctims.execute(
            "SELECT expected, count(*) FROM devstack.seed_truth GROUP BY expected").fetchall())
        assert by_outcome == report.expected
        # What was read back is what was generated, timestamps included.
        first = ctims.execute("SELECT * FROM ctims.realtime_certifications "
                              "ORDER BY certification_id LIMIT 1").fetchone()
        assert first == tuple(expected.certifications[0])
        check_consistent(ctims, badging)
    text = str(report)
    assert "5000 Real-Time rows" in text
    assert "@" not in text  # counts only, never an email


def test_reseeding_adds_rows_and_leaves_reference_data_alone(databases):
    ctims_dsn, badging_dsn = databases
    first = seed.SeedParams(date(2023, 1, 1), date(2023, 6, 30), rows=3000, dirty_rate=0.2,
                            seed=7)
    seed.run_seed(first, ctims_dsn, badging_dsn)
    with psycopg.connect(ctims_dsn) as ctims, psycopg.connect(badging_dsn) as badging:
        before = {table: fingerprint(ctims, table) for table in REFERENCE_TABLES}
        templates_before = fingerprint(badging, "badging.badge_templates")
        max_id = scalar(ctims, "SELECT max(certification_id) FROM ctims.realtime_certifications")
        students_before = scalar(ctims, "SELECT count(*) FROM ctims.students")

    again = seed.SeedParams(date(2023, 7, 1), date(2024, 6, 30), rows=4500, dirty_rate=0.1,
                            seed=7)
    report = seed.run_seed(again, ctims_dsn, badging_dsn)
    assert report.start_ids.certification_id == max_id + 1
    assert all(report.inserted[table] == 0 for table in REFERENCE_TABLES)
    assert report.inserted["badging.badge_templates"] == 0
    with psycopg.connect(ctims_dsn) as ctims, psycopg.connect(badging_dsn) as badging:
        assert {table: fingerprint(ctims, table) for table in REFERENCE_TABLES} == before
        assert fingerprint(badging, "badging.badge_templates") == templates_before
        assert scalar(ctims, "SELECT count(*) FROM ctims.realtime_certifications") == 7500
        assert scalar(ctims, "SELECT count(*) FROM ctims.students") > students_before
        assert scalar(ctims, """SELECT count(*) FROM ctims.realtime_certifications
                                WHERE certification_id > %s""", (max_id,)) == 4500
        # New students only: no badge key spans the two seeds.
        assert scalar(ctims, """
            SELECT count(*) FROM (
                SELECT student_id FROM ctims.realtime_certifications
                GROUP BY student_id
                HAVING min(certification_id) <= 3000 AND max(certification_id) > 3000) s""") == 0
        emails = Counter(e for (e,) in ctims.execute(
            "SELECT lower(btrim(email)) FROM ctims.students WHERE email IS NOT NULL"))
        assert max(emails.values()) == 1
        check_consistent(ctims, badging)


def test_a_different_seed_can_follow(databases):
    """Ids stay free of clashes even when the reference data of a second seed is merged."""
    ctims_dsn, badging_dsn = databases
    seed.run_seed(seed.SeedParams(date(2024, 1, 1), date(2024, 1, 31), rows=200, seed=1),
                  ctims_dsn, badging_dsn)
    report = seed.run_seed(seed.SeedParams(date(2024, 2, 1), date(2024, 2, 29), rows=200,
                                           seed=2), ctims_dsn, badging_dsn)
    assert report.inserted["ctims.realtime_certifications"] == 200
    with psycopg.connect(ctims_dsn) as ctims:
        assert scalar(ctims, "SELECT count(*) FROM devstack.seed_truth") == 400


def test_corrections_are_written_with_outcomes_the_rows_bear_out(databases):
    ctims_dsn, badging_dsn = databases
    params = seed.SeedParams(date(2023, 1, 1), date(2023, 12, 31), rows=3000, dirty_rate=0.3,
                             seed=7, correction_rate=0.3)
    report = seed.run_seed(params, ctims_dsn, badging_dsn)
    corrections = seed.generate(params).corrections
    kinds = Counter(c.kind for c in corrections)
    assert report.inserted["devstack.seed_correction"] == len(corrections)
    assert report.corrections == dict(kinds.most_common())
    assert "corrected: " in str(report)
    with psycopg.connect(ctims_dsn) as ctims, psycopg.connect(badging_dsn) as badging:
        check_consistent(ctims, badging)
        assert scalar(ctims, "SELECT count(*) FROM ctims.realtime_certifications") == (
            3000 - kinds["hard_delete"] + kinds["reentered"])
        # Re-derived from the rows: a badge is revoked exactly when no live badge-earning row
        # of its student and assessment remains.
        assert scalar(ctims, """
            SELECT count(*) FROM devstack.seed_correction c
            WHERE (c.expected = 'revoke') = EXISTS (
                      SELECT 1 FROM ctims.realtime_certifications rc
                      JOIN devstack.seed_truth t USING (certification_id)
                      WHERE rc.student_id = c.student_id
                        AND upper(btrim(rc.assessment_code)) = c.assessment_code
                        AND rc.deleted_at IS NULL
                        AND t.expected IN ('eligible', 'duplicate'))
               OR (c.kind IN ('email_fixed', 'name_fixed', 'reentered')
                   AND c.expected NOT IN ('move_email', 'replace_name', 'nothing'))""") == 0
        assert scalar(ctims, "SELECT count(*) FROM devstack.seed_correction"
                             " WHERE expected = 'revoke'") > 0
        # Each change is dated: updated_at on the correction's Chicago day.
        assert scalar(ctims, """
            SELECT count(*) FROM devstack.seed_correction c
            JOIN ctims.realtime_certifications rc USING (certification_id)
            WHERE (rc.updated_at AT TIME ZONE 'America/Chicago')::date <> c.corrected_on""") == 0
        assert scalar(ctims, """
            SELECT count(*) FROM devstack.seed_correction c
            JOIN ctims.realtime_certifications rc USING (certification_id)
            WHERE c.kind = 'hard_delete'""") == 0


def test_a_hard_deleted_last_id_is_not_handed_out_again(databases):
    ctims_dsn, badging_dsn = databases
    seed.run_seed(seed.SeedParams(date(2024, 1, 1), date(2024, 1, 31), rows=200, seed=1,
                                  correction_rate=0.5), ctims_dsn, badging_dsn)
    with psycopg.connect(ctims_dsn) as ctims:
        last = scalar(ctims, "SELECT max(certification_id) FROM ctims.realtime_certifications")
        # As if the seed had hard-deleted its last row.
        ctims.execute("DELETE FROM devstack.seed_correction WHERE certification_id = %s",
                      (last,))
        ctims.execute("DELETE FROM ctims.realtime_certifications WHERE certification_id = %s",
                      (last,))
        ctims.execute("""INSERT INTO devstack.seed_correction
                         VALUES (%s, 'hard_delete', '2024-01-31', 1, 'X', 'revoke', NULL)""",
                      (last,))
        ctims.commit()
        assert seed.next_ids(ctims).certification_id == last + 1


def test_main_prints_counts(databases, capsys):
    ctims_dsn, badging_dsn = databases
    code = seed.main(["--from", "2024-04-01", "--to", "2024-04-30", "--rows", "300",
                      "--dirty-rate", "0.2", "--seed", "3", "--ctims-dsn", ctims_dsn,
                      "--badging-dsn", badging_dsn])
    assert code == 0
    out = capsys.readouterr().out
    assert "300 Real-Time rows" in out
    assert "quarantined" in out
    assert "corrected" not in out
    assert "@" not in out
    assert seed.has_certifications(ctims_dsn)
    code = seed.main(["--from", "2024-05-01", "--to", "2024-05-31", "--rows", "300",
                      "--correction-rate", "0.5", "--seed", "3", "--ctims-dsn", ctims_dsn,
                      "--badging-dsn", badging_dsn])
    assert code == 0
    out = capsys.readouterr().out
    assert "correction rate 0.5" in out
    assert "corrected: " in out
    assert "@" not in out
