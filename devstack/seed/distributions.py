"""When and how often real entry happens: seasons, weekdays, lags, work hours, mixes."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import accumulate

_MONTH_WEIGHT = {1: 0.8, 2: 0.9, 3: 1.0, 4: 1.7, 5: 2.0, 6: 1.1,
                 7: 0.25, 8: 0.45, 9: 0.7, 10: 0.9, 11: 0.95, 12: 1.5}
_WEEKDAY_WEIGHT = (1.0, 1.05, 1.05, 1.0, 0.85, 0.07, 0.03)


class Weighted:
    """A fixed weighted choice, drawn with one random() (random.choices redoes the sums)."""

    def __init__(self, values: Sequence, weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(accumulate(weights))

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# Days between testing and entry: weekly uploads put most within a week.
ENTRY_LAG = Weighted([timedelta(days=n) for n in range(11)],
                       (6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1))
WORK_HOUR = Weighted(range(7, 18), (2, 6, 9, 10, 8, 5, 8, 10, 9, 5, 2))
# Further rows a student collects after the first, if any.
MORE_ROWS = Weighted(range(5), (45, 25, 15, 10, 5))
UNALIGNED_WAY = Weighted(("not_covered", "late_enrollment", "unapproved_program",
                            "unaccredited_site", "not_enrolled"), (4, 2, 1, 1, 2))
UPLOAD_LOGIN = "cttc.results.upload"


def day_weight(day: date) -> float:
    weight = _MONTH_WEIGHT[day.month] * _WEEKDAY_WEIGHT[day.weekday()]
    if day.month == 6 and day.day >= 15:
        weight *= 2.2  # entries rushed in before the fiscal year closes on June 30
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
        weight *= 0.15  # winter break
    return weight


def outcome_of(category: str) -> str:
    return "eligible" if category == "eligible" else f"ineligible:{category}"


def largest_remainder(total: int, shares: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Split `total` by `shares` into whole counts that add up exactly."""
    exact = [(name, total * share) for name, share in shares]
    counts = {name: int(value) for name, value in exact}
    leftover = total - sum(counts.values())
    by_fraction = sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)
    for name, _ in by_fraction[:leftover]:
        counts[name] += 1
    return counts


