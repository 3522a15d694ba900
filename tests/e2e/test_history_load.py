"""A history load through the real DAG (`airflow dags test`): one run over a range of days
adopts the badges Credly already holds and issues only the rest (docs/history-load.md)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import psycopg

from devstack.seed import SeedParams, run_seed
from tests.e2e.outcomes import expected_outcomes, ledger, runs_for, terminal_events

FIRST, LAST = date(2026, 4, 20), date(2026, 5, 14)
SEED = SeedParams(date_from=FIRST, date_to=LAST, rows=900, dirty_rate=0.08, seed=11)


def test_a_range_run_adopts_what_credly_holds_and_issues_the_rest(clean_stack, run_dag,
                                                                   sandbox):
    run_seed(SEED, clean_stack.dsn("ctims"), clean_stack.dsn("badging"))
    clean_stack.sync_templates()
    expected = expected_outcomes(clean_stack, [LAST], lookback=(LAST - FIRST).days)
    eligible = sorted(cert for cert, (event, _) in expected.items() if event == "issued")
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        templates = dict(conn.execute(
            "SELECT assessment_code, credly_template_id FROM badging.badge_templates"))
    with psycopg.connect(clean_stack.dsn("ctims")) as conn:
        recipients = {row[0]: row[1:] for row in conn.execute("""
            SELECT c.certification_id, upper(btrim(c.assessment_code)), lower(btrim(s.email)),
                   (SELECT count(DISTINCT o.student_id) FROM ctims.students o
                    WHERE lower(btrim(o.email)) = lower(btrim(s.email))) > 1
            FROM ctims.realtime_certifications c JOIN ctims.students s USING (student_id)
            WHERE c.certification_id = ANY(%s)""", (eligible,))}
    by_hand = [cert for cert in eligible[::2] if not recipients[cert][2]]
    sandbox.import_badges([
        {"recipient_email": recipients[cert][1],
         "badge_template_id": templates[recipients[cert][0]], "issued_to_first_name": "Ada",
         "issued_to_last_name": "Probe", "issued_at": "2026-04-30T12:00:00Z"} for cert in by_hand])

    result = run_dag(FIRST, date_to=LAST.isoformat(), lookback_days=0, adopt_existing=True,
                     accept_volume=True)
    assert result.succeeded, result.output[-4000:]

    [run_id] = runs_for(clean_stack, LAST)
    events = {cert: e for cert, e in terminal_events(clean_stack, run_id).items()}
    assert all(len(e) == 1 for e in events.values()), "a row has more than one terminal event"
    want = {cert: (("adopted", None) if cert in by_hand else outcome)
            for cert, outcome in expected.items()}
    assert {cert: e[0] for cert, e in events.items()} == want
    assert Counter(e[0][0] for e in events.values())["adopted"] == len(by_hand) > 20

    # Credly holds each badge once: what was there, and what the run issued.
    assert ledger(clean_stack) == {"issued": len(eligible)}
    with psycopg.connect(clean_stack.dsn("badging")) as conn:
        issued = {row[0] for row in conn.execute(
            "SELECT credly_badge_id FROM badging.issuance WHERE state = 'issued'")}
        adopted, summary_adopted = conn.execute(
            "SELECT (SELECT count(*) FROM badging.issuance WHERE adopted_at IS NOT NULL),"
            " (SELECT adopted FROM badging.run_summary WHERE run_id = %s)", (run_id,)).fetchone()
    assert adopted == summary_adopted == len(by_hand)
    badges = sandbox.badges()
    assert {b["id"] for b in badges} == issued
    keys = Counter((b["badge_template_id"], b["recipient_email"]) for b in badges)
    assert max(keys.values()) == 1
