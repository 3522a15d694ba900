"""Fault-matrix fixtures: a seeded period of CTIMS rows, and the matrix table at the end."""

from __future__ import annotations

from datetime import date

import pytest

from devstack.seed import SeedParams
from tests.e2e.corrections import issued  # noqa: F401 (a fixture, by name)
from tests.e2e.outcomes import seed
from tests.faults import harness

# The day every case processes, looking back over the whole seeded month.
DAY = date(2026, 5, 12)
LOOKBACK_DAYS = 29
_MONTH = {"date_from": date(2026, 4, 13), "date_to": DAY, "dirty_rate": 0.05, "seed": 7}
# About 2,080 eligible badges (the "at least 2,000"), and about 300 for `make test`.
FULL = SeedParams(rows=3100, **_MONTH)
FAST = SeedParams(rows=450, **_MONTH)


@pytest.fixture
def seed_period(clean_stack, airflow_ready):
    """Seed a period into the clean stack; returns the badges the truth says must exist."""

    def seeded(params: SeedParams) -> set[tuple[int, str]]:
        seed(clean_stack, params)
        return harness.eligible_keys(clean_stack)

    return seeded


def pytest_terminal_summary(terminalreporter) -> None:
    if harness.MATRIX:
        terminalreporter.write_sep("=", "fault matrix")
        terminalreporter.write_line(harness.matrix_table())
