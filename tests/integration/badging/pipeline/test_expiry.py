"""What a badge says, on real Postgres and the real sandbox (issue 31): the expiry and evidence
issue sends, a row whose badge would already be expired, re-certification inside and outside
the window, and the lifecycle check per certification period (docs/ledger.md)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest

from badging.core.clock import CLOCK_ENV
from badging.core.constants import AGENCY_TZ, PROGRAM_LAUNCH, RunType
from badging.core.run import RunInfo, extract_window
from badging.lifecycle.check import CheckOptions, check_badges
from badging.pipeline.eligibility import decide
from badging.pipeline.extract import extract
from badging.pipeline.issue import BatchIssuer
from badging.pipeline.plan import plan, read_templates
from badging.reports.evidence import EvidencePolicy

SITE, PROGRAM, CODE = "012345001", "P40001", "SAFE10001"
SITE_NAME = "Central Technology Center - Drumright Campus"


@pytest.fixture
def world(clean_stack, sandbox):
    """One accredited site, one approved program covering one approved assessment with an
    active template; `configure` sets the template's own expiry and the agency's validity."""
    template_id = str(uuid.uuid4())
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.sites VALUES (%s, %s, true)", (SITE, SITE_NAME))
        conn.execute("INSERT INTO ctims.programs VALUES (%s, 'Safety Technology', '15.0701',"
                     " %s, true)", (PROGRAM, SITE))
        conn.execute("INSERT INTO ctims.approved_assessments VALUES (%s, 'OSHA 10 Safety',"
                     " 'OSHA', 'certification', false, '2013-07-01', NULL)", (CODE,))
        conn.execute("INSERT INTO ctims.program_assessments VALUES (%s, %s)", (PROGRAM, CODE))
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.badge_templates VALUES (%s, %s, true)",
                     (CODE, template_id))

    def configure(*, template_days: int | None = None, months: int | None = None,
                  never: bool = False) -> None:
        sandbox.put_templates([{"id": template_id, "name": CODE, "state": "active",
                                "expires_in_days": template_days}])
        if months or never:
            with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
                conn.execute("INSERT INTO badging.assessment_validity VALUES (%s, %s, %s)",
                             (CODE, months, never))

    configure()
    return configure


def student(stack, student_id: int, email: str) -> None:
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.students (student_id, first_name, last_name, email)"
                     " VALUES (%s, 'Ada', 'Probe', %s)", (student_id, email))
        conn.execute("INSERT INTO ctims.enrollments VALUES (%s, %s, '2019-08-15', NULL)",
                     (student_id, PROGRAM))


def entry(stack, certification_id: int, student_id: int, test_date: date, entered: date) -> None:
    """A Real-Time entry of CODE at SITE in PROGRAM, entered (and changed) on `entered`."""
    at = datetime.combine(entered, time(12), AGENCY_TZ)
    with psycopg.connect(stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("INSERT INTO ctims.realtime_certifications VALUES (%s, %s, %s, %s, %s,"
                     " %s, 'instructor', %s, %s, NULL)",
                     (certification_id, student_id, CODE, SITE, PROGRAM, test_date, at, at))


def night(day: date) -> datetime:
    return datetime.combine(day, time(1), AGENCY_TZ)


def run_day(stack, client, monkeypatch, run_id: str, day: date, *, try_number: int = 1,
            evidence: EvidencePolicy | None = None, dry_run: bool = False) -> dict[str, int]:
    """extract, decide, plan (reading Credly's templates) and issue one day, the pipeline's
    clock at 01:00 the night after it; returns plan's decisions."""
    monkeypatch.setenv(CLOCK_ENV, night(date.fromordinal(day.toordinal() + 1)).isoformat())
    start, end = extract_window(day, 3)
    run = RunInfo(run_id=run_id, day=day, window_start=start, window_end=end, dry_run=dry_run,
                  task_id="plan", try_number=try_number)
    extract(run, ctims=stack.dsn("ctims", user="ctims_reader"), badging=stack.dsn("badging"))
    decide(run, program_launch=PROGRAM_LAUNCH, badging=stack.dsn("badging"))
    batches, decisions = plan(run, earner_id_secret="k", batch_size=50,
                              templates=read_templates(client), badging=stack.dsn("badging"))
    for batch in batches:
        BatchIssuer(replace(run, task_id="issue"), client, concurrency=2, evidence=evidence,
                    badging=stack.dsn("badging"),
                    ctims=stack.dsn("ctims")).issue(batch.batch_no, "batch")
    return decisions


def ledger(stack) -> list[tuple]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return conn.execute("SELECT certification_id, period, state, expires_at,"
                            " previous_issuance_id IS NOT NULL, credly_badge_id"
                            " FROM badging.issuance ORDER BY period, certification_id").fetchall()


def decisions_of(stack, run_id: str) -> dict[int, tuple[str, str | None]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return {c: (d, r) for c, d, r in conn.execute(
            "SELECT certification_id, decision, reason FROM badging.staged_certification"
            " WHERE run_id = %s", (run_id,))}


def badges_by_id(sandbox) -> dict[str, dict]:
    return {b["id"]: b for b in sandbox.badges()}


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), AGENCY_TZ)


def test_issue_sends_the_expiry_of_the_agency_s_validity_and_the_evidence(world, clean_stack,
                                                                          client, sandbox,
                                                                          monkeypatch):
    world(template_days=1095, months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2024, 2, 29), date(2024, 3, 1))
    run_day(clean_stack, client, monkeypatch, "day-1", date(2024, 3, 1))
    [(_, period, state, expires_at, _, badge_id)] = ledger(clean_stack)
    # 24 months from a leap day: the last day of February 2026, 23:59:59 in Chicago.
    assert (period, state, expires_at) == (1, "issued", end_of(date(2026, 2, 28)))
    badge = badges_by_id(sandbox)[badge_id]
    assert badge["expires_at"] == "2026-03-01T05:59:59.000Z"
    text, ident = badge["evidence"]
    assert ident == {"type": "IdEvidence", "title": "CTIMS certification id",
                     "description": "The Real-Time certification entry this badge was issued "
                                    "for", "id": "1"}
    assert text["type"] == "PlainTextEvidence"
    assert text["description"] == (f"Passed OSHA 10 Safety ({CODE}) on 2024-02-29. Course "
                                   f"work in the approved program Safety Technology at "
                                   f"{SITE_NAME}.")
    # Never a student's name, address or id.
    assert "Ada" not in str(badge["evidence"])
    assert "7001" not in str(badge["evidence"])


def test_without_the_agency_s_setting_the_template_s_expiry_read_at_plan_applies(
        world, clean_stack, client, sandbox, monkeypatch):
    world(template_days=1095)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2026, 5, 11), date(2026, 5, 12))
    run_day(clean_stack, client, monkeypatch, "day-1", date(2026, 5, 12))
    [(_, _, _, expires_at, _, badge_id)] = ledger(clean_stack)
    assert expires_at == end_of(date(2029, 5, 10))
    # Sent as the badge's own (the end of the Chicago day), not left to Credly's default.
    assert badges_by_id(sandbox)[badge_id]["expires_at"] == "2029-05-11T04:59:59.000Z"
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT c.expires_in_days FROM badging.credly_template c"
                            " JOIN badging.badge_templates t USING (credly_template_id)"
                            ).fetchall() == [(1095,)]


def test_never_sends_no_expiry_whatever_the_template_says(world, clean_stack, client, sandbox,
                                                         monkeypatch):
    world(template_days=1095, never=True)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2026, 5, 11), date(2026, 5, 12))
    run_day(clean_stack, client, monkeypatch, "day-1", date(2026, 5, 12),
            evidence=EvidencePolicy(enabled=False))
    [(_, _, state, expires_at, _, badge_id)] = ledger(clean_stack)
    assert (state, expires_at) == ("issued", None)
    badge = badges_by_id(sandbox)[badge_id]
    assert badge["expires_at"] is None
    # Evidence switched off: none sent.
    assert badge["evidence"] == []


def test_a_row_whose_badge_would_already_be_expired_is_not_issued(world, clean_stack, client,
                                                                  sandbox, monkeypatch):
    world(months=12)
    student(clean_stack, 7001, "ada@example.org")
    student(clean_stack, 7002, "bo@example.org")
    # Entered late: tested in 2024, valid for a year, processed in May 2026.
    entry(clean_stack, 1, 7001, date(2024, 4, 2), date(2026, 5, 12))
    # The same student's later entry still earns a live badge: it starts the period.
    entry(clean_stack, 2, 7002, date(2024, 4, 2), date(2026, 5, 12))
    entry(clean_stack, 3, 7002, date(2026, 5, 1), date(2026, 5, 12))
    decided = run_day(clean_stack, client, monkeypatch, "day-1", date(2026, 5, 12))
    assert decisions_of(clean_stack, "day-1") == {
        1: ("ineligible", "expired_before_issue"), 2: ("ineligible", "expired_before_issue"),
        3: ("planned", None)}
    assert decided == {"ineligible": 2, "planned": 1}
    assert [(c, p, s) for c, p, s, *_ in ledger(clean_stack)] == [(3, 1, "issued")]
    assert len(sandbox.badges()) == 1
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT count(*) FROM badging.audit_log WHERE event = 'ineligible'"
                            " AND reason = 'expired_before_issue'").fetchone()[0] == 2
    # A dry run of the day decides the same.
    run_day(clean_stack, client, monkeypatch, "dry-1", date(2026, 5, 12), dry_run=True)
    assert decisions_of(clean_stack, "dry-1")[1] == ("ineligible", "expired_before_issue")


def test_a_retest_after_the_badge_expired_earns_the_next_period_exactly_once(
        world, clean_stack, client, sandbox, monkeypatch):
    world(months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2023, 1, 10), date(2023, 1, 11))
    run_day(clean_stack, client, monkeypatch, "2023", date(2023, 1, 11))
    [(_, _, _, first_expiry, _, first)] = ledger(clean_stack)
    assert first_expiry == end_of(date(2025, 1, 10))
    # Years later the student tests again.
    entry(clean_stack, 2, 7001, date(2026, 5, 11), date(2026, 5, 12))
    run_day(clean_stack, client, monkeypatch, "2026", date(2026, 5, 12))
    assert decisions_of(clean_stack, "2026") == {2: ("planned", None)}
    rows = ledger(clean_stack)
    assert [(c, p, s, renews) for c, p, s, _, renews, _ in rows] == [
        (1, 1, "issued", False), (2, 2, "issued", True)]
    second_expiry, second = rows[1][3], rows[1][5]
    assert second_expiry == end_of(date(2028, 5, 11))
    in_credly = badges_by_id(sandbox)
    assert in_credly[second]["expires_at"] == "2028-05-12T04:59:59.000Z"
    # The earlier badge is left to expire in Credly: never revoked.
    assert in_credly[first]["state"] == "expired"
    # Exactly once: the same day again (a retry, a re-run), and a later day's lookback.
    run_day(clean_stack, client, monkeypatch, "2026", date(2026, 5, 12), try_number=2)
    run_day(clean_stack, client, monkeypatch, "2026b", date(2026, 5, 13))
    assert decisions_of(clean_stack, "2026b") == {2: ("already_issued", "already_issued")}
    assert len(ledger(clean_stack)) == 2
    assert len(sandbox.badges()) == 2
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT count(*), min(detail ->> 'period') FROM badging.audit_log"
                            " WHERE event = 'renewal_planned'").fetchone() == (1, "2")


def test_a_retest_outside_the_window_stays_already_issued_and_one_inside_waits_for_expiry(
        world, clean_stack, client, sandbox, monkeypatch):
    world(months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2024, 6, 3), date(2024, 6, 4))
    run_day(clean_stack, client, monkeypatch, "first", date(2024, 6, 4))
    # The badge expires on 2026-06-03; the window opens 90 days before, on 2026-03-05.
    entry(clean_stack, 2, 7001, date(2026, 3, 4), date(2026, 3, 5))
    run_day(clean_stack, client, monkeypatch, "outside", date(2026, 3, 5))
    assert decisions_of(clean_stack, "outside") == {2: ("already_issued", "already_issued")}
    entry(clean_stack, 3, 7001, date(2026, 3, 5), date(2026, 3, 6))
    run_day(clean_stack, client, monkeypatch, "inside", date(2026, 3, 6))
    assert decisions_of(clean_stack, "inside")[3] == ("already_issued", "renews_at_expiry")
    assert len(ledger(clean_stack)) == 1
    # The night after the badge expired, the check plans the renewal; the next run issues it.
    options = CheckOptions(grace_days=2, program_launch=PROGRAM_LAUNCH, digest_secret="k")
    nightly = RunInfo(run_id="night", day=date(2026, 6, 4), window_start=night(date(2026, 6, 4)),
                      window_end=night(date(2026, 6, 5)), dry_run=False, task_id="check_badges",
                      run_type=RunType.SCHEDULED, latest_day=date(2026, 6, 4))
    monkeypatch.setenv(CLOCK_ENV, night(date(2026, 6, 3)).isoformat())
    check_badges(replace(nightly, run_id="still-live"), options,
                 ctims=clean_stack.dsn("ctims", user="ctims_reader"),
                 badging=clean_stack.dsn("badging"))
    assert len(ledger(clean_stack)) == 1
    monkeypatch.setenv(CLOCK_ENV, night(date(2026, 6, 5)).isoformat())
    for _ in range(2):  # a re-run of the check plans nothing more
        check_badges(nightly, options, ctims=clean_stack.dsn("ctims", user="ctims_reader"),
                     badging=clean_stack.dsn("badging"))
    rows = ledger(clean_stack)
    assert [(c, p, s) for c, p, s, *_ in rows] == [(1, 1, "issued"), (3, 2, "pending")]
    # The renewal starts from the re-test inside the window, not the one before it.
    assert rows[1][3] == end_of(date(2028, 3, 5))
    run_day(clean_stack, client, monkeypatch, "sweep", date(2026, 6, 5))
    assert [s for _, _, s, *_ in ledger(clean_stack)] == ["issued", "issued"]
    assert sorted(b["state"] for b in sandbox.badges()) == ["expired", "pending"]


def test_an_incremental_night_renews_a_badge_that_expired_with_nothing_changed_in_ctims(
        world, clean_stack, client, sandbox, monkeypatch):
    # The re-test waited (renews_at_expiry) for months; the night the badge expires, CTIMS
    # holds no change for the student, and the check still reads them (watched_students.sql).
    world(months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2024, 6, 3), date(2024, 6, 4))
    run_day(clean_stack, client, monkeypatch, "first", date(2024, 6, 4))
    entry(clean_stack, 3, 7001, date(2026, 3, 5), date(2026, 3, 6))
    run_day(clean_stack, client, monkeypatch, "inside", date(2026, 3, 6))
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.students SET updated_at = '2024-06-01' "
                     "WHERE student_id = 7001")
    options = CheckOptions(grace_days=2, program_launch=PROGRAM_LAUNCH, digest_secret="k")

    # Tuesday's night, the badge still live (full: the first nightly check), then
    # Wednesday's, after its expiry day (incremental).
    for day in (date(2026, 6, 2), date(2026, 6, 3)):
        after = day + timedelta(days=1)
        monkeypatch.setenv(CLOCK_ENV, night(after).isoformat())
        run = RunInfo(run_id=f"night-{day}", day=day, window_start=night(day),
                      window_end=night(after), dry_run=False, task_id="check_badges",
                      run_type=RunType.SCHEDULED, latest_day=day)
        check_badges(run, options, ctims=clean_stack.dsn("ctims", user="ctims_reader"),
                     badging=clean_stack.dsn("badging"))
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        kinds = conn.execute("SELECT full_check, students_checked FROM badging.badge_check "
                             "WHERE run_id LIKE 'night-%' ORDER BY logical_date").fetchall()
    assert kinds == [(True, None), (False, 1)]
    assert [(c, p, s) for c, p, s, *_ in ledger(clean_stack)] == [(1, 1, "issued"),
                                                                   (3, 2, "pending")]


def test_the_check_justifies_each_period_by_the_entries_of_its_own_period(
        world, clean_stack, client, sandbox, monkeypatch):
    world(months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2023, 1, 10), date(2023, 1, 11))
    run_day(clean_stack, client, monkeypatch, "2023", date(2023, 1, 11))
    entry(clean_stack, 2, 7001, date(2026, 5, 11), date(2026, 5, 12))
    run_day(clean_stack, client, monkeypatch, "2026", date(2026, 5, 12))
    # The first entry is deleted: only the first period's badge loses its justification; the
    # renewal's entry does not justify the earlier badge.
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        conn.execute("UPDATE ctims.realtime_certifications SET deleted_at = now()"
                     " WHERE certification_id = 1")
    monkeypatch.setenv(CLOCK_ENV, night(date(2026, 5, 14)).isoformat())
    day = date(2026, 5, 13)
    found = check_badges(
        RunInfo(run_id="night", day=day, window_start=night(day), window_end=night(day),
                dry_run=False, task_id="check_badges", run_type=RunType.SCHEDULED,
                latest_day=day),
        CheckOptions(grace_days=2, program_launch=PROGRAM_LAUNCH, digest_secret="k"),
        ctims=clean_stack.dsn("ctims", user="ctims_reader"), badging=clean_stack.dsn("badging"))
    assert (found.live_badges, found.unjustified) == (2, 1)
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT i.period, f.kind, f.detail FROM badging.badge_finding f"
                            " JOIN badging.issuance i USING (issuance_id)").fetchall() == [
            (1, "unjustified", "deleted")]


def test_the_sync_reads_each_badge_s_expiry_and_records_expired(world, clean_stack, client,
                                                                 sandbox, monkeypatch):
    from badging.lifecycle.sync import sync

    world(months=24)
    student(clean_stack, 7001, "ada@example.org")
    entry(clean_stack, 1, 7001, date(2026, 5, 11), date(2026, 5, 12))
    run_day(clean_stack, client, monkeypatch, "day-1", date(2026, 5, 12))
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        # A badge issued before the ledger kept expiries knows none until the sync reads it.
        conn.execute("UPDATE badging.issuance SET expires_at = NULL")
    sandbox.set_clock(datetime(2028, 5, 13, 5, tzinfo=UTC))
    run = RunInfo(run_id="sync", day=date(2028, 5, 12), window_start=night(date(2028, 5, 12)),
                  window_end=night(date(2028, 5, 13)), dry_run=False, task_id="sync_credly")
    assert sync(run, client, badging=clean_stack.dsn("badging")).changes == {"expired": 1}
    [(_, _, state, expires_at, _, _)] = ledger(clean_stack)
    assert (state, expires_at) == ("issued", end_of(date(2028, 5, 11)))
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert conn.execute("SELECT credly_state FROM badging.issuance").fetchone() == (
            "expired",)
        assert conn.execute("SELECT expired, gone FROM badging.acceptance").fetchone() == (1, 0)
