"""The volume gate's SQL on real Postgres: day counts, duplicates of a replay, sites, history."""

from __future__ import annotations

from datetime import date, timedelta

from badging import volume
from bench.volume_asks import daily_series
from tests.fixtures.ctims import replay_day
from tests.integration.badging.conftest import SEED


def test_the_sql_counts_as_the_bench_does(seeded):
    # The bench measures the ask rate in memory with the same rules as the SQL.
    counts, duplicates = daily_series(SEED)
    reader = seeded.dsn("ctims", user="ctims_reader")
    for day in (SEED.date_from + timedelta(days=n) for n in range(1, 13)):
        judged = volume.measure(day, ctims=reader)
        assert judged.volume.rows == counts.get(day, 0), day
        assert judged.volume.duplicates == duplicates.get(day, 0), day
        assert sum(s.rows for s in judged.volume.sites) == judged.volume.rows
    last = volume.measure(SEED.date_to, ctims=reader)
    assert last.band.recent is not None
    shares = [s.usual_share for s in last.volume.sites if s.usual_share is not None]
    assert shares
    assert all(0 < share <= 1 for share in shares)


def test_a_replayed_day_is_all_duplicates_and_asks(seeded):
    day = date(2026, 5, 12)
    reader = seeded.dsn("ctims", user="ctims_reader")
    before = volume.measure(day, ctims=reader)
    assert not before.ask
    replayed = replay_day(seeded, day)
    assert replayed == before.volume.rows
    after = volume.measure(day, ctims=reader)
    assert after.volume.rows == 2 * replayed
    assert after.volume.duplicates == before.volume.duplicates + replayed
    assert after.ask
    assert "repeat certifications already entered under another id" in after.summary()


def test_a_history_load_counts_its_whole_range_and_always_asks(seeded):
    reader = seeded.dsn("ctims", user="ctims_reader")
    first, last = SEED.date_from, SEED.date_to
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    whole = volume.range_volume(first, last, ctims=reader)
    assert whole.rows == sum(volume.measure(day, ctims=reader).volume.rows for day in days) > 0
    assert sum(s.rows for s in whole.sites) == whole.rows
    view = volume.range_markdown(first, last, whole)
    assert f"**{whole.rows} rows** changed over **{len(days)} days**" in view
    assert "a range always asks" in view
