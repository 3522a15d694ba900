"""How often the volume gate would ask on the seeded multi-year history (docs/gates.md).

`python -m bench.volume_asks` generates the seed's realistic seasonal history in memory (no
database: `devstack.seed.generate`), counts the Real-Time rows changed per Chicago day and,
per day, the rows repeating an earlier live certification under another id (the same rule
as include/sql/volume/day_profile.sql), then judges every day of the measured years with
`badging.gates.volume` exactly as the gate does. It also replays each measured day (its rows again
under new ids: twice the count, every copy a duplicate) and reports how many replays would
have passed without asking.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from badging.core.constants import AGENCY_TZ
from badging.gates import band as volume_band
from devstack.seed import SeedParams, generate

# About the design's full history (150,000 rows over the program's four years).
DEFAULT = SeedParams(date_from=date(2022, 12, 1), date_to=date(2026, 11, 30), rows=150_000,
                     dirty_rate=0.05, seed=2026)
MEASURED_FROM = date(2023, 1, 1)


@dataclass(frozen=True)
class Measured:
    days: int
    asks: dict[str, list[date]]
    by_year: dict[int, int]
    replays: int
    replays_missed: list[date]
    total_rows: int

    def as_json(self) -> dict:
        return {"days": self.days, "total_rows": self.total_rows,
                "asks_by_year": self.by_year,
                "asks": {k: [d.isoformat() for d in v] for k, v in self.asks.items()},
                "replays": self.replays,
                "replays_missed": [d.isoformat() for d in self.replays_missed]}


def daily_series(params: SeedParams) -> tuple[dict[date, int], dict[date, int]]:
    """Rows changed per Chicago day, and per day those repeating an earlier live row."""
    rows = generate(params).certifications
    counts: Counter[date] = Counter()
    duplicates: Counter[date] = Counter()
    first_seen: dict[tuple, tuple] = {}
    for row in sorted(rows, key=lambda r: (r.entered_at, r.certification_id)):
        key = (row.student_id, (row.assessment_code or "").strip().upper(), row.test_date)
        day = row.updated_at.astimezone(AGENCY_TZ).date()
        counts[day] += 1
        if key in first_seen:
            duplicates[day] += 1
        elif row.deleted_at is None:
            first_seen[key] = (row.entered_at, row.certification_id)
    return dict(counts), dict(duplicates)


def measure(params: SeedParams = DEFAULT, measured_from: date = MEASURED_FROM) -> Measured:
    counts, duplicates = daily_series(params)
    start = min(counts)
    asks: dict[str, list[date]] = defaultdict(list)
    by_year: Counter[int] = Counter()
    replays, missed = 0, []
    day = measured_from
    days = 0
    while day <= params.date_to:
        days += 1
        band = volume_band.band(day, counts, history_start=start)
        n, dup = counts.get(day, 0), duplicates.get(day, 0)
        judged = volume_band.judge(volume_band.DayVolume(rows=n, duplicates=dup), band)
        if judged.ask:
            by_year[day.year] += 1
            kinds = []
            if n > band.maximum:
                kinds.append("volume")
            if "repeat" in judged.summary():
                kinds.append("duplicates")
            asks["+".join(kinds)].append(day)
        if n:
            replays += 1
            replay = volume_band.judge(volume_band.DayVolume(rows=2 * n, duplicates=dup + n), band)
            if not replay.ask:
                missed.append(day)
        day += timedelta(days=1)
    return Measured(days=days, asks=dict(asks), by_year=dict(sorted(by_year.items())),
                    replays=replays, replays_missed=missed, total_rows=sum(counts.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure()
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
    print(f"{result.total_rows} seeded rows, {result.days} days judged from {MEASURED_FROM}")
    for year, n in result.by_year.items():
        print(f"  {year}: asks on {n} days")
    for kind, days in result.asks.items():
        print(f"  {kind}: {', '.join(d.isoformat() for d in days)}")
    print(f"replayed days: {result.replays}, passed without asking: "
          f"{len(result.replays_missed)} {[d.isoformat() for d in result.replays_missed][:20]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
