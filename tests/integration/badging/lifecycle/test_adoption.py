"""Adoption on real Postgres and the Credly sandbox over HTTP: badges Credly already holds are
recorded, not issued again; the shared-email care and the name rule decide what is not the
earner's, and a person is told (audit, correction report)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from badging.core.recipients import earner_id
from badging.core.run import RunInfo
from badging.credly import CredlyClient
from badging.lifecycle.adoption import adopt
from badging.pipeline.issue import BatchIssuer
from badging.pipeline.plan import plan
from badging.reports import correction_page
from badging.reports.location import ReportLocation
from tests.fixtures.ctims import stage_students

CODE = "WELD10001"
OTHER_CODE = "CNA20001"
SECRET = "k"
STUDENTS = 8
# Badges Credly holds for made-up earners of the template: the list runs over three pages.
FILLER = 120


def _run(run_id: str, try_number: int = 1) -> RunInfo:
    start = datetime(2026, 5, 12, 5, tzinfo=UTC)
    return RunInfo(run_id=run_id, day=date(2026, 5, 12), window_start=start, window_end=start,
                   dry_run=False, task_id="plan", try_number=try_number)


def _email(n: int) -> str:
    # Students 3 and 4 are siblings under one family address.
    return "family@example.org" if n in (3, 4) else f"learner{n}@example.org"


def _payload(template_id: str, email: str, earner: str | None = None,
             name: tuple[str, str] = ("Ada", "Probe")) -> dict:
    # Every student is Ada Probe in CTIMS (stage_students).
    payload = {"recipient_email": email, "badge_template_id": template_id,
               "issued_to_first_name": name[0], "issued_to_last_name": name[1],
               "issued_at": "2024-05-11T12:00:00Z"}
    return payload | ({"issuer_earner_id": earner} if earner else {})


@pytest.fixture
def history(clean_stack, sandbox):
    """Eight students planned for one template; Credly holds badges for some of them."""
    template_id, other_template = str(uuid.uuid4()), str(uuid.uuid4())
    sandbox.put_templates([
        {"id": tid, "name": code, "state": "active", "allow_duplicate_badges": False}
        for tid, code in ((template_id, CODE), (other_template, OTHER_CODE))])
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.badge_templates VALUES (%s, %s, true)",
                     (CODE, template_id))
    stage_students(clean_stack, "history", CODE, [_email(n) for n in range(1, STUDENTS + 1)],
                   date(2024, 5, 11))
    held = sandbox.import_badges([
        # 1: issued by an earlier deployment, under our earner id (the address has changed).
        _payload(template_id, "old-address@example.org", earner_id(SECRET, 5001)),
        # 2: by hand, no earner id, an address only student 2 uses; the name typed as
        # Credly's web app let someone type it.
        _payload(template_id, _email(2), name=(" ADA ", "Próbe")),
        # 3 and 4: by hand to the family address: whose is it?
        _payload(template_id, "family@example.org"),
        # 5: the address holds another earner's badge.
        _payload(template_id, _email(5), "someone-else"),
        # 6: revoked in Credly: not the earner's live badge.
        _payload(template_id, _email(6)),
        # 7: another template's badge.
        _payload(other_template, _email(7)),
        # 8: by hand to student 8's address, but to an older sibling no longer in CTIMS.
        _payload(template_id, _email(8), name=("Grace", "Probe")),
    ] + [_payload(template_id, f"filler{n}@example.org", f"filler-{n}") for n in range(FILLER)])
    sandbox.revoke_badge(held[4])
    return {"template_id": template_id, "held": held}


def _client(sandbox) -> CredlyClient:
    return CredlyClient(sandbox.base_url, sandbox.token, sandbox.org_id, max_attempts=1,
                        rate_limit_per_s=None)


def _plan(stack, sandbox, run: RunInfo):
    def adopt_existing(planned_run: RunInfo) -> None:
        adopt(planned_run, _client(sandbox), concurrency=4, badging=stack.dsn("badging"),
              ctims=stack.dsn("ctims", user="ctims_reader"))

    return plan(run, earner_id_secret=SECRET, batch_size=100, adopt=adopt_existing,
                badging=stack.dsn("badging"))


def _ledger(stack) -> dict[int, tuple[str, str | None, bool]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {row[0] - 5000: row[1:] for row in conn.execute(
            "SELECT student_id, state, credly_badge_id, adopted_at IS NOT NULL"
            " FROM badging.issuance")}


def _adopted_events(stack) -> dict[int, str]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute(
            "SELECT certification_id, detail ->> 'matched_by' FROM badging.audit_log"
            " WHERE event = 'adopted'").fetchall())


def test_badges_credly_holds_are_adopted_by_earner_id_then_by_unshared_email(
        clean_stack, sandbox, history):
    held = history["held"]
    batches, _ = _plan(clean_stack, sandbox, _run("history"))

    ledger = _ledger(clean_stack)
    assert ledger[1] == ("issued", held[0], True)
    assert ledger[2] == ("issued", held[1], True)
    # 3, 4: a family address; 5: another earner's badge; 6: revoked; 7: another template.
    for n in (3, 4, 5, 6, 7, 8):
        assert ledger[n] == ("pending", None, False)
    assert _adopted_events(clean_stack) == {1: "earner_id", 2: "email"}
    # Only the rest is cut into batches, and reading the list created nothing in Credly.
    assert [(b.batch_no, b.size) for b in batches] == [(0, 6)]
    assert len(sandbox.badges()) == len(held)


def test_the_list_is_read_once_pages_at_a_time_and_the_counts_say_why(
        clean_stack, sandbox, history):
    run = _run("history")
    plan(run, earner_id_secret=SECRET, batch_size=100, badging=clean_stack.dsn("badging"))
    sandbox.set_faults(latency_ms=60)
    result = adopt(run, _client(sandbox), concurrency=4, badging=clean_stack.dsn("badging"),
                   ctims=clean_stack.dsn("ctims", user="ctims_reader"))

    # 126 badges listed (the revoked one is not adoptable): three pages, read side by side.
    assert (result.listed, result.pages) == (len(history["held"]) - 1, 3)
    assert sandbox.state()["peak_in_flight"] >= 2
    assert (result.candidates, result.adopted, result.by_earner_id, result.by_email) == (
        STUDENTS, 2, 1, 1)
    assert result.not_adopted == {"shared_email": 2, "other_earner": 1, "name_mismatch": 1}


def test_adoption_repeated_adopts_nothing_twice_and_issue_sends_only_the_rest(
        clean_stack, sandbox, history):
    run = _run("history")
    _plan(clean_stack, sandbox, run)
    # plan retried (a worker died after adopting): the same badges, one audit row each.
    batches, _ = _plan(clean_stack, sandbox, _run("history", try_number=2))
    assert _adopted_events(clean_stack) == {1: "earner_id", 2: "email"}

    issuer = BatchIssuer(_run("history"), _client(sandbox), concurrency=2,
                         badging=clean_stack.dsn("badging"),
                         ctims=clean_stack.dsn("ctims", user="ctims_reader"))
    counts = issuer.issue(batches[0].batch_no, "batch 1 of 1")
    ledger = _ledger(clean_stack)
    states = {n: state for n, (state, _, _) in ledger.items()}
    # The family badge, the other earner's and the sibling's: a person must decide (failed,
    # not taken); 6 (revoked) and 7 (another template's badge) are issued new.
    assert states == {1: "issued", 2: "issued", 3: "failed", 4: "failed", 5: "failed",
                      6: "issued", 7: "issued", 8: "failed"}
    assert counts.get("issued") == 2
    # No earner holds two live badges of the template: nothing was issued twice.
    live = [b for b in sandbox.badges()
            if b["badge_template_id"] == history["template_id"] and b["state"] != "revoked"]
    earners = [b["issuer_earner_id"] for b in live if b["issuer_earner_id"]]
    assert len(earners) == len(set(earners))
    assert sum(1 for b in live if b["recipient_email"] == "learner2@example.org") == 1


def _not_adopted_events(stack) -> list[tuple[int, str, str]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute(
            "SELECT certification_id, reason, detail::text FROM badging.audit_log"
            " WHERE event = 'not_adopted' ORDER BY certification_id").fetchall()


# Issue 27: adoption never takes a sibling's badge, and says which badges a person decides.

def test_a_badge_naming_someone_else_is_not_adopted_and_a_person_is_told(
        clean_stack, sandbox, history, tmp_path):
    """Before: student 8 was recorded with the badge issued by hand to an older sibling at
    the address no current student shares; nothing told a person about 3, 4 and 5."""
    run = _run("history")
    _plan(clean_stack, sandbox, run)
    assert _ledger(clean_stack)[8] == ("pending", None, False)
    # One audit row per certification, the reason only: no name, no Credly id.
    expected = [(3, "shared_email", "{}"), (4, "shared_email", "{}"),
                (5, "other_earner", "{}"), (8, "name_mismatch", "{}")]
    assert _not_adopted_events(clean_stack) == expected
    # plan retried: the same decisions, audited once.
    _plan(clean_stack, sandbox, _run("history", try_number=2))
    assert _not_adopted_events(clean_stack) == expected

    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        where = correction_page.write(conn, run, ReportLocation(str(tmp_path)),
                                        ctims=clean_stack.dsn("ctims", user="ctims_reader"))
    page = Path(where).read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="not-adopted" data-site="[^"]*" data-reason="([a-z_]+)">'
                      r'<td class="ids">(\d+)</td><td><code>([A-Z0-9]+)</code>', page)
    assert sorted((int(cert), reason, code) for reason, cert, code in rows) == [
        (cert, reason, CODE) for cert, reason, _ in expected]
    assert "Check the student&#39;s name in CTIMS" in page
    assert "Grace" not in page
    assert "Ada" not in page
