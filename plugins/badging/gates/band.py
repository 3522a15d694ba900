"""The volume gate's band: a day's expected volume from the calendar and the recent weeks,
and the judgement of a volume against it (pure: no clock, no database; docs/gates.md)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from badging.core.markdown import escape

# The band (docs/gates.md, "The band"). Entry is seasonal (May peak, June fiscal-year rush,
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


