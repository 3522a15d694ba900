"""The lifecycle's judgements that need no database: who may revoke, what looks collapsed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from badging.lifecycle import COLLAPSE_SHARE, collapse, may_revoke
from badging.run import RunInfo


def run(dry_run: bool = False) -> RunInfo:
    moment = datetime(2026, 4, 11)
    return RunInfo(run_id="r", day=date(2026, 4, 11), window_start=moment, window_end=moment,
                   dry_run=dry_run)


@pytest.mark.parametrize(("dry_run", "run_type", "expected"), [
    (False, "scheduled", True), (False, "manual", True), (False, "backfill", False),
    (True, "manual", False), (True, "scheduled", False)])
def test_only_real_non_backfill_runs_revoke(dry_run, run_type, expected):
    assert may_revoke(run(dry_run), run_type) is expected


def test_a_drop_below_the_share_of_the_previous_total_is_a_collapse():
    assert collapse(1000, None) is None  # the first check has nothing to compare with
    assert collapse(int(1000 * COLLAPSE_SHARE), 1000) is None
    assert collapse(int(1000 * COLLAPSE_SHARE) - 1, 1000) == (
        "CTIMS holds 899 Real-Time rows, 1000 at the previous check: a collapsed source, "
        "not corrections; nothing revoked")
    assert collapse(1200, 1000) is None
