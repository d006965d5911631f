"""Bar charts laid out for inline SVG: the template draws the rectangles and writes the labels
as text (autoescaped), so no chart library, no script and nothing from the internet — and the
same markup renders in the PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smartcustoms.reports.model import Chart

__all__ = ["BarBox", "ChartBox", "lay_out"]

WIDTH = 640
LABEL_W = 200
ROW_H = 22
BAR_H = 16
VALUE_W = 70


@dataclass(frozen=True)
class BarBox:
    label: str
    value: str
    y: int
    width: float
    text_y: int


@dataclass(frozen=True)
class ChartBox:
    title: str
    width: int
    height: int
    label_w: int
    bar_x: int
    bars: list[BarBox]


def lay_out(
    chart: Chart, *, translate: Callable[[str], str], fmt: Callable[[float], str]
) -> ChartBox:
    """Horizontal bars, one row each, scaled to the largest value."""
    top = max((b.value for b in chart.bars), default=0.0)
    span = WIDTH - LABEL_W - VALUE_W
    boxes = []
    for i, bar in enumerate(chart.bars):
        label = chart.labels.get(bar.label) if chart.labels else None
        boxes.append(
            BarBox(
                label=translate(label) if label else bar.label,
                value=fmt(bar.value),
                y=i * ROW_H + 4,
                width=round(span * bar.value / top, 1) if top > 0 else 0.0,
                text_y=i * ROW_H + 4 + BAR_H - 4,
            )
        )
    return ChartBox(
        title=translate(chart.title),
        width=WIDTH,
        height=max(1, len(boxes)) * ROW_H + 8,
        label_w=LABEL_W - 8,
        bar_x=LABEL_W,
        bars=boxes,
    )
