"""Run the real DAG as a killable process and judge a fault case against the seed's truth."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from badging.core.clock import CLOCK_ENV
from badging.credly import CredlyClient
from devstack.airflow_local import DAG_ID
from devstack.stack import Stack
from tests.fixtures.nights import night_after
from tests.fixtures.pii import Secrets, airflow_records, badging_records, files
from tests.fixtures.polling import wait_until

AIRFLOW = Path(sys.executable).with_name("airflow")
# One fault case must never hang the suite: a run still going after this is a failure.
RUN_TIMEOUT_S = 15 * 60

# Rows of the closing table, one per case that ran: the conftest prints them.
MATRIX: list[dict[str, object]] = []


def airflow_env(stack: Stack, *, read_timeout: float | None = None,
                lease_seconds: int | None = None) -> dict[str, str]:
    """The stack's Airflow environment, with a shorter Credly read timeout or ledger lease."""
    env = os.environ | stack.airflow_env()
    if read_timeout is not None:
        credly = json.loads(env["AIRFLOW_CONN_CREDLY_API"])
        credly["extra"]["read_timeout"] = read_timeout
        env["AIRFLOW_CONN_CREDLY_API"] = json.dumps(credly)
    if lease_seconds is not None:
        env["BADGING_LEASE_SECONDS"] = str(lease_seconds)
    return env


class DagProcess:
    """`airflow dags test` in its own process group, so a test can SIGKILL all of it."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str):
        self.log_path = log_path
        with log_path.open("w") as out:
            self._popen = subprocess.Popen(
                [str(AIRFLOW), *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    @classmethod
    def dags_test(cls, env: dict[str, str], log_path: Path, day: date, *,
                  logical_date: str | None = None, **params: object) -> DagProcess:
        # Two runs of one day need distinct logical dates: `dags test` deletes any run
        # already holding its logical date. The `date` param is what names the day. The run
        # is the day's nightly run (tests/fixtures/nights.py) unless `env` sets the clock.
        # accept_volume: nobody answers the volume gate here, and the full seed's month makes
        # it ask (the gate has its own tests: tests/e2e/test_volume_gate.py).
        conf = json.dumps({"date": day.isoformat(), "accept_volume": True, **params})
        env = {CLOCK_ENV: night_after(day).isoformat()} | env
        return cls(env, log_path, "dags", "test", DAG_ID, logical_date or day.isoformat(),
                   "--conf", conf)

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    def wait(self, timeout: float = RUN_TIMEOUT_S) -> int:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL the whole group (the CLI and any task process it started): a dead worker."""
        if self.running:
            os.killpg(self._popen.pid, signal.SIGKILL)
        self._popen.wait()

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def succeeded(self) -> bool:
        return self._popen.returncode == 0 and "state=success" in self.output


def task_test(env: dict[str, str], log_path: Path, run_id: str, task_id: str,
              map_index: int = -1) -> str:
    """`airflow tasks test` one task of an existing run; returns the state it ended in.

    The command exits 0 whether or not the task failed, so the state is read from its
    output. Its output is appended to `log_path`.
    """
    args = ["tasks", "test", DAG_ID, task_id, run_id]
    if map_index >= 0:
        args += ["--map-index", str(map_index)]
    done = subprocess.run([str(AIRFLOW), *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=RUN_TIMEOUT_S)
    with log_path.open("a") as out:
        out.write(done.stdout)
    states = re.findall(r"Task instance state updated.*new_state=(\w+)", done.stdout)
    return states[-1] if states else f"no state (exit {done.returncode})"


def ledger_count(stack: Stack, state: str) -> int:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT count(*) FROM badging.issuance WHERE state = %s",
                            (state,)).fetchone()[0]


def wait_for(condition: Callable[[], bool], process: DagProcess, what: str,
             timeout: float = RUN_TIMEOUT_S) -> None:
    """Poll until `condition` holds; fail if the run ended first or time ran out."""
    def holds() -> bool:
        if condition():
            return True
        assert process.running, f"the run ended before {what}:\n{process.output[-3000:]}"
        return False

    wait_until(holds, timeout=timeout, what=what)


def run_ids(stack: Stack) -> list[str]:
    """Every run that staged rows, oldest first (run_summary misses runs killed early)."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        return [r[0] for r in conn.execute(
            "SELECT run_id FROM badging.staged_certification GROUP BY run_id "
            "ORDER BY min(staged_at)")]


@dataclass(frozen=True)
class Verdict:
    """The matrix's columns for one case, from Credly's side and the ledger's."""

    expected: int
    issued: int
    duplicates: int
    missing: int
    extra: int
    failed: int


def eligible_keys(stack: Stack) -> set[tuple[int, str]]:
    """The badges the seed's ground truth says must exist: (student, assessment) pairs."""
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return set(conn.execute("""
            SELECT c.student_id, upper(btrim(c.assessment_code))
            FROM ctims.realtime_certifications c
            JOIN devstack.seed_truth t USING (certification_id)
            WHERE t.expected = 'eligible'
        """).fetchall())


def judge(stack: Stack, sandbox, expected: set[tuple[int, str]],
          foreign: frozenset[str] = frozenset()) -> Verdict:
    """Compare Credly's badges, the ledger and the expected set.

    `foreign`: badges someone issued by hand before the run, in Credly but never ours.
    """
    with psycopg.connect(stack.dsn("badging")) as conn:
        rows = conn.execute("""
            SELECT student_id, assessment_code, state, credly_badge_id
            FROM badging.issuance
        """).fetchall()
    badges = [b for b in sandbox.badges() if b["id"] not in foreign]
    in_credly = {b["id"] for b in badges}
    issued = {(s, a) for s, a, state, badge in rows if state == "issued" and badge in in_credly}
    per_earner = Counter((b["issuer_earner_id"], b["badge_template_id"]) for b in badges)
    ledger_badges = {badge for *_, badge in rows if badge}
    return Verdict(
        expected=len(expected),
        issued=len(badges),
        duplicates=sum(n - 1 for n in per_earner.values()),
        missing=len(expected - issued),
        extra=len(in_credly - ledger_badges) + len(issued - expected),
        failed=sum(1 for *_, state, _ in rows if state == "failed"),
    )


def template_of(stack: Stack, code: str) -> str:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT credly_template_id FROM badging.badge_templates"
                            " WHERE assessment_code = %s", (code,)).fetchone()[0]


def set_template(sandbox, template_id: str, name: str, *, state: str = "active",
                 allow_duplicate_badges: bool = False) -> None:
    sandbox.put_templates([{"id": template_id, "name": name, "state": state,
                            "allow_duplicate_badges": allow_duplicate_badges}])


def middling_code(eligible: set[tuple[int, str]]) -> str:
    """An assessment with a middling number of the eligible badges."""
    ranked = Counter(code for _, code in eligible).most_common()
    return ranked[len(ranked) // 2][0]


def archive_a_template(stack, sandbox, eligible) -> set[tuple[int, str]]:
    """Archive the Credly template of a middling assessment; returns the badges it blocks."""
    code = middling_code(eligible)
    set_template(sandbox, template_of(stack, code), code, state="archived")
    return {key for key in eligible if key[1] == code}


def one_template_for_two_assessments(stack, sandbox, eligible) -> set[int]:
    """Map a second assessment onto the first one's Credly template (a configuration slip):
    a student eligible for both has two ledger rows that resolve to one Credly badge, and
    the second one's record is refused by the ledger (a poisoned row). Returns the students
    who hold both, the two assessments chosen to have some."""
    by_code: dict[str, set[int]] = {}
    for student, code in eligible:
        by_code.setdefault(code, set()).add(student)
    codes = sorted(by_code)
    first, second = max(((a, b) for a in codes for b in codes if a < b),
                        key=lambda pair: len(by_code[pair[0]] & by_code[pair[1]]))
    both = by_code[first] & by_code[second]
    assert both, "the seed has no student eligible for two assessments"
    with psycopg.connect(stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("UPDATE badging.badge_templates SET credly_template_id = %s"
                     " WHERE assessment_code = %s", (template_of(stack, first), second))
        # Badges that never expire: Credly finds the first badge for the second row only while
        # it is current, and Credly's clock is today's, past a short validity of the seed's
        # (ours, or the template's default, which Credly applies when none is sent).
        conn.execute("INSERT INTO badging.assessment_validity (assessment_code, never)"
                     " SELECT unnest(%s::text[]), true ON CONFLICT (assessment_code)"
                     " DO UPDATE SET valid_months = NULL, never = true", ([first, second],))
    set_template(sandbox, template_of(stack, first), "Shared by two assessments")
    return both


def share_emails(stack, sandbox, eligible) -> tuple[set[int], set[int], str]:
    """Two pairs of siblings, each pair sharing an email and eligible for the same one
    assessment (their only badge). The second pair's address already holds a badge of that
    template that someone issued by hand, without an earner id.

    Returns:
        The first pair's students, the second pair's, and the hand-issued badge's id.
    """
    keys_per_student = Counter(student for student, _ in eligible)
    single = sorted((code, student) for student, code in eligible
                    if keys_per_student[student] == 1)
    per_code: dict[str, list[int]] = {}
    for code, student in single:
        per_code.setdefault(code, []).append(student)
    code, students = max(per_code.items(), key=lambda item: len(item[1]))
    assert len(students) >= 4, "the seed has no four students with one badge of one kind"
    first, second = set(students[:2]), set(students[2:4])
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        for older, younger in (students[:2], students[2:4]):
            conn.execute("UPDATE ctims.students SET email = (SELECT email FROM ctims.students"
                         " WHERE student_id = %s) WHERE student_id = %s", (older, younger))
        [email, first_name, last_name] = conn.execute(
            "SELECT lower(btrim(email)), first_name, last_name FROM ctims.students"
            " WHERE student_id = %s", (students[2],)).fetchone()
    by_hand = CredlyClient(sandbox.base_url, sandbox.token, sandbox.org_id).transport.send(
        "POST", f"{sandbox.base_url}/organizations/{sandbox.org_id}/badges",
        json={"recipient_email": email, "issued_to_first_name": first_name,
              "issued_to_last_name": last_name, "badge_template_id": template_of(stack, code),
              "issued_at": "2025-06-01T12:00:00-05:00"})
    return first, second, by_hand["data"]["id"]


def failed_keys(stack: Stack) -> set[tuple[int, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return set(conn.execute("SELECT student_id, assessment_code FROM badging.issuance"
                                " WHERE state = 'failed'"))


def assert_nothing_leaked(stack: Stack, logs: Path) -> None:
    """The privacy scan of tests/e2e/test_privacy.py, over a fault case's runs."""
    sources = [*files(logs), *files(stack.paths.airflow_home / "logs"),
               *airflow_records(stack), *badging_records(stack)]
    # Not a test module, so pytest does not rewrite this assert: say where and what kind
    # (never the value; leaks() reports places and kinds only).
    leaks = Secrets.of(stack).leaks(sources)
    assert leaks == [], f"student data or the token found: {leaks}"


def record(case: str, verdict: Verdict, outcome: str) -> None:
    MATRIX.append({"case": case, "expected": verdict.expected, "issued": verdict.issued,
                   "duplicates": verdict.duplicates, "missing": verdict.missing,
                   "failed": verdict.failed, "run outcome": outcome})


def matrix_table() -> str:
    columns = ("case", "expected", "issued", "duplicates", "missing", "failed", "run outcome")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in MATRIX]
    return "\n".join(lines)
