"""No student data, token or Credly badge id in anything a run leaves behind; CTIMS only read;
SQL only bound."""

from __future__ import annotations

import ast
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from devstack.seed import SeedParams
from devstack.stack import REPO
from tests.e2e.corrections import at_noon, fix_student, single_badge_students, single_entry_badges
from tests.e2e.outcomes import seed
from tests.faults.harness import archive_a_template
from tests.fixtures.pii import Secrets, airflow_records, badging_records, files, mails

DAY = date(2026, 5, 12)
# The corrections' day, whose night finds them; the night after (a day's grace, 24 hours on)
# revokes and replaces badges under Credly faults.
NEXT = DAY + timedelta(days=1)
AFTER = NEXT + timedelta(days=1)
DELETED = 6
# The transport's retry warning for a call on one badge (its id redacted, or not).
ONE_BADGE_CALL_RETRIED = re.compile(r"Credly (?:GET|PUT|POST) /\S*/badges/[^?\s]+: .*retrying")
# Dirty rows (quarantine) and faults (retries, lost responses, a 422) make the run walk
# every path that writes an error or a warning.
LOOKBACK_DAYS = 11
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=DAY, rows=600, dirty_rate=0.15, seed=23)
_CTIMS_TABLES = ("sites", "programs", "approved_assessments", "program_assessments",
                 "students", "enrollments", "realtime_certifications")


def _ctims_fingerprint(stack) -> dict[str, str]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return {table: conn.execute(
            # Table names come from the constant above, never from data.
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
            f"FROM ctims.{table} t").fetchone()[0] for table in _CTIMS_TABLES}


def _corrections(stack) -> None:
    """Entries deleted (their badges revoked) and a name corrected (its badge replaced) on
    NEXT, as a registrar's fixes would be."""
    [renamed] = single_badge_students(stack, 1)
    deleted = [b for b in single_entry_badges(stack, DELETED + 1) if b[0] != renamed[0]]
    with psycopg.connect(stack.dsn("ctims")) as conn:
        for badge in deleted[:DELETED]:
            conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = %(when)s, "
                         "updated_at = %(when)s WHERE certification_id = %(id)s",
                         {"when": at_noon(NEXT), "id": badge[1]})
    fix_student(stack, renamed[2], last_name="Corrected-Name")


@pytest.fixture
def faulty_run(clean_stack, run_dag, sandbox):
    clean_stack.ensure_mail()
    seed(clean_stack, SEED)
    with psycopg.connect(clean_stack.dsn("ctims")) as conn:
        window = set(conn.execute("""
            SELECT c.student_id, upper(btrim(c.assessment_code))
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
            WHERE t.expected = 'eligible' AND c.updated_at >= %s""",
            (DAY - timedelta(days=LOOKBACK_DAYS),)))
    # Credly refuses some badges of the run (422): error paths write to the logs too.
    archive_a_template(clean_stack, sandbox, window)
    sandbox.set_faults(error_rate=0.05, throttle_rate=0.05, lost_response_rate=0.05, seed=5)
    before = _ctims_fingerprint(clean_stack)
    results = [run_dag(DAY, lookback_days=LOOKBACK_DAYS)]
    assert _ctims_fingerprint(clean_stack) == before
    # Revocations and a replacement, their writes and lookups retried (issue 27: the retry
    # warnings name the call's path, which holds the badge's id).
    _corrections(clean_stack)
    before = _ctims_fingerprint(clean_stack)
    results.append(run_dag(NEXT, lookback_days=0, revocation_grace_days=1))
    sandbox.set_faults(error_rate=0.2, throttle_rate=0.1, lost_response_rate=0.3,
                       retry_after_s=1, seed=7)
    results.append(run_dag(AFTER, lookback_days=0, revocation_grace_days=1))
    return clean_stack, results, before


def _audited(stack, event: str) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT count(*) FROM badging.audit_log WHERE event = %s",
                            (event,)).fetchone()[0]


def test_runs_leave_no_student_data_token_or_badge_id_anywhere(faulty_run):
    stack, results, ctims_before = faulty_run
    assert _audited(stack, "revoked") == DELETED, results[-1].output[-4000:]
    assert _audited(stack, "replaced") == 1
    secrets = Secrets.of(stack)
    # The scanner must be able to see what it looks for, or zero hits proves nothing.
    with psycopg.connect(stack.dsn("ctims")) as conn:
        sid, first, last, email = conn.execute(
            "SELECT student_id, first_name, last_name, email FROM ctims.students "
            "WHERE email LIKE '%@%' LIMIT 1").fetchone()
    with psycopg.connect(stack.dsn("badging")) as conn:
        [badge_id] = conn.execute("SELECT credly_badge_id FROM badging.revocation"
                                  " LIMIT 1").fetchone()
    control = f"id={sid} {first} {last} <{email.upper()}> /badges/{badge_id.upper()}/revoke"
    assert {hit.split(": ")[1].split()[0] for hit in secrets.leaks([("control", control)])} == {
        "student_id", "name", "email", "credly_badge_id"}

    sources = [*((f"dags test output {n}", r.output) for n, r in enumerate(results)),
               *files(stack.paths.airflow_home / "logs"),
               *files(stack.paths.reports),
               *mails(stack.paths.mail),
               *airflow_records(stack),
               *badging_records(stack)]
    kinds = Counter(where.split()[0] for where, _ in sources)
    assert kinds["xcom"] > 5, "no XCom was read: the scan would be vacuous"
    assert kinds["mail"] >= 1, "no alert mail was read: the scan would be vacuous"
    assert any("HTTP 422" in text for _, text in sources), "the run met no Credly error"
    # Calls on one badge (…/badges/<id>/revoke, …) were retried and logged.
    assert any(ONE_BADGE_CALL_RETRIED.search(text) for _, text in sources), \
        "no call on one badge was retried"
    assert secrets.leaks(sources) == []
    # And the source was only read (the run used the read-only role).
    assert "ctims_reader@" in stack.airflow_env()["AIRFLOW_CONN_CTIMS_DB"]
    assert _ctims_fingerprint(stack) == ctims_before


def _string_built_sql(tree: ast.AST) -> list[int]:
    """Lines where execute/executemany/copy gets SQL built from pieces at run time."""
    built = (ast.JoinedStr, ast.BinOp)
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "copy") and node.args):
            sql = node.args[0]
            if isinstance(sql, built) or (isinstance(sql, ast.Call)
                                          and getattr(sql.func, "attr", "") == "format"):
                lines.append(node.lineno)
    return lines


def test_the_pipeline_only_runs_sql_files_with_bound_parameters():
    offenders = {}
    # rglob: the package has subpackages (badging.credly), whose modules count too.
    package = Path(REPO, "plugins", "badging")
    for path in sorted(package.rglob("*.py")):
        lines = _string_built_sql(ast.parse(path.read_text()))
        if lines:
            offenders[str(path.relative_to(package))] = lines
    assert offenders == {}
