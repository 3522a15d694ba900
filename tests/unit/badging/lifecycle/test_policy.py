"""Who may change a badge after issuance, and what is a correction: the lifecycle's judgements
that need no database (docs/lifecycle.md)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from badging.core import clock
from badging.core.constants import AGENCY_TZ, Reason, RunType
from badging.core.recipients import recipient_problem
from badging.core.run import RunInfo, latest_complete_day
from badging.lifecycle.corrections import RecipientNow
from badging.lifecycle.revocation import may_change

DAY = date(2026, 4, 11)


def run(run_type: RunType, *, day: date = DAY, latest: date = DAY, dry_run: bool = False,
        first_day: date | None = None) -> RunInfo:
    moment = datetime(2026, 4, 11, tzinfo=AGENCY_TZ)
    return RunInfo(run_id="r", day=day, window_start=moment, window_end=moment,
                   dry_run=dry_run, run_type=run_type, latest_day=latest, first_day=first_day)


@pytest.mark.parametrize(("kind", "day", "dry_run", "expected"), [
    (RunType.SCHEDULED, DAY, False, True),
    (RunType.MANUAL, DAY, False, True),                      # the latest day, by hand
    (RunType.MANUAL, date(2026, 4, 6), False, False),         # a past day: never a night
    (RunType.BACKFILL, DAY, False, False),
    (RunType.SCHEDULED, DAY, True, False),                    # a dry run changes nothing
    (RunType.ASSET_TRIGGERED, DAY, False, False),
])
def test_only_nightly_runs_change_badges(kind, day, dry_run, expected):
    assert run(kind, day=day, dry_run=dry_run).is_nightly is expected
    assert may_change(run(kind, day=day, dry_run=dry_run)) is expected


def test_a_history_load_is_never_a_night():
    assert not run(RunType.MANUAL, first_day=date(2026, 1, 1)).is_nightly


def test_the_latest_day_follows_the_clock_in_chicago(monkeypatch):
    # 04:30 UTC on the 12th is 23:30 on the 11th in Chicago (CDT): the latest day is the 10th.
    monkeypatch.setenv(clock.CLOCK_ENV, "2026-04-12T04:30:00+00:00")
    assert latest_complete_day() == date(2026, 4, 10)
    monkeypatch.setenv(clock.CLOCK_ENV, "2026-04-12T05:30:00+00:00")
    assert latest_complete_day() == date(2026, 4, 11)
    monkeypatch.setenv(clock.CLOCK_ENV, "2026-04-12T06:30:00")
    with pytest.raises(ValueError, match="offset"):
        clock.now()


@pytest.mark.parametrize(("email", "first", "last", "problem"), [
    ("a.student@example.org", "Ann", "Lee", None),
    (None, "Ann", "Lee", Reason.EMAIL_BLANK),                 # no student row on the replica
    ("   ", "Ann", "Lee", Reason.EMAIL_BLANK),
    ("a.student@example", "Ann", "Lee", Reason.EMAIL_MALFORMED),
    ("a student@example.org", "Ann", "Lee", Reason.EMAIL_MALFORMED),
    ("a@b@example.org", "Ann", "Lee", Reason.EMAIL_MALFORMED),
    ("a.student@example.org", "", "Lee", Reason.NAME_BLANK),
    ("a.student@example.org", "Ann", None, Reason.NAME_BLANK),
])
def test_a_blank_or_malformed_value_is_unknown_not_a_correction(email, first, last, problem):
    assert recipient_problem(email, first, last) == problem
    now = RecipientNow.of("secret", email, first, last)
    assert now.problem == problem
    # Unknown: no digests, so nothing to compare with the badge's, and no target to plan.
    assert (now.target is None) is (problem is not None)


def test_a_usable_recipient_is_digested_the_way_the_issuer_digests_it():
    from badging.core.recipients import recipient_digests

    now = RecipientNow.of("secret", " A.Student@Example.org ", "Ann", "Lee")
    assert (now.recipient_digest, now.name_digest) == recipient_digests(
        "secret", "a.student@example.org", "Ann", "Lee")
    assert now.target == f"{now.recipient_digest}:{now.name_digest}"
