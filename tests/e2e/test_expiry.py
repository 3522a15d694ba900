"""What a badge says, with the real DAG (issue 31): a re-test years after a badge expired earns
a second badge with its own expiry, exactly once under a re-run; the earlier badge is left to
expire in Credly; the month's first morning list names the site's badges expiring within 60
days; evidence switched off sends none.

The world is made here, by hand, and what each badge must say is computed from the test's own
dates and validity, never read from the pipeline's tables.
"""

from __future__ import annotations

import email
import json
import subprocess
from datetime import date, datetime, time

import psycopg
import pytest

from badging.core.constants import AGENCY_TZ
from devstack import airflow_local
from devstack.mail_sink import messages
from tests.fixtures.nights import night_after, run_env
from tests.fixtures.stack import DagRunResult

SITE, PROGRAM, CODE = "012345001", "P40001", "SAFE10001"
SITE_NAME = "Central Technology Center - Drumright Campus"
CONTACT = "testing.012345001@central.example.org"
# Ada tested in 2023 (valid 24 months: expired in March 2025) and again in May 2026.
ADA, ADA_FIRST, ADA_AGAIN = 9001, 101, 102
FIRST_DAY, AGAIN_DAY = date(2023, 3, 2), date(2026, 5, 12)
# Bo tested in June 2024: his badge expires on 2026-06-20, within 60 days of May 2026.
BO, BO_ENTRY, BO_DAY = 9002, 103, date(2024, 6, 21)


@pytest.fixture
def world(clean_stack, sandbox):
    """A site with a testing contact, an approved program covering one assessment the agency
    says is valid for 24 months, and its Credly template (no default expiry of its own)."""
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.sites VALUES (%s, %s, true, %s)",
                     (SITE, SITE_NAME, CONTACT))
        conn.execute("INSERT INTO ctims.programs VALUES (%s, 'Safety Technology', '15.0701',"
                     " %s, true)", (PROGRAM, SITE))
        conn.execute("INSERT INTO ctims.approved_assessments VALUES (%s, 'OSHA 10 Safety',"
                     " 'OSHA', 'certification', false, '2013-07-01', NULL)", (CODE,))
        conn.execute("INSERT INTO ctims.program_assessments VALUES (%s, %s)", (PROGRAM, CODE))
        for student_id, first in ((ADA, "Ada"), (BO, "Bo")):
            conn.execute("INSERT INTO ctims.students (student_id, first_name, last_name,"
                         " email) VALUES (%s, %s, 'Probe', %s)",
                         (student_id, first, f"{first.lower()}.probe@example.org"))
            conn.execute("INSERT INTO ctims.enrollments VALUES (%s, %s, '2019-08-15', NULL)",
                         (student_id, PROGRAM))
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.badge_templates VALUES (%s, 'tpl-safe-1', true)",
                     (CODE,))
        conn.execute("INSERT INTO badging.assessment_validity VALUES (%s, 24, false)", (CODE,))
    clean_stack.sync_templates()
    sandbox.put_templates([{"id": "tpl-safe-1", "name": "OSHA 10", "state": "active",
                            "expires_in_days": None}])
    return clean_stack


def enter(stack, certification_id: int, student_id: int, tested: date, entered: date) -> None:
    at = datetime.combine(entered, time(10), AGENCY_TZ)
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.realtime_certifications VALUES (%s, %s, %s, %s, %s,"
                     " %s, 'instructor', %s, %s, NULL)",
                     (certification_id, student_id, CODE, SITE, PROGRAM, tested, at, at))


def run(stack, sandbox, airflow_ready, tmp_path, day: date, *,
        evidence: dict | None = None) -> DagRunResult:
    """The DAG for `day`, run the night after it: the pipeline's clock and Credly's agree."""
    sandbox.set_clock(night_after(day))
    env = run_env(stack, day)
    if evidence is not None:
        env["AIRFLOW_VAR_BADGING_EVIDENCE"] = json.dumps(evidence)
    conf = json.dumps({"date": day.isoformat(), "lookback_days": 1, "accept_volume": True})
    log_file = tmp_path / f"dag-{day}-{len(list(tmp_path.iterdir()))}.log"
    with log_file.open("w") as out:
        code = airflow_local.run_day(airflow_ready, day.isoformat(), conf, env=env,
                                      stdout=out, stderr=subprocess.STDOUT)
    return DagRunResult(code, log_file.read_text())


def ledger(stack) -> list[tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT certification_id, period, state, credly_badge_id,"
                            " previous_issuance_id IS NOT NULL FROM badging.issuance"
                            " ORDER BY certification_id").fetchall()


def lists_for(stack, day: date) -> list[email.message.Message]:
    found = []
    for path in messages(stack.paths.mail):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == CONTACT and day.isoformat() in message["Subject"]:
            found.append(message)
    return found


def html(message: email.message.Message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_a_retest_years_later_earns_a_second_badge_and_the_site_hears_of_expiring_ones(
        world, sandbox, airflow_ready, tmp_path):
    stack = world
    enter(stack, ADA_FIRST, ADA, date(2023, 3, 1), FIRST_DAY)
    first = run(stack, sandbox, airflow_ready, tmp_path, FIRST_DAY)
    assert first.succeeded, first.output[-4000:]
    enter(stack, BO_ENTRY, BO, date(2024, 6, 20), BO_DAY)
    assert run(stack, sandbox, airflow_ready, tmp_path, BO_DAY).succeeded
    rows = ledger(stack)
    assert [(c, p, s, renews) for c, p, s, _, renews in rows] == [
        (ADA_FIRST, 1, "issued", False), (BO_ENTRY, 1, "issued", False)]
    ada_first, bo_badge = rows[0][3], rows[1][3]
    held = {b["id"]: b for b in sandbox.badges()}
    # 2023-03-01 + 24 months, to the end of that day in Chicago (CST: 05:59:59 UTC).
    assert held[ada_first]["expires_at"] == "2025-03-02T05:59:59.000Z"
    assert [e["type"] for e in held[ada_first]["evidence"]] == ["PlainTextEvidence",
                                                                 "IdEvidence"]
    assert held[bo_badge]["expires_at"] == "2026-06-21T04:59:59.000Z"

    # Years later Ada tests again; the agency has switched evidence off meanwhile.
    enter(stack, ADA_AGAIN, ADA, date(2026, 5, 11), AGAIN_DAY)
    off = {"enabled": False}
    again = run(stack, sandbox, airflow_ready, tmp_path, AGAIN_DAY, evidence=off)
    assert again.succeeded, again.output[-4000:]
    rows = ledger(stack)
    assert [(c, p, s, renews) for c, p, s, _, renews in rows] == [
        (ADA_FIRST, 1, "issued", False), (ADA_AGAIN, 2, "issued", True),
        (BO_ENTRY, 1, "issued", False)]
    ada_second = rows[1][3]
    held = {b["id"]: b for b in sandbox.badges()}
    assert held[ada_second]["expires_at"] == "2028-05-12T04:59:59.000Z"
    assert held[ada_second]["evidence"] == []
    # The earlier badge is left to expire in Credly: never revoked.
    assert held[ada_first]["state"] == "expired"
    with psycopg.connect(stack.dsn("badging")) as conn:
        assert conn.execute("SELECT expiry FROM badging.run_summary WHERE logical_date = %s",
                            (AGAIN_DAY,)).fetchone()[0] == {
            "with_expiry": 1, "without_expiry": 0, "renewals": 1}
        assert conn.execute("SELECT credly_state FROM badging.issuance"
                            " WHERE certification_id = %s", (ADA_FIRST,)).fetchone() == (
            "expired",)

    # The month's first list tells the site which of its badges expire within 60 days: Bo's,
    # by certification id, assessment and program, and nothing about the student.
    [listed] = lists_for(stack, AGAIN_DAY)
    body = html(listed)
    assert listed["Subject"] == (f"CTIMS: 1 badge expiring within 60 days at site {SITE} "
                                 f"({AGAIN_DAY.isoformat()})")
    assert "Expiring within 60 days (1)" in body
    assert (f"<td>{BO_ENTRY}</td><td>OSHA 10 Safety ({CODE})</td><td>Safety Technology "
            f"({PROGRAM})</td><td>2026-06-20</td>") in body
    for personal in ("Bo", "Ada", "probe@example.org", str(BO), str(ADA)):
        assert personal not in body.replace(SITE_NAME, "")

    # Exactly once: the same day again issues nothing and lists nothing again.
    before = len(sandbox.badges())
    assert run(stack, sandbox, airflow_ready, tmp_path, AGAIN_DAY, evidence=off).succeeded
    assert ledger(stack) == rows
    assert len(sandbox.badges()) == before
    assert len(lists_for(stack, AGAIN_DAY)) == 1
