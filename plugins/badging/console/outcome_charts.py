"""The Outcomes page's charts as SVG geometry, drawn by console/_outcome_charts.html.j2.

Drawn on the server, inline in the page: no script, no asset from another host, so the page
works offline and under a Content-Security-Policy that loads nothing (docs/outcomes.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from badging.core.constants import CredlyState

# A chart's rectangle with its tooltip: the correction report's bar segment serves both.
from badging.reports.chart import Segment as Rect

# One colour per outcome, colour-blind safe; accepted is the correction report's.
COLOURS = {CredlyState.ACCEPTED: "#1b7837", CredlyState.PENDING: "#a6dba0",
           CredlyState.REJECTED: "#d73027", CredlyState.EXPIRED: "#fdae61",
           CredlyState.REVOKED: "#252525"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 880, 240, 56, 34, 10
BAR_HEIGHT, LABEL_WIDTH = 18, 340
# Characters of a cluster's label the chart has room for.
LABEL_CHARS = 48
# The clusters chart shows the largest this many (the table lists every one).
MAX_CLUSTERS = 16


@dataclass(frozen=True)
class Chart:
    """Rectangles, text labels (x, y, text, anchor) and grid ticks (position, value)."""

    width: int
    height: int
    rects: list[Rect]
    labels: list[tuple[float, float, str, str]]
    ticks: list[tuple[float, int]]


def _nice(top: int) -> int:
    """A round axis maximum at or above `top`."""
    step = 1
    while step * 10 < top:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= top:
            return step * factor
    return step * 10  # pragma: no cover


def _month_label(code: str, many: bool) -> str | None:
    """"Sep" for a school year's months; over several years, only each July ("Jul 25")."""
    first = date.fromisoformat(f"{code}-01")
    if not many:
        return first.strftime("%b")
    return first.strftime("%b %y") if first.month == 7 else None


def months(groups: list[Any], order: tuple[str, ...]) -> Chart | None:
    """Stacked columns per month: the badges issued that month by what they became."""
    if not groups:
        return None
    top = _nice(max(g.figures.issued for g in groups) or 1)
    plot_h, plot_w = HEIGHT - BOTTOM - TOP, WIDTH - LEFT - 10
    slot = plot_w / len(groups)
    rects, labels = [], []
    for index, group in enumerate(groups):
        x, y = LEFT + index * slot + slot * 0.15, TOP + plot_h
        for outcome in order:
            count = group.figures.count(outcome)
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            rects.append(Rect(round(x, 1), round(y, 1), round(slot * 0.7, 1), round(height, 1),
                              COLOURS[outcome], f"{group.name}: {count} {outcome}"))
        label = _month_label(group.code, len(groups) > 12)
        if label:
            labels.append((round(x + slot * 0.35, 1), HEIGHT - BOTTOM + 16, label, "middle"))
    ticks = [(round(TOP + plot_h - plot_h * v / top, 1), v) for v in (0, top // 2, top)]
    return Chart(WIDTH, HEIGHT, rects, labels, ticks)


def clusters(groups: list[Any]) -> Chart | None:
    """A bar per career cluster: its badges, the accepted part darker."""
    shown = groups[:MAX_CLUSTERS]
    if not shown:
        return None
    top = _nice(max(g.figures.issued for g in shown) or 1)
    plot_w = WIDTH - LABEL_WIDTH - 60
    rects, labels = [], []
    for index, group in enumerate(shown):
        y = TOP + index * (BAR_HEIGHT + 6)
        name = f"{group.code or '??'} {group.name or 'no CIP family'}"
        issued = group.figures.issued
        accepted = group.figures.count(CredlyState.ACCEPTED)
        rects.append(Rect(LABEL_WIDTH, y, round(plot_w * issued / top, 1), BAR_HEIGHT,
                          COLOURS[CredlyState.PENDING], f"{name}: {issued} issued"))
        rects.append(Rect(LABEL_WIDTH, y, round(plot_w * accepted / top, 1), BAR_HEIGHT,
                          COLOURS[CredlyState.ACCEPTED], f"{name}: {accepted} accepted"))
        short = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"
        labels.append((LABEL_WIDTH - 6, y + 13, short, "end"))
        labels.append((LABEL_WIDTH + plot_w * issued / top + 6, y + 13, str(issued), "start"))
    height = TOP + len(shown) * (BAR_HEIGHT + 6) + 10
    return Chart(WIDTH, height, rects, labels, [])


def charts(found: Any) -> dict[str, Chart | None]:
    """The page's two charts for an outcomes.Outcomes."""
    from badging.console.outcomes import OUTCOMES

    return {"months": months(found.groups["month"], OUTCOMES),
            "clusters": clusters(found.groups["cluster"])}
