"""The outcome summary on real Postgres and the sandbox: its figures are the ledger's, counted
straight from badging.issuance here in Python, on a seeded history and after syncs that change
states (issue 32; docs/outcomes.md)."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import psycopg
import psycopg.sql
import pytest

from badging.console import act
from badging.console import outcomes as console_outcomes
from badging.core.constants import AGENCY_TZ
from badging.core.run import RunInfo
from badging.credly import CredlyClient
from badging.lifecycle.sync import sync
from badging.outcomes import calendar
from badging.outcomes.health import TemplateProblem
from badging.outcomes.keep import keep
from tests.integration.credly.badges import TEMPLATES, request

NOW = datetime.now(UTC)
# Issue times that cross the school year's edge in Chicago (not in UTC) and a month's, the
# rest spread over three school years; recent ones give whole days to accept of 0 to 6.
EDGES = [datetime(2025, 7, 1, 4, 30, tzinfo=UTC),    # 2025-06-30 23:30 Chicago: 2024-25
         datetime(2025, 7, 1, 5, 10, tzinfo=UTC),    # 2025-07-01 00:10 Chicago: 2025-26
         datetime(2024, 3, 1, 5, 30, tzinfo=UTC),    # 2024-02-29 23:30 Chicago (CST)
         datetime(2023, 12, 31, 23, 0, tzinfo=UTC)]  # 2023-12-31 17:00 Chicago


def _run(run_id: str) -> RunInfo:
    return RunInfo(run_id=run_id, day=NOW.date(), window_start=NOW, window_end=NOW,
                   dry_run=False, task_id="report")


def _client(sandbox) -> CredlyClient:
    return CredlyClient(sandbox.base_url, sandbox.token, sandbox.org_id, backoff_base=0.01,
                        backoff_cap=0.05)


def _keep(stack, run_id: str, **kwargs):
    return keep(_run(run_id), badging=stack.dsn("badging"),
                ctims=stack.dsn("ctims", user="ctims_reader"), **kwargs)


def _issued_at(n: int) -> datetime:
    if n < len(EDGES):
        return EDGES[n]
    if n % 5 == 0:
        return NOW - timedelta(days=n % 7, hours=1)
    return datetime(2023, 8, 1, 15, tzinfo=UTC) + timedelta(days=(n * 37) % 1000)


@pytest.fixture
def history(clean_stack, sandbox):
    """Badges in the ledger for entries of a seeded CTIMS, issued over three school years,
    each a badge in the sandbox; some revoked, some never issued. Returns their badge ids."""
    from tests.integration.badging.conftest import SEED

    clean_stack.seed(SEED)
    with psycopg.connect(clean_stack.dsn("ctims")) as conn:
        entries = conn.execute("""
            SELECT DISTINCT ON (student_id, upper(btrim(assessment_code))) certification_id,
                   student_id, upper(btrim(assessment_code)), btrim(site_code),
                   btrim(program_code)
            FROM ctims.realtime_certifications
            WHERE site_code ~ '^[0-9]{9}$' AND assessment_code IS NOT NULL
            ORDER BY student_id, upper(btrim(assessment_code)), certification_id
            LIMIT 160""").fetchall()
    sandbox.put_templates(TEMPLATES)
    client = _client(sandbox)
    ids = []
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        for n, (cid, student, code, site, program) in enumerate(entries):
            state = "issued"
            if n % 17 == 3:
                state = "pending"  # planned, not issued: no badge yet
            badge_id = None
            if state == "issued":
                badge_id = client.issue_badge(request(n + 1)).badge.id
                ids.append(badge_id)
            conn.execute(
                "INSERT INTO badging.issuance (student_id, assessment_code, certification_id,"
                " credly_template_id, earner_id, state, credly_badge_id, planned_run_id,"
                " issued_at, site_code, program_code)"
                " VALUES (%s, %s, %s, 't', %s, %s, %s, 'plan', %s, %s, %s)",
                (student, code, cid, f"earner-{n}", state, badge_id,
                 _issued_at(n) if badge_id else None, site, program if n % 11 else None))
        # The pipeline revoked a few itself (its revocation row says so).
        conn.execute("""
            WITH chosen AS (SELECT issuance_id, credly_badge_id FROM badging.issuance
                            WHERE state = 'issued' ORDER BY issuance_id LIMIT 3 OFFSET 20)
            , revoked AS (INSERT INTO badging.revocation (issuance_id, credly_badge_id, reason,
                          revocation_state, planned_run_id, run_id, revoked_at)
                          SELECT issuance_id, credly_badge_id, 'entry_removed', 'revoked', 'r',
                                 'r', now() FROM chosen)
            UPDATE badging.issuance i SET state = 'revoked', updated_at = now()
            FROM chosen c WHERE c.issuance_id = i.issuance_id""")
    return ids


def _outcome(state: str, credly_state: str | None) -> str:
    """What a badge became, decided here apart from the SQL under test."""
    if state == "revoked" or credly_state in ("revoked", "deleted"):
        return "revoked"
    return credly_state if credly_state in ("accepted", "rejected", "expired") else "pending"


def _ledger(stack) -> list[dict]:
    """Every badge of the ledger as Python sees it: the expectation."""
    with psycopg.connect(stack.dsn("badging")) as conn:
        rows = conn.execute("""
            SELECT issuance_id, state, credly_state, issued_at, credly_state_changed_at,
                   coalesce(site_code, ''), coalesce(program_code, ''), assessment_code
            FROM badging.issuance
            WHERE issued_at IS NOT NULL AND state IN ('issued', 'revoked')""").fetchall()
    badges = []
    for iid, state, credly, issued, changed, site, program, code in rows:
        outcome = _outcome(state, credly)
        local = issued.astimezone(AGENCY_TZ).date()
        days = None
        if outcome == "accepted":
            days = max(0, int((changed - issued).total_seconds() // 86400))
        badges.append({"issuance_id": iid, "year": calendar.school_year_of(issued),
                       "month": local.replace(day=1), "site": site, "program": program,
                       "assessment": code, "outcome": outcome, "days": days})
    return badges


def _expected_summary(badges: list[dict]) -> dict[tuple, tuple[int, tuple[int, ...]]]:
    counts: dict[tuple, list] = defaultdict(lambda: [0, [0] * len(calendar.BIN_COLUMNS)])
    for b in badges:
        key = (b["year"], b["month"], b["site"], b["program"], b["assessment"], b["outcome"])
        counts[key][0] += 1
        if b["days"] is not None:
            counts[key][1][calendar.BIN_COLUMNS.index(calendar.accept_bin(b["days"]))] += 1
    return {k: (n, tuple(bins)) for k, (n, bins) in counts.items()}


def _summary(stack) -> dict[tuple, tuple[int, tuple[int, ...]]]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        rows = conn.execute(psycopg.sql.SQL(
            "SELECT school_year, issued_month, site_code, program_code, assessment_code,"
            " credly_state, badges, {} FROM badging.outcome_summary").format(
                psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier,
                                               calendar.BIN_COLUMNS)))).fetchall()
    return {tuple(r[:6]): (r[6], tuple(r[7:])) for r in rows}


def assert_summary_is_the_ledger(stack) -> list[dict]:
    badges = _ledger(stack)
    assert _summary(stack) == _expected_summary(badges)
    return badges


def _programs_cip(stack) -> dict[str, str]:
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return dict(conn.execute(
            "SELECT btrim(program_code), cip_code FROM ctims.programs").fetchall())


def test_the_summary_counts_the_ledger_before_and_after_syncs(history, clean_stack, sandbox):
    dsn = clean_stack.dsn("badging")
    kept = _keep(clean_stack, "first")
    assert kept.badges_counted == len(history)
    assert kept.reference_copied
    badges = assert_summary_is_the_ledger(clean_stack)
    assert {b["year"] for b in badges} >= {2023, 2024, 2025}
    # The school year turns at midnight in Chicago, not in UTC: 23:30 on June 30th and
    # 00:10 on July 1st there are 04:30 and 05:10 UTC on July 1st.
    with psycopg.connect(dsn) as conn:
        edge_years = [r[0] for r in conn.execute(
            "SELECT b.school_year FROM badging.outcome_badge b JOIN badging.issuance i "
            "USING (issuance_id) WHERE i.issued_at = ANY(%s) ORDER BY i.issued_at",
            (EDGES[:2],))]
    assert edge_years == [2024, 2025]

    sync(_run("sync-1"), _client(sandbox), badging=dsn)
    sandbox.set_earners(accept_share=0.5, reject_share=0.15)
    sandbox.revoke_badge(history[1])
    sandbox.delete_badge(history[2])
    sandbox.set_badge_state(history[4], "expired")
    sync(_run("sync-2"), _client(sandbox), badging=dsn)
    kept = _keep(clean_stack, "second")
    assert kept.badges_counted == len(history)  # the first sync gave each its state
    badges = assert_summary_is_the_ledger(clean_stack)
    outcomes = Counter(b["outcome"] for b in badges)
    assert outcomes["accepted"]
    assert outcomes["rejected"]
    assert outcomes["expired"]
    assert outcomes["revoked"] >= 5
    # Nothing changed since: nothing is counted again.
    assert _keep(clean_stack, "again").badges_counted == 0
    # One more change: that badge alone (a live one: a final badge is never read again).
    with psycopg.connect(dsn) as conn:
        live = conn.execute("SELECT credly_badge_id FROM badging.issuance WHERE state = "
                            "'issued' AND credly_state IN ('pending', 'accepted') "
                            "LIMIT 1").fetchone()[0]
    sandbox.set_badge_state(live, "expired")
    sync(_run("sync-3"), _client(sandbox), badging=dsn)
    assert _keep(clean_stack, "after-one").badges_counted == 1
    badges = assert_summary_is_the_ledger(clean_stack)

    # A statement that sets no updated_at (the sync's fill_sites) is caught all the same.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE badging.issuance SET site_code = '999999999' "
                     "WHERE issuance_id = (SELECT min(issuance_id) FROM badging.issuance "
                     "                     WHERE issued_at IS NOT NULL)")
    _keep(clean_stack, "third")
    badges = assert_summary_is_the_ledger(clean_stack)
    assert any(b["site"] == "999999999" for b in badges)

    # What the console serves for a filter: the same figures, per cluster from CTIMS's CIP.
    cip = _programs_cip(clean_stack)
    accepted = [b for b in badges if b["outcome"] == "accepted"]
    year = Counter(b["year"] for b in accepted).most_common(1)[0][0]
    family = Counter(calendar.cluster(cip.get(b["program"])) for b in badges
                     if b["year"] == year and b["program"]).most_common(1)[0][0]
    with psycopg.connect(dsn) as conn:
        shown = console_outcomes.read(conn, console_outcomes.Filters(year=year), None)
        clustered = console_outcomes.read(
            conn, console_outcomes.Filters(year=year, cluster=family), None)
        everything = console_outcomes.read(conn, console_outcomes.Filters(), None)
    in_year = [b for b in badges if b["year"] == year]
    assert shown.totals.issued == len(in_year)
    assert dict(shown.totals.counts) == dict(Counter(b["outcome"] for b in in_year))
    assert everything.totals.issued == len(badges)
    assert sorted(everything.years, reverse=True) == everything.years
    assert set(everything.years) == {b["year"] for b in badges}
    in_family = [b for b in in_year if calendar.cluster(cip.get(b["program"])) == family]
    assert clustered.totals.issued == len(in_family) > 0
    by_site = {g.code: g.figures.issued for g in shown.groups["site"]}
    assert by_site == dict(Counter(b["site"] for b in in_year))
    by_month = {g.code: g.figures.issued for g in shown.groups["month"]}
    assert {m: n for m, n in by_month.items() if n} == dict(
        Counter(b["month"].strftime("%Y-%m") for b in in_year))
    assert list(by_month) == [m.strftime("%Y-%m") for m in calendar.months(year)]
    # The median: the lower median of whole days where it falls in a day's own bin.
    days = sorted(b["days"] for b in in_year if b["days"] is not None)
    median = shown.totals.median_days_to_accept
    if days and statistics.median_low(days) <= 7:
        assert median == statistics.median_low(days)
    assert (median is None) == (not days)


def test_who_must_act_and_the_csv_read_the_same_badges(history, clean_stack, sandbox):
    dsn = clean_stack.dsn("badging")
    sync(_run("sync"), _client(sandbox), badging=dsn)
    kept = _keep(clean_stack, "acted")
    assert kept.authors_read >= len(history)
    badges = _ledger(clean_stack)
    with psycopg.connect(dsn) as conn:
        issued = dict(conn.execute("SELECT issuance_id, issued_at FROM badging.issuance "
                                   "WHERE issued_at IS NOT NULL").fetchall())
        waits = act.by_site(conn, None, now=NOW)
        # A name a spreadsheet would run is written as text.
        conn.execute("UPDATE badging.ctims_site SET name = '=HYPERLINK(1)' "
                     "WHERE site_code = (SELECT min(site_code) FROM badging.outcome_badge "
                     "                   WHERE site_code <> '')")
        chunks = console_outcomes.csv_chunks(conn, console_outcomes.Filters(year=None), None,
                                             True)
        lines = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
        conn.rollback()
        contact = list(csv.reader(io.StringIO(b"".join(console_outcomes.csv_chunks(
            conn, console_outcomes.Filters(), ["000000000"], False)).decode())))
    old = Counter(b["site"] for b in badges if b["outcome"] == "pending"
                  and issued[b["issuance_id"]] < NOW - timedelta(days=30))
    assert {s: w.unaccepted for s, w in waits.items()} == dict(old)
    assert lines[0] == [*console_outcomes.CSV_COLUMNS, "student_id"]
    assert len(lines) - 1 == len(badges)
    assert "'=HYPERLINK(1)" in {line[6] for line in lines[1:]}
    # The operators' student ids are the ledger's; every row's codes and outcome are its own.
    with psycopg.connect(dsn) as conn:
        ledger = {str(r[0]): (str(r[1]), r[2], calendar.label(calendar.school_year_of(r[3])))
                  for r in conn.execute("SELECT certification_id, student_id, site_code, "
                                        "issued_at FROM badging.issuance "
                                        "WHERE issued_at IS NOT NULL")}
    for line in lines[1:]:
        assert (line[-1], line[5] or None, line[1]) == ledger[line[0]]
    assert contact == [list(console_outcomes.CSV_COLUMNS)]
    # Who entered each: CTIMS's own logins, copied by the report.
    with psycopg.connect(clean_stack.dsn("ctims")) as conn:
        logins = {r[0] for r in conn.execute(
            "SELECT DISTINCT btrim(entered_by) FROM ctims.realtime_certifications")}
    entered = {line[14] for line in lines[1:]}
    assert entered
    assert entered <= logins


def test_template_problems_are_new_once_and_the_first_judgement_is_the_baseline(
        history, clean_stack, sandbox):
    client = _client(sandbox)
    first = _keep(clean_stack, "baseline", templates=client.list_templates)
    assert first.new_findings == []
    assert first.templates_read
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        template, code = conn.execute(
            "SELECT credly_template_id, assessment_code FROM badging.badge_templates "
            "WHERE active ORDER BY 2 LIMIT 1").fetchone()
        already = set(conn.execute("SELECT problem, assessment_code "
                                   "FROM badging.template_finding").fetchall())
    sandbox.put_templates([{"id": template, "name": "x", "state": "archived",
                            "allow_duplicate_badges": True}])
    with psycopg.connect(clean_stack.dsn("ctims"), autocommit=True) as conn:
        vendor = conn.execute(
            "UPDATE ctims.approved_assessments SET vendor_issues_badge = true "
            "WHERE assessment_code = (SELECT min(assessment_code) "
            "  FROM ctims.approved_assessments WHERE NOT vendor_issues_badge) "
            "RETURNING upper(btrim(assessment_code))").fetchone()[0]
    second = _keep(clean_stack, "second", templates=client.list_templates)
    found = {(f.problem, f.assessment_code) for f in second.new_findings}
    assert found == {(TemplateProblem.ARCHIVED, code),
                     (TemplateProblem.ALLOWS_DUPLICATES, code),
                     (TemplateProblem.VENDOR_BADGES, vendor)} - already
    # Found again: not new. Credly unreadable: its problems are kept, not judged gone.
    assert _keep(clean_stack, "third", templates=client.list_templates).new_findings == []

    def broken():
        raise ConnectionError("down")

    later = _keep(clean_stack, "fourth", templates=broken)
    assert later.new_findings == []
    assert not later.templates_read
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        kept = set(conn.execute("SELECT problem, assessment_code "
                                "FROM badging.template_finding").fetchall())
        health = conn.execute("SELECT templates_read, templates_error FROM "
                              "badging.credly_health WHERE run_id = 'fourth'").fetchone()
    assert (str(TemplateProblem.ARCHIVED), code) in kept
    assert health == (False, "ConnectionError")


def test_held_entries_wait_until_a_later_decision(history, clean_stack):
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("""
            INSERT INTO badging.staged_certification (run_id, certification_id, site_code)
            VALUES ('held-run', 9001, '123456789'), ('held-run', 9002, '123456789')""")
        conn.execute("""
            INSERT INTO badging.audit_log (run_id, task_id, certification_id, event, reason)
            VALUES ('held-run', 'volume_gate', 9001, 'held', 'held_by_decision'),
                   ('held-run', 'volume_gate', 9002, 'held', 'held_by_decision')""")
    assert _keep(clean_stack, "held-run").held_open == 2
    with psycopg.connect(clean_stack.dsn("badging"), autocommit=True) as conn:
        conn.execute("INSERT INTO badging.audit_log (run_id, task_id, certification_id, event)"
                     " VALUES ('next', 'issue', 9001, 'issued')")
    assert _keep(clean_stack, "next").held_open == 1
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        assert act.by_site(conn, ["123456789"], NOW)["123456789"].held == 1
