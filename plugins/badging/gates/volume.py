"""The volume gate's check (docs/gates.md): the rows a run would issue that no gate judged
before, measured day by day against their bands (gates/band.py), and whether an operator must
decide on them; what each decision covers binds later runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from badging.core import audit, db
from badging.core.constants import AGENCY_TIMEZONE, AGENCY_TZ, GATE_PASSES
from badging.core.errors import ConfigurationError
from badging.core.markdown import escape
from badging.core.run import RunInfo
from badging.gates.band import (
    RECENT_DAYS,
    SEASON_HALF_WIDTH,
    SITE_ROWS_SHOWN,
    YEAR,
    YEARS_BACK,
    DayVolume,
    RunJudgement,
    SiteVolume,
    band,
    judge,
)

log = logging.getLogger(__name__)

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
