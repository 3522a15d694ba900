"""The correction report's trend chart: the geometry of its stacked bars, drawn by a template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from badging.core.constants import Event

# Bars the chart has room for, whatever the history (the report's trend window).
HISTORY_RUNS = 30
# Series colours: issued, revoked, quarantined, then one per ineligibility reason
# (colour-blind safe first, then greys).
ISSUED_COLOUR, REVOKED_COLOUR, QUARANTINED_COLOUR = "#1b7837", "#252525", "#d73027"
# Badges their earners accepted in Credly that day (the sync's changes; docs/credly-sync.md).
ACCEPTED_COLOUR = "#a6dba0"
ACCEPTED_SERIES = "accepted in Credly"
REASON_COLOURS = ("#4575b4", "#fdae61", "#74add1", "#f46d43", "#abd9e9", "#fee090",
                  "#8073ac", "#b35806", "#542788", "#999999", "#bbbbbb", "#666666")
_LEFT, _RIGHT_MARGIN, _BOTTOM, _PLOT_MARGIN = 56, 10, 46, 66


@dataclass(frozen=True)
class Segment:
    """One series' part of one day's bar; `title` is its tooltip."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    """One day: its segments bottom up, and its date label (None: the day goes unlabelled)."""

    segments: list[Segment]
    label: str | None
    label_x: float
    label_y: int


@dataclass(frozen=True)
class Chart:
    """Everything the template draws; coordinates in SVG pixels, y growing downwards.

    `ticks` are (y, value) of the horizontal grid lines; `legend` is (name, colour) per series.
    """

    width: int
    height: int
    left: int
    right: int
    ticks: list[tuple[float, int]]
    bars: list[Bar]
    legend: list[tuple[str, str]]


def nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `raw` (axis ticks)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if factor * power >= raw:
                return factor * power
        power *= 10


def geometry(history: list[dict[str, Any]], *, width: int = 1120,
             height: int = 300) -> Chart | None:
    """Stacked bars per day: issued, revoked (only in a history with revocations), accepted
    in Credly (only in a history with acceptances), quarantined, ineligible by reason; None
    without history.

    Args:
        history: reports/correction/history.sql rows, oldest first (without "revoked": none).
    """
    if not history:
        return None
    reasons = sorted({r for h in history for r in (h["ineligible_by_reason"] or {})})
    # (name, colour, the day's value) per series, bottom up.
    series: list[tuple[str, str, Callable[[dict[str, Any]], int]]] = [
        (str(Event.ISSUED), ISSUED_COLOUR, lambda h: h["issued"])]
    # Most histories never revoke: no empty series in their legend.
    if any(h.get("revoked") for h in history):
        series.append((str(Event.REVOKED), REVOKED_COLOUR, lambda h: h.get("revoked", 0)))
    if any(h.get("accepted") for h in history):
        series.append((ACCEPTED_SERIES, ACCEPTED_COLOUR, lambda h: h.get("accepted", 0)))
    series.append((str(Event.QUARANTINED), QUARANTINED_COLOUR, lambda h: h["quarantined"]))
    series += [(f"{Event.INELIGIBLE}: {r}", REASON_COLOURS[i % len(REASON_COLOURS)],
                lambda h, r=r: (h["ineligible_by_reason"] or {}).get(r, 0))
               for i, r in enumerate(reasons)]

    step = nice_step(max(1, *(sum(value_of(h) for _n, _c, value_of in series)
                              for h in history)) / 4)
    top = step * 4
    plot_h = height - _PLOT_MARGIN
    baseline = height - _BOTTOM
    ticks = [(baseline - plot_h * tick / 4, step * tick) for tick in range(5)]
    # Room for HISTORY_RUNS bars whatever the history, so a new deployment's first days
    # do not turn into slabs; the bars start at the left.
    slot = (width - _LEFT - _RIGHT_MARGIN) / max(len(history), HISTORY_RUNS)
    bar = max(4.0, slot * 0.7)
    bars = []
    # Labels are turned so that one fits under every bar of a full 30-day chart.
    label_every = max(1, round(len(history) / HISTORY_RUNS))
    for index, h in enumerate(history):
        x = _LEFT + index * slot + (slot - bar) / 2
        y = baseline
        segments = []
        for name, colour, value_of in series:
            value = value_of(h)
            if not value:
                continue
            bar_h = plot_h * value / top
            y -= bar_h
            segments.append(Segment(x, y, bar, bar_h, colour,
                                    f"{h['logical_date']}: {name} {value}"))
        labelled = index % label_every == 0 or index == len(history) - 1
        bars.append(Bar(segments, f"{h['logical_date']:%m-%d}" if labelled else None,
                        x + bar / 2, baseline + 14))
    return Chart(width, height, _LEFT, width - _RIGHT_MARGIN, ticks, bars,
                 [(name, colour) for name, colour, _value in series])
