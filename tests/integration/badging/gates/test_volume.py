"""The volume gate's SQL on real Postgres: counts, duplicates of a replay, sites, history, and
its memory (badging.volume_judgement): what a run judges, holds and releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import psycopg
import pytest

from badging.core.constants import AGENCY_TZ
from badging.core.errors import ConfigurationError
from badging.core.run import RunInfo, extract_window
from badging.gates import volume
from bench.volume_asks import daily_series
from tests.fixtures.ctims import replay_day
from tests.integration.badging.conftest import SEED, stage


def day_ids(stack, first: date, last: date | None = None) -> list[int]:
    """The Real-Time rows changed from `first` to `last` (or on `first`), from CTIMS."""
    start = datetime(first.year, first.month, first.day, tzinfo=AGENCY_TZ)
    end_day = (last or first) + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=AGENCY_TZ)
    with psycopg.connect(stack.dsn("ctims")) as conn:
        return [row[0] for row in conn.execute(
            "SELECT certification_id FROM ctims.realtime_certifications "
            "WHERE updated_at >= %s AND updated_at < %s ORDER BY 1", (start, end))]


def test_the_sql_counts_as_the_bench_does(seeded):
    # The bench measures the ask rate in memory with the same rules as the SQL.
    counts, duplicates = daily_series(SEED)
    reader = seeded.dsn("ctims", user="ctims_reader")
    for day in (SEED.date_from + timedelta(days=n) for n in range(1, 13)):
        judged = volume.measure(day, day_ids(seeded, day), ctims=reader).own
        assert judged.volume.rows == counts.get(day, 0), day
        assert judged.volume.duplicates == duplicates.get(day, 0), day
        assert sum(s.rows for s in judged.volume.sites) == judged.volume.rows
    last = volume.measure(SEED.date_to, day_ids(seeded, SEED.date_to), ctims=reader).own
    assert last.band.recent is not None
    shares = [s.usual_share for s in last.volume.sites if s.usual_share is not None]
    assert shares
    assert all(0 < share <= 1 for share in shares)


def test_a_replayed_day_is_all_duplicates_and_asks(seeded):
    day = date(2026, 5, 12)
    reader = seeded.dsn("ctims", user="ctims_reader")
    before = volume.measure(day, day_ids(seeded, day), ctims=reader).own
    assert not before.ask
    replayed = replay_day(seeded, day)
    assert replayed == before.volume.rows
    after = volume.measure(day, day_ids(seeded, day), ctims=reader).own
    assert after.volume.rows == 2 * replayed
    assert after.volume.duplicates == before.volume.duplicates + replayed
    assert after.ask
    assert "repeat certifications already entered under another id" in after.summary()


def test_refused_rows_are_left_out_of_the_band_s_history(seeded):
    day = date(2026, 5, 12)
    reader = seeded.dsn("ctims", user="ctims_reader")
    history_day = day - timedelta(days=1)
    refused = day_ids(seeded, history_day)
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        stamps = dict(conn.execute("SELECT certification_id, updated_at FROM "
                                   "ctims.realtime_certifications WHERE certification_id = "
                                   "ANY(%s)", (refused,)).fetchall())
    whole = volume.measure(day, [], ctims=reader).own
    without = volume.measure(day, [], ctims=reader,
                             refused=(refused, [stamps[i] for i in refused])).own
    assert whole.band.recent is not None
    # The refused day counts as empty among the recent weekdays.
    alike = len([d for d in (day - timedelta(days=n) for n in range(1, 29))
                 if d.weekday() < 5 and d >= SEED.date_from])
    assert without.band.recent == pytest.approx(whole.band.recent - len(refused) / alike)


def test_a_history_load_counts_its_whole_range(seeded):
    reader = seeded.dsn("ctims", user="ctims_reader")
    first, last = SEED.date_from, SEED.date_to
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    whole = volume.range_volume(first, day_ids(seeded, first, last), ctims=reader)
    assert whole.rows == sum(volume.measure(day, day_ids(seeded, day), ctims=reader).rows
                             for day in days) > 0
    assert sum(s.rows for s in whole.sites) == whole.rows
    view = volume.range_markdown(first, last, whole)
    assert f"**{whole.rows} rows** to judge over **{len(days)} days**" in view
    assert "always asks" in view


# --- The gate's memory: take() -----------------------------------------------------------------

DAY = date(2026, 5, 12)


def run_of(run_id: str, day: date, lookback: int = 3, **kw) -> RunInfo:
    start, end = extract_window(day, lookback)
    return RunInfo(run_id=run_id, day=day, window_start=start, window_end=end, dry_run=False,
                   task_id="volume_gate.check", **kw)


def decide(stack, run: RunInfo, event: str) -> None:
    with psycopg.connect(stack.dsn("badging")) as conn:
        conn.execute("INSERT INTO badging.approval (run_id, gate, logical_date, event, "
                     "decided_at, summary) VALUES (%s, 'volume', %s, %s, now(), 'test')",
                     (run.run_id, run.day, event))


def staged_decisions(stack, run: RunInfo) -> dict[str | None, int]:
    with psycopg.connect(stack.dsn("badging")) as conn:
        return dict(conn.execute("SELECT decision, count(*) FROM badging.staged_certification "
                                 "WHERE run_id = %s GROUP BY 1", (run.run_id,)).fetchall())


def test_a_rejected_day_is_held_in_later_runs_until_released_and_judged_once(seeded):
    badging = seeded.dsn("badging")
    rejected = run_of("manual__rejected", DAY, lookback=0)
    stage(seeded, rejected)
    first = volume.take(rejected, badging=badging)
    assert len(first.ids) == len(day_ids(seeded, DAY)) > 0
    assert first.earlier == 0
    decide(seeded, rejected, "rejected")

    # The next night, with the default lookback: the rejected day's rows are held, only the
    # next day's are judged.
    nxt = run_of("scheduled__next", DAY + timedelta(days=1))
    stage(seeded, nxt)
    taken = volume.take(nxt, badging=badging)
    assert taken.held == len(first.ids)
    assert set(taken.ids).isdisjoint(first.ids)
    assert staged_decisions(seeded, nxt)["held"] == len(first.ids)
    # The earlier lookback days, never judged by a gate, count with the run that first sees
    # them.
    assert taken.earlier == len(day_ids(seeded, DAY - timedelta(days=2),
                                        DAY - timedelta(days=1)))
    # A re-run of the check changes nothing and audits nothing twice.
    again = volume.take(nxt, badging=badging)
    assert (again.ids, again.held) == (taken.ids, taken.held)
    with psycopg.connect(badging) as conn:
        audited = conn.execute("SELECT count(*), count(DISTINCT certification_id), "
                               "min(detail->>'decided_in'), min(detail->>'decision') "
                               "FROM badging.audit_log WHERE run_id = %s AND event = 'held' "
                               "AND reason = 'held_by_decision'", (nxt.run_id,)).fetchone()
    assert audited == (len(first.ids), len(first.ids), rejected.run_id, "rejected")
    decide(seeded, nxt, "approval_not_needed")

    # The release: who and when, once; the releasing run holds nothing and judges nothing
    # again (the operator's release is the judgement).
    release = run_of("manual__release", DAY, lookback=0)
    stage(seeded, release)
    released = volume.take(release, released_by="ops", badging=badging)
    assert released.released == [(rejected.run_id, "rejected", len(first.ids))]
    assert (released.ids, released.held) == ([], 0)
    assert released.judged_before == len(first.ids)
    assert volume.take(release, released_by="ops", badging=badging).released == []
    with psycopg.connect(badging) as conn:
        [(detail,)] = conn.execute("SELECT detail FROM badging.audit_log WHERE event = "
                                   "'volume_released'").fetchall()
    assert detail["released_by"] == "ops"
    assert detail["released_run_id"] == rejected.run_id
    assert detail["rows"] == len(first.ids)
    # Once released, no later run holds them.
    later = run_of("scheduled__later", DAY + timedelta(days=2))
    stage(seeded, later)
    assert volume.take(later, badging=badging).held == 0


def test_rows_still_waiting_for_an_answer_are_held_and_a_corrected_row_is_judged_anew(seeded):
    badging = seeded.dsn("badging")
    waiting = run_of("manual__waiting", DAY, lookback=0)
    stage(seeded, waiting)
    asked = volume.take(waiting, badging=badging)
    nxt = run_of("scheduled__next", DAY + timedelta(days=1))
    corrected = asked.ids[0]
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        conn.execute("UPDATE ctims.realtime_certifications SET updated_at = %s "
                     "WHERE certification_id = %s",
                     (datetime(2026, 5, 13, 9, tzinfo=AGENCY_TZ), corrected))
    stage(seeded, nxt)
    taken = volume.take(nxt, badging=badging)
    assert taken.held == len(asked.ids) - 1
    assert corrected in taken.ids


def test_a_release_the_run_cannot_stage_is_refused_before_anything_changes(seeded):
    badging = seeded.dsn("badging")
    rejected = run_of("manual__rejected", DAY, lookback=3)
    stage(seeded, rejected)
    volume.take(rejected, badging=badging)
    decide(seeded, rejected, "rejected")
    short = run_of("manual__release", DAY, lookback=0)
    stage(seeded, short)
    with pytest.raises(ConfigurationError, match="lookback_days 3 or more"):
        volume.take(short, released_by="ops", badging=badging)
    with psycopg.connect(badging) as conn:
        assert conn.execute("SELECT count(*) FROM badging.volume_judgement "
                            "WHERE released_at IS NOT NULL").fetchone() == (0,)


def test_a_run_judges_each_day_of_its_rows_against_that_day_s_band(seeded):
    reader = seeded.dsn("ctims", user="ctims_reader")
    first = DAY - timedelta(days=3)
    ids = day_ids(seeded, first, DAY)
    judged = volume.measure(DAY, ids, ctims=reader)
    assert [j.band.day for j in judged.days] == [first + timedelta(days=n) for n in range(4)]
    for one in judged.days:
        alone = volume.measure(one.band.day, day_ids(seeded, one.band.day), ctims=reader).own
        # The sites' usual shares are of the year before the run's day, not each day's.
        assert (one.volume.rows, one.volume.duplicates, one.band) == (
            alone.volume.rows, alone.volume.duplicates, alone.band)
    assert judged.rows == len(ids)
    assert judged.earlier == len(day_ids(seeded, first, DAY - timedelta(days=1)))


def test_a_history_load_s_first_day_sets_what_is_earlier(seeded):
    badging = seeded.dsn("badging")
    loaded = replace(run_of("manual__range", DAY, lookback=0), first_day=DAY - timedelta(days=2))
    loaded = replace(loaded, window_start=extract_window(DAY, 0, DAY - timedelta(days=2))[0])
    stage(seeded, loaded)
    taken = volume.take(loaded, badging=badging)
    assert taken.earlier == 0
    assert len(taken.ids) == len(day_ids(seeded, DAY - timedelta(days=2), DAY))


def test_the_band_s_days_are_agency_days_across_midnights_and_clock_changes(seeded):
    """daily_counts.sql counts per UTC hour, then per agency day: the same as counting each
    row's own local day, at midnights and on the days the clocks change (rolled back)."""
    from badging.core import db
    from badging.core.constants import AGENCY_TIMEZONE

    stamps = [datetime(2025, 11, 1, 23, 59, 59, 999_999, tzinfo=AGENCY_TZ),
              datetime(2025, 11, 2, 0, 0, tzinfo=AGENCY_TZ),
              # 01:30 twice: before and after the clocks go back.
              datetime(2025, 11, 2, 1, 30, tzinfo=AGENCY_TZ),
              datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=AGENCY_TZ),
              datetime(2025, 11, 2, 23, 59, 59, tzinfo=AGENCY_TZ),
              datetime(2025, 11, 3, 0, 0, tzinfo=AGENCY_TZ),
              datetime(2026, 3, 7, 23, 30, tzinfo=AGENCY_TZ),
              datetime(2026, 3, 8, 1, 59, tzinfo=AGENCY_TZ),
              datetime(2026, 3, 8, 3, 0, tzinfo=AGENCY_TZ),
              datetime(2026, 3, 8, 23, 59, 59, tzinfo=AGENCY_TZ),
              datetime(2026, 3, 9, 0, 0, 1, tzinfo=AGENCY_TZ)]
    with psycopg.connect(seeded.dsn("ctims")) as conn:
        conn.execute("""
            INSERT INTO ctims.realtime_certifications (certification_id, student_id,
                assessment_code, site_code, program_code, test_date, entered_by, entered_at,
                updated_at)
            SELECT 900000000 + n, r.student_id, r.assessment_code, r.site_code, r.program_code,
                   r.test_date, r.entered_by, t, t
            FROM (SELECT * FROM ctims.realtime_certifications LIMIT 1) r,
                 unnest(%s::timestamptz[]) WITH ORDINALITY AS s (t, n)""", (stamps,))
        counted = dict(db.execute(conn, "gates/volume/daily_counts.sql", {
            "agency_timezone": AGENCY_TIMEZONE,
            "history_from": datetime(2025, 10, 30, tzinfo=AGENCY_TZ),
            "day_start": datetime(2026, 3, 11, tzinfo=AGENCY_TZ),
            "refused_ids": [], "refused_at": []}).fetchall())
        conn.rollback()
    expected: dict[date, int] = {}
    for stamp in stamps:
        local = stamp.astimezone(AGENCY_TZ).date()
        expected[local] = expected.get(local, 0) + 1
    assert counted == expected
