"""A seeded CTIMS and a run staged (and validated) from it, for the pipeline modules' tests."""

from __future__ import annotations

from datetime import date

import pytest

from badging.core.run import RunInfo, extract_window
from badging.pipeline import validate
from badging.pipeline.extract import extract
from devstack.seed import SeedParams

DAY = date(2026, 5, 12)
LOOKBACK_DAYS = 3
SEED = SeedParams(date_from=date(2026, 5, 1), date_to=date(2026, 5, 13), rows=400,
                  dirty_rate=0.08, seed=5)


def run_info(run_id: str, task_id: str = "test", lookback_days: int = LOOKBACK_DAYS) -> RunInfo:
    start, end = extract_window(DAY, lookback_days)
    return RunInfo(run_id=run_id, day=DAY, window_start=start, window_end=end, dry_run=False,
                   task_id=task_id)


def stage(stack, run: RunInfo) -> int:
    return extract(run, ctims=stack.dsn("ctims", user="ctims_reader"),
                   badging=stack.dsn("badging"))


@pytest.fixture(autouse=True)
def report_dir(tmp_path, monkeypatch):
    """Where validate writes Data Docs: the test's own folder, which the tests also give the
    report task (ReportLocation(tmp_path)), so the correction report's links resolve."""
    monkeypatch.setenv("BADGING_REPORT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def seeded(clean_stack):
    clean_stack.seed(SEED)
    return clean_stack


@pytest.fixture
def validated(seeded) -> RunInfo:
    """A run of DAY extracted and validated: its rows wait for the eligibility rules."""
    run = run_info("validated")
    stage(seeded, run)
    validate.validate(run, max_failed_share=1.0, validation_prefix="test",
                      badging=seeded.dsn("badging"))
    return run
