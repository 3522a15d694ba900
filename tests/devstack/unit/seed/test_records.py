"""Seed parameters: impossible combinations are refused."""
from __future__ import annotations

from datetime import date

import pytest

from devstack.seed import SeedParams


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"date_from": date(2024, 2, 1), "date_to": date(2024, 1, 1)}, "after"),
    ({"date_from": date(1999, 1, 1), "date_to": date(2024, 1, 1)}, "2001"),
    ({"rows": -1}, "negative"),
    ({"dirty_rate": 1.5}, "between"),
    ({"correction_rate": -0.1}, "correction_rate"),
    ({"correction_rate": 1.01}, "correction_rate"),
    ({"correction_rate": float("nan")}, "correction_rate"),
])
def test_params_are_checked(kwargs, message):
    values = {"date_from": date(2024, 1, 1), "date_to": date(2024, 1, 31), "rows": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        SeedParams(**values)
