"""The lookup's masking, its one-line answer and its links (badging/console/trail.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from badging.console.links import Links
from badging.console.trail import (
    AuditStep,
    Badge,
    Staged,
    _badge,
    _headline,
    action_for,
    mask_email,
    mask_name,
)

LINKS = Links.from_root_path("/airflow/badging", "/badging")
AT = datetime(2026, 5, 13, 6, tzinfo=UTC)


def test_names_and_emails_keep_one_letter_and_the_domain():
    assert mask_email("zoe.smith@example.org") == "z***@example.org"
    assert mask_email(" Zoe@Example.org ") == "Z***@Example.org"
    assert mask_email("no-at-sign") == "n***"
    assert mask_email("") is None
    assert mask_name("Zoe") == "Z***"
    assert mask_name("  ") is None


def test_links_follow_the_api_servers_sub_path_and_quote_run_ids():
    assert LINKS.airflow == "/airflow"
    assert LINKS.run("scheduled__2026-05-12T05:00:00+00:00") == (
        "/airflow/dags/credly_badge_issuance/runs/scheduled__2026-05-12T05%3A00%3A00%2B00%3A00")
    assert LINKS.task("r", "issue", 3) == "/airflow/dags/credly_badge_issuance/runs/r/tasks/" \
                                          "issue/mapped/3"
    assert LINKS.correction_report("a/b") == "/airflow/badging/runs/a%2Fb/correction-report"


def test_actions_are_the_correction_reports_lines():
    assert action_for("opted_out") == "Nothing: the student opted out of badges."
    assert action_for("email_present, email_length").startswith("Enter the student's email")
    assert action_for("something_new") == "Check the entry."


def _step(event: str, reason: str | None = None, **detail) -> AuditStep:
    return AuditStep(AT, "r", None, "validate", -1, 1, event, reason, action_for(reason),
                     detail, "", "")


def test_the_headline_says_issued_with_the_ledger_state_until_credly_state_is_recorded():
    badge = Badge({"state": "issued", "credly_badge_id": "b-1", "attempts": 1}, "issued",
                  False, {})
    headline, todo = _headline([], [], [badge])
    assert headline == "Badge issued (Credly badge b-1, Credly state issued, expires never)."
    assert todo is None
    accepted = Badge({"state": "issued", "credly_badge_id": "b-1"}, "accepted", True, {})
    assert "Credly state accepted" in _headline([], [], [accepted])[0]


def test_each_badge_shows_its_expiry_day_in_chicago_and_a_renewal_names_its_period():
    # 04:59:59Z on the 13th is the last second of 12 May in Chicago (CDT).
    renewal = _badge({"state": "issued", "credly_badge_id": "b-2", "period": 2,
                      "previous_issuance_id": 7, "expires_at": "2028-05-13T04:59:59+00:00"},
                     LINKS)
    assert renewal.expires == "2028-05-12"
    assert _headline([], [], [renewal])[0] == (
        "Badge issued (Credly badge b-2, Credly state issued, expires 2028-05-12, "
        "renewing period 1).")
    never = _badge({"state": "issued", "credly_badge_id": "b-1"}, LINKS)
    pending = _badge({"state": "pending"}, LINKS)
    assert (never.expires, pending.expires) == ("never", "")


def test_the_headline_names_the_checks_of_a_quarantine_and_what_to_do():
    step = _step("quarantined", None, expectations=["email_present"])
    step = AuditStep(**{**step.__dict__, "action": action_for("email_present")})
    headline, todo = _headline([], [step], [])
    assert headline == "Quarantined: the entry failed email_present."
    assert todo == "Enter the student's email address in CTIMS."


def test_the_headline_of_an_ineligible_entry_still_in_staging():
    staged = Staged("r", None, AT, "ineligible", "no_aligned_program",
                    action_for("no_aligned_program"), [], "A", "1", "P", None, False, None,
                    None, "")
    headline, todo = _headline([staged], [], [])
    assert headline == "Not eligible: no_aligned_program."
    assert todo.startswith("Check the student's enrollment")


def test_nothing_known_says_so():
    assert _headline([], [], [])[0].startswith("No run has seen this certification")


def test_a_credly_state_column_shows_once_the_ledger_has_it():
    row = {"issuance_id": 1, "state": "issued", "credly_badge_id": "b", "planned_run_id": "r",
           "student_id": 42, "earner_id": "e", "recipient_digest": "d"}
    before = _badge(row, LINKS)
    assert (before.credly_state, before.credly_state_recorded) == ("issued", False)
    assert not {"student_id", "earner_id", "recipient_digest"} & set(before.fields)
    after = _badge({**row, "credly_state": "accepted", "credly_state_at": AT}, LINKS)
    assert (after.credly_state, after.credly_state_recorded) == ("accepted", True)
    assert after.fields["credly_state_at"] == AT
