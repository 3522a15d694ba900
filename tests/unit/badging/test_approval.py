"""Which gate decisions need no person, and the one line a stopped run fails with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from badging.approval import Check, failure_message, unattended_decision
from badging.constants import GATE_PASSES, Event, Gate

ASKS = Check(ask=True, summary="544 rows is above the band up to 150 rows", body="")
QUIET = Check(ask=False, summary="40 rows within the band", body="")


@pytest.mark.parametrize(("check", "accepted", "backfill", "decision"), [
    (QUIET, False, False, Event.APPROVAL_NOT_NEEDED),
    (QUIET, False, True, Event.APPROVAL_NOT_NEEDED),
    (ASKS, True, False, Event.ACCEPTED_BY_PARAM),
    (ASKS, True, True, Event.ACCEPTED_BY_PARAM),
    (ASKS, False, True, Event.REFUSED_UNATTENDED),
    (ASKS, False, False, None),
])
def test_only_a_manual_or_scheduled_run_that_asks_waits(check, accepted, backfill, decision):
    assert unattended_decision(check, accepted=accepted, backfill=backfill) == decision


def test_the_refusal_and_the_passes():
    assert Event.REFUSED_UNATTENDED not in GATE_PASSES
    assert {Event.APPROVED, Event.ACCEPTED_BY_PARAM, Event.APPROVAL_NOT_NEEDED} == GATE_PASSES


def test_failure_messages_say_who_and_when_in_one_line():
    at = datetime(2026, 8, 11, 14, 5, tzinfo=UTC)
    rejected = failure_message(Gate.VOLUME, Event.REJECTED, ASKS.summary, "ops", at)
    assert rejected == ("volume gate: 544 rows is above the band up to 150 rows — rejected by "
                        "ops at 2026-08-11 14:05 UTC. Nothing was issued.")
    assert "rejected by default" in failure_message(Gate.VOLUME, Event.APPROVAL_TIMED_OUT,
                                                    ASKS.summary, None, at)
    assert "accept param" in failure_message(Gate.VOLUME, Event.REFUSED_UNATTENDED,
                                             ASKS.summary, None, at)
