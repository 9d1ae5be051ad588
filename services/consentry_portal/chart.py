"""The "AI use and earnings" page's chart, laid out here and drawn by the template as
inline SVG: one panel per unit kind (seconds played and training inclusions do not
share a scale), months along the bottom, a bar per purpose in each month, the units
used with consent on a scale of their own from zero. Pure: figures in, geometry out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
"""Okabe and Ito's colours, told apart with any colour vision; the legend and the table
beside the chart say the same in words."""

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 36


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str
    """What the bar shows, in words (its tooltip)."""


@dataclass(frozen=True, slots=True)
class Panel:
    unit_kind: str
    months: list[tuple[float, str]]
    """Each month's label and where its group's middle is."""
    ticks: list[tuple[float, str]]
    """The scale: where each figure is drawn."""
    bars: list[Bar]
    legend: list[tuple[str, str]]
    """(purpose, colour)."""
    summary: str
    """The panel in one sentence, for those who do not see it."""


def _nice_top(peak: Decimal) -> Decimal:
    """The scale's top: the smallest 1, 2 or 5 times a power of ten at or above the peak."""
    if peak <= 0:
        return Decimal(1)
    step = Decimal(10) ** (len(str(int(peak))) - 1)
    for factor in (1, 2, 5, 10):
        if peak <= step * factor:
            return step * factor
    return step * 10


def _figure(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def panels(lines: Iterable[Mapping[str, Any]]) -> list[Panel]:
    """``lines``: the read API's usage lines (per month): period, purpose, unit_kind and
    ``allowed`` units. Units of the same purpose and month add up across models."""
    used: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in lines:
        used[line["unit_kind"]][line["period"], line["purpose"]] += Decimal(str(line["allowed"]))
    return [_panel(kind, figures) for kind, figures in sorted(used.items())]


def _panel(kind: str, figures: Mapping[tuple[str, str], Decimal]) -> Panel:
    months = sorted({month for month, _ in figures})
    purposes = sorted({purpose for _, purpose in figures})
    colours = {p: PALETTE[n % len(PALETTE)] for n, p in enumerate(purposes)}
    top = _nice_top(max(figures.values()))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(months)
    bar_w = min(group * 0.8 / len(purposes), 48.0)
    inset = (group - bar_w * len(purposes)) / 2
    bars: list[Bar] = []
    for m, month in enumerate(months):
        for p, purpose in enumerate(purposes):
            units = figures.get((month, purpose), Decimal(0))
            height = float(units / top) * plot_h
            bars.append(
                Bar(
                    x=LEFT + m * group + inset + p * bar_w,
                    y=TOP + plot_h - height,
                    width=bar_w,
                    height=height,
                    colour=colours[purpose],
                    label=f"{month}, {purpose}: {_figure(units)} {kind}",
                )
            )
    ticks = [(TOP + plot_h - plot_h * i / 4, _figure(top * i / 4)) for i in range(5)]
    busiest = max(figures.items(), key=lambda item: (item[1], item[0]))
    (month, purpose), peak = busiest
    summary = (
        f"{kind} used with your consent, per month from {months[0]} to {months[-1]}, "
        f"for {', '.join(purposes)}; the most was {_figure(peak)} for {purpose} in {month}."
    )
    return Panel(
        unit_kind=kind,
        months=[(LEFT + (m + 0.5) * group, month) for m, month in enumerate(months)],
        ticks=ticks,
        bars=bars,
        legend=[(p, colours[p]) for p in purposes],
        summary=summary,
    )
