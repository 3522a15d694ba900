"""The volume gate's judgement: the rows a run would issue that no gate judged before,
against a calendar-aware band, and whether an operator must decide on them.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from badging.core import audit, db
from badging.core.constants import AGENCY_TIMEZONE, AGENCY_TZ, GATE_PASSES
from badging.core.errors import ConfigurationError
from badging.core.markdown import escape
from badging.core.run import RunInfo

log = logging.getLogger(__name__)

# The band (README "Volume gate"). Entry is seasonal (May peak, June fiscal-year rush,
# summer and winter lulls) and weekly (almost nothing at weekends), so a day is compared
# with days like it:
# - recent: the mean of the same kind of day (weekday or weekend) over the RECENT_DAYS
#   before it;
# - seasonal: for each of up to YEARS_BACK earlier years whose history covers it, the upper
#   quartile of the same kind of day within SEASON_HALF_WIDTH days of the same date (364
#   days back per year, so weekdays line up; the upper quartile, so that the first days of a
#   peak are expected as its middle is), scaled by this year's level against that year's
#   (the RECENT_DAYS totals, the ratio clamped to LEVEL_CLAMP); the median over years.
# The expected count is the larger of the two: a peak already under way (recent) or one the
# calendar foresees (seasonal) are both normal. Above FACTOR times it the run asks; days
# under FLOOR rows never ask (three times a trickle is still a trickle). A low count never
# asks: holidays and summer give legitimately tiny or empty days.
RECENT_DAYS = 28
YEARS_BACK = 3
SEASON_HALF_WIDTH = 14
YEAR = 364
LEVEL_CLAMP = (0.5, 2.0)
FACTOR = 3.0
FLOOR = 150

# A replayed or duplicated feed: rows whose (student, assessment, test date) was already
# entered under another certification id. Normal re-entry stays in the low percents; a
# replay doubles the day. Asks above this share once MIN_DUPLICATES such rows exist.
DUPLICATE_SHARE_MAX = 0.25
MIN_DUPLICATES = 1

# A site's share of the day is flagged in the operator's view when it is this many times
# its usual share (or new) and carries at least SITE_MIN_ROWS rows.
SITE_SHARE_FACTOR = 3.0
SITE_MIN_ROWS = 20
# The operator's view lists at most this many sites (the largest first).
SITE_ROWS_SHOWN = 12


def _weekend(day: date) -> bool:
    return day.weekday() >= 5


def _alike(history: Mapping[date, int], day: date, start: date, end: date) -> list[int]:
    """Counts of the days in [start, end] of the same kind (weekday/weekend) as `day`."""
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [history.get(d, 0) for d in days if _weekend(d) == _weekend(day)]


def _mean(counts: list[int]) -> float | None:
    return sum(counts) / len(counts) if counts else None


def _upper_quartile(counts: list[int]) -> float | None:
    if len(counts) < 2:
        return _mean(counts)
    return statistics.quantiles(counts, n=4, method="inclusive")[2]


@dataclass(frozen=True)
class Band:
    """The expected volume of one day and how it was computed (counts only)."""

    day: date
    expected: float
    recent: float | None
    seasonal: float | None
    years: int
    maximum: int
    minimum: int

    def describe(self) -> str:
        """One line: the band and where it comes from."""
        parts = [f"recent {self.recent:.0f}" if self.recent is not None else "no recent history"]
        if self.seasonal is not None:
            parts.append(f"same weeks of {self.years} earlier year{'s' if self.years > 1 else ''} "
                         f"{self.seasonal:.0f}")
        kind = "weekend" if _weekend(self.day) else "weekday"
        return (f"band up to {self.maximum} rows ({FACTOR:g}x the expected {self.expected:.0f} "
                f"per {kind}: {', '.join(parts)}; never below {FLOOR})")


def band(day: date, history: Mapping[date, int], *, history_start: date | None = None) -> Band:
    """The band `day`'s count is judged against.

    Args:
        day: the day judged.
        history: rows per earlier day (a day missing from it had none).
        history_start: the first day the feed has data; days before it are not history.
            The earliest day of `history` when None.

    Returns:
        The Band. Pure: no clock, no database.
    """
    earlier = [d for d in history if d < day]
    start = history_start or (min(earlier) if earlier else day)
    recent_from = max(start, day - timedelta(days=RECENT_DAYS))
    recent = (_mean(_alike(history, day, recent_from, day - timedelta(days=1)))
              if recent_from < day else None)
    seasonal_by_year = []
    for years in range(1, YEARS_BACK + 1):
        centre = day - timedelta(days=YEAR * years)
        if centre - timedelta(days=max(SEASON_HALF_WIDTH, RECENT_DAYS)) < start:
            break
        then = _upper_quartile(_alike(history, day, centre - timedelta(days=SEASON_HALF_WIDTH),
                                      centre + timedelta(days=SEASON_HALF_WIDTH)))
        level_now = sum(history.get(day - timedelta(days=n), 0) for n in range(1, RECENT_DAYS + 1))
        level_then = sum(history.get(centre - timedelta(days=n), 0)
                         for n in range(1, RECENT_DAYS + 1))
        ratio = level_now / level_then if level_then else 1.0
        ratio = min(max(ratio, LEVEL_CLAMP[0]), LEVEL_CLAMP[1])
        seasonal_by_year.append((then or 0.0) * ratio)
    seasonal = statistics.median(seasonal_by_year) if seasonal_by_year else None
    expected = max(recent or 0.0, seasonal or 0.0)
    return Band(day=day, expected=expected, recent=recent, seasonal=seasonal,
                years=len(seasonal_by_year),
                maximum=max(FLOOR, math.ceil(FACTOR * expected)),
                minimum=math.floor(expected / FACTOR))


@dataclass(frozen=True)
class SiteVolume:
    site_code: str
    rows: int
    usual_share: float | None


@dataclass(frozen=True)
class DayVolume:
    """One day's rows a gate judges, their duplicates and their sites: counts and site codes
    only."""

    rows: int
    duplicates: int = 0
    sites: tuple[SiteVolume, ...] = ()

    @property
    def duplicate_share(self) -> float:
        return self.duplicates / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class Judgement:
    """Whether one day's volume needs an operator, and everything they need to decide."""

    volume: DayVolume
    band: Band
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ask(self) -> bool:
        return bool(self.reasons)

    def summary(self) -> str:
        """One line for logs, exceptions and the audit log."""
        if not self.reasons:
            return (f"{self.volume.rows} rows within the {self.band.describe()}; "
                    f"{self.volume.duplicate_share:.0%} already-seen certifications")
        return "; ".join(self.reasons)

    def as_xcom(self) -> dict[str, Any]:
        return {"rows": self.volume.rows, "duplicates": self.volume.duplicates,
                "duplicate_share": round(self.volume.duplicate_share, 4),
                "expected": round(self.band.expected, 1), "maximum": self.band.maximum,
                "ask": self.ask, "summary": self.summary()}

    def markdown(self) -> str:
        """The day's part of the approval form: counts and (escaped) site codes only."""
        v, b = self.volume, self.band
        lines = [
            f"**{v.rows} rows** changed on {b.day.isoformat()}; the band is up to "
            f"**{b.maximum}**.", "",
            f"Why this asks: {'; '.join(self.reasons) or 'it does not'}.", "",
            "| measure | value |", "|---|---|",
            f"| rows of the day | {v.rows} |",
            f"| expected ({'weekend' if _weekend(b.day) else 'weekday'}) | {b.expected:.0f} |",
            f"| recent mean ({RECENT_DAYS} days, same kind of day) | "
            f"{'—' if b.recent is None else f'{b.recent:.0f}'} |",
            f"| same weeks of earlier years (level-adjusted median, {b.years} years) | "
            f"{'—' if b.seasonal is None else f'{b.seasonal:.0f}'} |",
            f"| band | {b.maximum} = max({FLOOR}, {FACTOR:g} × expected) |",
            f"| already-seen certifications under a new id | {v.duplicates} "
            f"({v.duplicate_share:.0%}; asks above {DUPLICATE_SHARE_MAX:.0%}) |",
            "", "Rows per site against the site's usual share (last 365 days):", "",
            "| site | rows | share today | usual share |", "|---|---|---|---|",
        ]
        for site in sorted(v.sites, key=lambda s: -s.rows)[:SITE_ROWS_SHOWN]:
            today = site.rows / v.rows if v.rows else 0.0
            usual = "new" if site.usual_share is None else f"{site.usual_share:.1%}"
            flag = " ⚠" if _unusual(site, v.rows) else ""
            lines.append(f"| {escape(site.site_code)}{flag} | {site.rows} | {today:.1%} | "
                         f"{usual} |")
        if len(v.sites) > SITE_ROWS_SHOWN:
            lines.append(f"| {len(v.sites) - SITE_ROWS_SHOWN} more sites | | | |")
        return "\n".join(lines)


@dataclass(frozen=True)
class RunJudgement:
    """A run's judgement: each day its judged rows changed on, against that day's band (the
    run's own day always among them), and what earlier decisions cover.

    `judged_before`: staged rows an earlier gate let through (or an operator released);
    `held`: staged rows an earlier decision holds. Neither is judged again.
    """

    day: date
    days: tuple[Judgement, ...]
    judged_before: int = 0
    held: int = 0

    @property
    def own(self) -> Judgement:
        """The run's own day."""
        return next(j for j in self.days if j.band.day == self.day)

    @property
    def rows(self) -> int:
        return sum(j.volume.rows for j in self.days)

    @property
    def earlier(self) -> int:
        """Rows of days before the run's: late rows, or the lookback of a run that stopped
        before its gate."""
        return sum(j.volume.rows for j in self.days if j.band.day < self.day)

    @property
    def ask(self) -> bool:
        return any(j.ask for j in self.days)

    def reasons(self) -> list[str]:
        return [reason if j.band.day == self.day else f"{j.band.day}: {reason}"
                for j in self.days for reason in j.reasons]

    def summary(self) -> str:
        """One line for logs, exceptions and the audit log."""
        if self.ask:
            return "; ".join(self.reasons())
        earlier = (f"; {self.earlier} rows of earlier days within their bands"
                   if self.earlier else "")
        return self.own.summary() + earlier

    def subject(self) -> str:
        """The approval form's headline: the day and the count."""
        return f"Volume of {self.day.isoformat()}: {self.rows:,} rows — real?"

    def as_xcom(self) -> dict[str, Any]:
        return self.own.as_xcom() | {
            "rows": self.rows, "earlier": self.earlier,
            "duplicates": sum(j.volume.duplicates for j in self.days),
            "judged_before": self.judged_before, "held": self.held, "ask": self.ask,
            "summary": self.summary(),
            "days": [{"day": j.band.day.isoformat(), "rows": j.volume.rows,
                      "duplicates": j.volume.duplicates, "maximum": j.band.maximum,
                      "ask": j.ask} for j in self.days]}

    def markdown(self) -> str:
        """The operator's view in the approval form: counts and (escaped) site codes only."""
        lines = [
            f"**{self.rows} rows** to judge for {self.day.isoformat()}: "
            f"{self.rows - self.earlier} changed on the day, {self.earlier} on earlier days "
            "that no gate judged before (late rows, or the lookback of a run that stopped "
            "before its gate); each day against its own band.", "",
            f"Why this asks: {'; '.join(self.reasons()) or 'it does not'}.", "",
            f"Not judged again: {self.judged_before} rows an earlier gate let through, "
            f"{self.held} rows an earlier decision holds (rejected, unanswered or refused: "
            "they stay held whatever the answer here, until released).", ""]
        if len(self.days) > 1:
            lines += ["| day | rows | band | already-seen | asks |", "|---|---|---|---|---|"]
            lines += [f"| {j.band.day.isoformat()} | {j.volume.rows} | {j.band.maximum} | "
                      f"{j.volume.duplicates} | {'yes' if j.ask else 'no'} |"
                      for j in self.days]
            lines.append("")
        lines += [j.markdown() + "\n" for j in self.days if j.ask or j.band.day == self.day]
        lines.append("A replayed or duplicated extract shows as many already-seen "
                     "certifications. **Approve** if this volume is real: the day proceeds. "
                     "**Reject** (or no answer in time) ends the run red; nothing is issued, "
                     "and these rows stay held in every later run until an operator releases "
                     "the day (a manual run with `release_rejected_volume`).")
        return "\n".join(lines)


def _unusual(site: SiteVolume, total: int) -> bool:
    if site.rows < SITE_MIN_ROWS or not total:
        return False
    return site.usual_share is None or site.rows / total > SITE_SHARE_FACTOR * site.usual_share


def judge(volume: DayVolume, day_band: Band) -> Judgement:
    """Ask when the count is above the band or the duplicate share says replay.

    Returns:
        The Judgement; its reasons are empty when the day needs no one.
    """
    reasons = []
    if volume.rows > day_band.maximum:
        reasons.append(f"{volume.rows} rows is above the {day_band.describe()}")
    if volume.duplicates >= MIN_DUPLICATES and volume.duplicate_share > DUPLICATE_SHARE_MAX:
        reasons.append(f"{volume.duplicates} of {volume.rows} rows "
                       f"({volume.duplicate_share:.0%}) repeat certifications already entered "
                       f"under another id (a replayed feed?)")
    return Judgement(volume=volume, band=day_band, reasons=tuple(reasons))


# --- What the gate judges: the run's staged rows no earlier gate judged ----------------------
# badging.volume_judgement (migration 012) holds, per version of a row (certification id,
# updated_at), the run whose volume gate judged it; that run's decision (badging.approval)
# binds the row in every later run (docs/gates.md, "The volume gate's memory").


@dataclass(frozen=True)
class Judged:
    """The run's staged rows as its volume gate takes them; ids stay out of XCom and logs.

    `ids`: the rows this run's gate judges (claimed by it: no earlier gate judged them);
    `earlier` of them changed before the run's first day. `held`: rows an earlier decision
    holds (decided `held` here); `judged_before`: rows an earlier gate let through (or an
    operator released). `released`: (run id, its decision, rows) this run released.
    """

    ids: list[int]
    earlier: int = 0
    judged_before: int = 0
    held: int = 0
    released: list[tuple[str, str, int]] = field(default_factory=list)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), AGENCY_TZ)


def take(run: RunInfo, *, released_by: str | None = None,
         badging: str = db.BADGING_CONN_ID) -> Judged:
    """Release (when `released_by` is set), hold and claim the run's staged rows, in one
    transaction: what an earlier refusal covers is decided `held` (audited with the
    decision that holds it), what no gate judged yet becomes this run's to judge.

    Raises:
        ConfigurationError: a release whose rows this run's window does not stage.
    """
    first_day = run.first_day or run.day
    params = audit.run_params(run) | {
        "passes": sorted(str(e) for e in GATE_PASSES), "first_day": first_day,
        "day": run.day, "first_day_start": _day_start(first_day)}
    with db.connect(badging) as conn:
        released: list[tuple[str, str, int]] = []
        if released_by:
            released = _release(conn, run, params | {"released_by": released_by,
                                                     "released_at": datetime.now(UTC)})
        db.execute(conn, "gates/volume/unhold.sql", params)
        db.execute(conn, "gates/volume/hold.sql", params)
        db.execute(conn, "gates/volume/claim.sql", params)
        rows = db.execute(conn, "gates/volume/judged_rows.sql", params).fetchall()
        judged_before, held = db.execute(conn, "gates/volume/covered_counts.sql", params).fetchone()
    return Judged(ids=[row[0] for row in rows], earlier=sum(1 for row in rows if row[1]),
                  judged_before=judged_before, held=held, released=released)


def _release(conn, run: RunInfo, params: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Release what refused (or unanswered) volume decisions of the run's days hold."""
    count, earliest = db.execute(conn, "gates/volume/releasable.sql", params).fetchone()
    if count and earliest < run.window_start:
        since = earliest.astimezone(AGENCY_TZ).date()
        raise ConfigurationError(
            f"release_rejected_volume: {count} held rows changed from {since}, before this "
            f"run's window: trigger it with lookback_days "
            f"{((run.first_day or run.day) - since).days} or more so that it stages them")
    released = [tuple(row) for row in db.execute(conn, "gates/volume/release.sql", params)]
    for run_id, decision, rows in released:
        log.info("volume gate: %d rows held by %s (%s) released by %s", rows, run_id,
                 decision, params["released_by"])
    return released


def refused_before(first: date, day: date, *, badging: str = db.BADGING_CONN_ID
                   ) -> tuple[list[int], list[datetime]]:
    """The row versions, changed in the bands' history of `first` … `day`, that a volume
    decision did not let through (and nobody released): left out of the bands' history."""
    with db.connect(badging) as conn:
        rows = db.execute(conn, "gates/volume/refused_rows.sql", {
            "history_from": _history_from(first), "day_start": _day_start(day),
            "passes": sorted(str(e) for e in GATE_PASSES)}).fetchall()
    return [row[0] for row in rows], [row[1] for row in rows]


def _history_from(day: date) -> datetime:
    return _day_start(day - timedelta(days=YEAR * YEARS_BACK
                                      + max(SEASON_HALF_WIDTH, RECENT_DAYS) + 1))


def measure(day: date, certification_ids: list[int], *, ctims: str,
            refused: tuple[list[int], list[datetime]] = ([], [])) -> RunJudgement:
    """Judge these Real-Time rows from CTIMS, each day they changed on against that day's
    band (the daily counts before it, without the `refused` versions): their duplicates and
    sites. `day`, the run's, is judged even with no rows.

    Args:
        day: the run's day; rows of later days are judged with it.
        certification_ids: the rows judged.
        ctims: the source's connection id or DSN (read only).
        refused: (ids, updated_at) of row versions a refusal covers (refused_before).
    """
    with db.connect(ctims, read_only=True) as conn:
        volumes = _profile(conn, certification_ids, _day_start(day))
        volumes.setdefault(day, DayVolume(rows=0))
        first = min(volumes)
        history = dict(db.execute(conn, "gates/volume/daily_counts.sql", {
            "agency_timezone": AGENCY_TIMEZONE, "history_from": _history_from(first),
            "day_start": _day_start(max(day, max(volumes))), "refused_ids": refused[0],
            "refused_at": refused[1]}).fetchall())
        (history_start,) = db.execute(conn, "gates/volume/history_start.sql",
                                      {"agency_timezone": AGENCY_TIMEZONE}).fetchone()
    days = tuple(judge(volumes[d], band(d, history, history_start=history_start))
                 for d in sorted(volumes))
    return RunJudgement(day=day, days=days)


def _profile(conn, certification_ids: list[int], usual_until: datetime) -> dict[date, DayVolume]:
    """These Real-Time rows per day they changed on: how many, their duplicates, per site
    (usual shares of the year before `usual_until`)."""
    by_day: dict[date, list[tuple[str, int, int, float | None]]] = {}
    for day, code, rows, duplicates, share in db.execute(conn, "gates/volume/day_profile.sql", {
            "certification_ids": certification_ids, "usual_until": usual_until,
            "agency_timezone": AGENCY_TIMEZONE}):
        by_day.setdefault(day, []).append((code, rows, duplicates, share))
    return {day: DayVolume(rows=sum(r for _, r, _, _ in sites),
                           duplicates=sum(d for _, _, d, _ in sites),
                           sites=tuple(SiteVolume(code, r, share) for code, r, _, share in sites))
            for day, sites in by_day.items()}


def range_volume(first: date, certification_ids: list[int], *, ctims: str) -> DayVolume:
    """These Real-Time rows of a history load starting on `first`, per site."""
    with db.connect(ctims, read_only=True) as conn:
        days = _profile(conn, certification_ids, _day_start(first)).values()
    sites: dict[str, list[int]] = {}
    shares: dict[str, float | None] = {}
    for volume in days:
        for site in volume.sites:
            sites.setdefault(site.site_code, []).append(site.rows)
            shares[site.site_code] = site.usual_share
    return DayVolume(rows=sum(v.rows for v in days), duplicates=sum(v.duplicates for v in days),
                     sites=tuple(SiteVolume(code, sum(rows), shares[code])
                                 for code, rows in sites.items()))


def range_markdown(first: date, last: date, volume: DayVolume, *, judged_before: int = 0,
                   held: int = 0) -> str:
    """The operator's view of a history load: the band judges single days, so a person (or
    `accept_volume`) confirms the range. Counts and (escaped) site codes only."""
    days = (last - first).days + 1
    lines = [f"**{volume.rows} rows** to judge over **{days} days**, {first.isoformat()} to "
             f"{last.isoformat()}: a history load (docs/history-load.md). The volume band "
             "judges single days, so a range with rows no gate judged before always asks.", "",
             f"Not judged again: {judged_before} rows an earlier gate let through, {held} rows "
             "an earlier decision holds.", "",
             f"Rows repeating a certification already entered under another id: "
             f"{volume.duplicates} ({volume.duplicate_share:.0%}).", "",
             "| site | rows | share |", "|---|---|---|"]
    for site in sorted(volume.sites, key=lambda s: -s.rows)[:SITE_ROWS_SHOWN]:
        share = site.rows / volume.rows if volume.rows else 0.0
        lines.append(f"| {escape(site.site_code)} | {site.rows} | {share:.1%} |")
    if len(volume.sites) > SITE_ROWS_SHOWN:
        lines.append(f"| {len(volume.sites) - SITE_ROWS_SHOWN} more sites | | |")
    lines += ["", "**Approve** to load the range; **Reject** ends the run red, nothing issued "
              "(its rows stay held until released)."]
    return "\n".join(lines)


def _released_lines(released: list[tuple[str, str, int]], by: str | None) -> list[str]:
    return [f"Released by {escape(by)} in this run: {rows} rows held by run "
            f"{escape(run_id)} ({decision})." for run_id, decision, rows in released]


def _releasing_user(context: dict[str, Any], run: RunInfo) -> str | None:
    """Who releases the held rows of the run's days (param release_rejected_volume), or None.

    Raises:
        ConfigurationError: a release with nobody to record, or in a dry run.
    """
    if not context["params"].get("release_rejected_volume"):
        return None
    by = getattr(context["dag_run"], "triggering_user_name", None)
    if not by:
        raise ConfigurationError("release_rejected_volume needs a run triggered by a named "
                                 "user (the release is recorded with who made it)")
    if run.dry_run:
        raise ConfigurationError("release_rejected_volume: a dry run releases nothing")
    return by


def check(context: dict[str, Any]):
    """The volume gate's check (badging/gates/approval.py): the run's staged rows that no earlier
    gate judged, each day they changed on against that day's band (a history load's range
    always asks, or passes with `accept_volume`); rows an earlier refusal covers are held
    first.

    Raises:
        ConfigurationError: a release the run cannot make (`_releasing_user`, `take`).
    """
    from badging.core.db import CTIMS_CONN_ID
    from badging.gates.approval import Check

    run = RunInfo.from_context(context)
    by = _releasing_user(context, run)
    judged = take(run, released_by=by)
    released = _released_lines(judged.released, by)
    counts = {"earlier": judged.earlier, "judged_before": judged.judged_before,
              "held": judged.held, "released": sum(n for *_, n in judged.released)}
    if run.is_range:
        volume = range_volume(run.first_day, judged.ids, ctims=CTIMS_CONN_ID)
        summary = (f"history load of {(run.day - run.first_day).days + 1} days "
                   f"({run.first_day} to {run.day}): {volume.rows} rows to judge")
        body = range_markdown(run.first_day, run.day, volume,
                              judged_before=judged.judged_before, held=judged.held)
        return Check(ask=volume.rows > 0, summary=summary,
                     subject=(f"History load {run.first_day} to {run.day}: {volume.rows:,} "
                              "rows — real?"),
                     body="\n\n".join([*released, body]),
                     detail=counts | {"rows": volume.rows, "duplicates": volume.duplicates,
                                      "ask": volume.rows > 0, "summary": summary})
    judgement = replace(
        measure(run.day, judged.ids, ctims=CTIMS_CONN_ID, refused=refused_before(
            run.window_start.astimezone(AGENCY_TZ).date(), run.day)),
        judged_before=judged.judged_before, held=judged.held)
    return Check(ask=judgement.ask, summary=judgement.summary(), subject=judgement.subject(),
                 body="\n\n".join([*released, judgement.markdown()]),
                 detail=judgement.as_xcom() | counts)
