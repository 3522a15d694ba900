"""The templates' health and the token's age, judged from the report's copies and Credly's
template list (outcomes/health.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from badging.outcomes.health import (
    ACTIONS,
    CREDLY_PROBLEMS,
    LEDGER_PROBLEMS,
    TemplateProblem,
    TokenAge,
    judge,
    token_facts,
)

TODAY = date(2026, 3, 9)


def _row(code: str, **overrides) -> dict:
    return {"assessment_code": code, "in_ctims": True, "approved_from": date(2024, 1, 1),
            "approved_to": None, "vendor_issues_badge": False, "vendor_badge_since": None,
            "credly_template_id": f"t-{code}", "active": True} | overrides


CREDLY = [{"id": "t-OK", "state": "active", "allow_duplicate_badges": False},
          {"id": "t-OLD", "state": "archived"},
          {"id": "t-DUP", "state": "active", "allow_duplicate_badges": True}]


def _found(rows, listed=CREDLY) -> set[tuple[str, str]]:
    return {(str(f.problem), f.assessment_code) for f in judge(rows, listed, TODAY)}


def test_each_problem_is_found_and_a_healthy_template_is_not():
    rows = [_row("OK"), _row("OLD"), _row("DUP"), _row("GONE"),
            _row("NONE", credly_template_id=None, active=False),
            _row("OFF", active=False),
            _row("VEND", vendor_issues_badge=True,
                 vendor_badge_since=datetime(2026, 3, 1, tzinfo=UTC))]
    assert _found(rows) == {("archived", "OLD"), ("allows_duplicates", "DUP"),
                            ("deleted", "GONE"), ("no_template", "NONE"),
                            ("no_template", "OFF"), ("vendor_badges", "VEND"),
                            ("deleted", "VEND")}


def test_what_is_not_approved_today_or_badged_by_its_vendor_needs_no_template():
    rows = [_row("LATER", credly_template_id=None, approved_from=date(2026, 7, 1)),
            _row("ENDED", credly_template_id=None, approved_to=date(2025, 6, 30)),
            _row("VENDOR", credly_template_id=None, vendor_issues_badge=True),
            _row("LEDGER", credly_template_id=None, in_ctims=False)]
    assert _found(rows) == set()


def test_without_credlys_list_only_the_ledgers_problems_are_judged():
    rows = [_row("OLD"), _row("NONE", credly_template_id=None, active=False)]
    assert _found(rows, listed=None) == {("no_template", "NONE")}


def test_every_problem_says_what_to_do_and_is_judged_from_one_source():
    assert set(ACTIONS) == set(TemplateProblem)
    assert set(CREDLY_PROBLEMS) | set(LEDGER_PROBLEMS) == set(TemplateProblem)
    assert not set(CREDLY_PROBLEMS) & set(LEDGER_PROBLEMS)


def test_the_tokens_age_against_the_rotation_period():
    assert token_facts({"token_created_on": "2025-03-09", "token_rotation_days": "365"}) == \
        (date(2025, 3, 9), 365)
    assert token_facts({"token_created_on": "soon", "token_rotation_days": "x"}) == (None, None)
    assert token_facts({}) == (None, None)
    overdue = TokenAge(date(2025, 3, 1), 365, TODAY)
    assert overdue.days_left == -8
    assert "overdue by 8 days" in overdue.sentence()
    assert "due in 357 days" in TokenAge(date(2026, 3, 1), 365, TODAY).sentence()
    assert "no rotation period" in TokenAge(date(2026, 3, 1), None, TODAY).sentence()
    assert "does not record" in TokenAge(None, 90, TODAY).sentence()
