"""Geometry of the attainment chart, rendered as SVG by a template (no JavaScript).

Pure: takes (label, met, missed, best effort) rows and returns rectangles and text
positions, so the template only prints numbers and the CSP needs no exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABEL_WIDTH = 150
BAR_WIDTH = 420
VALUE_WIDTH = 120
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 24
BOTTOM = 8


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    text_y: float
    met_width: float
    missed_x: float
    missed_width: float
    value_x: float
    value: str
    best_effort: bool


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_x: int
    bar_height: int
    axis_bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    title: str


@dataclass(frozen=True)
class ChartRow:
    label: str
    met: int
    missed: int
    best_effort: bool = False


def attainment_chart(rows: Sequence[ChartRow], *, title: str) -> Chart:
    """Lay out one horizontal bar per row: met share, then missed share, to 100%."""
    bars = []
    for index, row in enumerate(rows):
        total = row.met + row.missed
        met_width = BAR_WIDTH * row.met / total if total else 0.0
        missed_width = BAR_WIDTH * row.missed / total if total else 0.0
        y = TOP + index * ROW_HEIGHT
        value = f"{100 * row.met / total:.1f}% ({row.met}/{total})" if total else "—"
        bars.append(
            Bar(
                label=row.label,
                y=y,
                text_y=y + BAR_HEIGHT - 4,
                met_width=round(met_width, 2),
                missed_x=round(LABEL_WIDTH + met_width, 2),
                missed_width=round(missed_width, 2),
                value_x=LABEL_WIDTH + BAR_WIDTH + 8,
                value=value,
                best_effort=row.best_effort,
            )
        )
    height = TOP + max(len(rows), 1) * ROW_HEIGHT + BOTTOM
    ticks = [
        Tick(x=LABEL_WIDTH + BAR_WIDTH * share / 100, label=f"{share}%")
        for share in (0, 25, 50, 75, 100)
    ]
    return Chart(
        width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        height=height,
        bar_x=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        axis_bottom=height - BOTTOM,
        bars=bars,
        ticks=ticks,
        title=title,
    )
