"""The operators' alerts: the red task and its reason, a link, no personal data; late runs."""

from __future__ import annotations

import asyncio

from badging.notify.alerts import (
    alert_late_run,
    late_run_view,
    one_line,
    red_run_view,
    run_url,
    template_health_view,
)
from badging.outcomes.health import Finding, TemplateProblem

BASE = "https://airflow.example"
RUN_ID = "scheduled__2026-05-12T05:00:00+00:00"


def test_the_red_run_alert_names_the_first_failure_with_its_reason_and_links_the_run():
    view = red_run_view(day="2026-05-12", run_id=RUN_ID, base=BASE, failures=[
        ("validate", -1, "AirflowFailException: 31% of rows failed validation"),
        ("issue", 2, "CredlyUnavailable: 3 badges still retryable")])
    assert view.subject == "[credly_badge_issuance] red run for 2026-05-12: validate failed"
    html = view.html()
    assert "validate: AirflowFailException: 31% of rows failed validation" in html
    assert "issue[2]: CredlyUnavailable" in html
    assert ('href="https://airflow.example/dags/credly_badge_issuance/runs/'
            'scheduled__2026-05-12T05%3A00%3A00%2B00%3A00"') in html


def test_a_red_run_without_a_recorded_reason_still_alerts():
    view = red_run_view(day="2026-05-12", run_id=RUN_ID, base=BASE, failures=[])
    assert "a task failed" in view.subject
    assert "killed worker" in view.html()


def test_a_reason_is_one_bounded_line_without_addresses():
    error = ValueError("bad row for jane.doe@students.example.org\nDETAIL: Key (email)=(x@y.z)")
    assert one_line(error) == "ValueError: bad row for <address>"
    assert len(one_line(RuntimeError("x" * 1000))) == 300
    assert one_line(KeyError()) == "KeyError"
    assert one_line(None) == "no exception recorded"


def test_the_late_alert_is_for_the_day_processed():
    view = late_run_view(day="2026-05-12", run_id=RUN_ID, base=BASE)
    assert "2026-05-12" in view.subject
    assert "06:00" in view.subject
    assert run_url(BASE, "credly_badge_issuance", RUN_ID) in view.html()


def test_a_backfill_or_manual_run_past_its_deadline_pages_nobody():
    # Returns before it looks up any connection: no Airflow, no SMTP needed.
    for run_type in ("backfill", "manual", "asset_triggered"):
        context = {"dag_run": {"run_type": run_type, "dag_run_id": "x",
                               "logical_date": "2023-01-01T06:00:00+00:00"}}
        assert asyncio.run(alert_late_run(context)) is False


def test_the_template_health_alert_lists_each_new_problem_and_what_to_do():
    findings = [Finding(TemplateProblem.ARCHIVED, "WELD10001", "t-1", "archived in Credly"),
                Finding(TemplateProblem.NO_TEMPLATE, "CTTC123", None, "approved since x")]
    view = template_health_view(day="2026-05-12", run_id=RUN_ID, findings=findings, base=BASE)
    assert view.subject == "[credly_badge_issuance] template health: 2 new problems (2026-05-12)"
    html = view.html()
    assert "WELD10001: archived (archived in Credly, template t-1). Restore the template" in html
    assert "CTTC123: no_template (approved since x). Create the badge template" in html
    assert "/badging/templates" in html
