"""The revocation gate's judgement (gates/revocation.revocation_judgement): when it asks,
what it records, what its form shows."""

from __future__ import annotations

from datetime import date

from badging.core.constants import REVOCATIONS_WITHOUT_APPROVAL, Event
from badging.gates.approval import unattended_decision
from badging.gates.revocation import revocation_judgement

DAY = date(2026, 8, 11)


def judged(rows, limit=REVOCATIONS_WITHOUT_APPROVAL):
    return revocation_judgement(rows, limit=limit, day=DAY)


def test_revocations_an_operator_held_are_asked_again_whatever_the_threshold():
    check = judged([("OK0000001", "deleted", 3, 1)], limit=50)
    assert check.ask
    assert check.must_ask
    # Not even accept_revocations passes them: only an answer does.
    assert unattended_decision(check, accepted=True, backfill=False) is None
    assert "**1 of them were held by an earlier run's operator**" in check.body
    assert check.detail["held_before"] == 1


def test_at_the_default_threshold_a_few_new_revocations_need_nobody():
    check = judged([("OK0000001", "deleted", 10, 0)])
    assert not check.ask
    assert unattended_decision(check, accepted=False, backfill=False) == Event.APPROVAL_NOT_NEEDED
    assert not check.attributed
    assert judged([("OK0000001", "deleted", 11, 0)]).ask


def test_a_raised_threshold_is_the_param_s_decision_recorded_with_who_triggered_the_run():
    raised = judged([("OK0000001", "deleted", 11, 0)], limit=REVOCATIONS_WITHOUT_APPROVAL + 5)
    assert not raised.ask
    assert raised.attributed
    assert unattended_decision(raised, accepted=False, backfill=False) == Event.ACCEPTED_BY_PARAM
    # Raised but not needed: no one decided, yet the run's trigger is named (attributed).
    quiet = judged([("OK0000001", "deleted", 2, 0)], limit=REVOCATIONS_WITHOUT_APPROVAL + 5)
    assert unattended_decision(quiet, accepted=False, backfill=False) == Event.APPROVAL_NOT_NEEDED
    assert quiet.attributed
    # A lowered threshold needs no name.
    assert not judged([("OK0000001", "deleted", 2, 0)], limit=1).attributed


def test_the_revocation_form_names_the_day_and_count_and_escapes_ctims_values():
    check = judged([("0012|**x**\n| 9 |", "deleted", 7, 0), ("OK0000002", "no_aligned_program",
                                                             5, 0)])
    assert check.subject == "Revoke 12 badges (run of 2026-08-11)?"
    rows = [line for line in check.body.splitlines() if line.startswith("| ")
            and not line.startswith("| site ")]
    assert rows == ["| 0012\\|\\*\\*x\\*\\* \\| 9 \\| | deleted | 7 | 0 |",
                    "| OK0000002 | no\\_aligned\\_program | 5 | 0 |"]
