"""The portal's use chart (consentry_portal.chart): one panel per unit kind, bars that
are to scale from zero, and a summary in words."""

from __future__ import annotations

from decimal import Decimal

from consentry_portal.chart import BOTTOM, HEIGHT, TOP, _nice_top, panels


def line(period: str, purpose: str, kind: str, allowed: str) -> dict[str, str]:
    return {"period": period, "purpose": purpose, "unit_kind": kind, "allowed": allowed}


LINES = [
    line("2026-10", "ai.dj", "seconds_played", "180"),
    line("2026-11", "ai.dj", "seconds_played", "60"),
    line("2026-11", "ai.dj", "seconds_played", "30"),  # another model, same month
    line("2026-11", "ai.training", "training_inclusion", "2"),
]


def test_each_unit_kind_has_a_panel_of_its_own() -> None:
    seconds, inclusions = panels(LINES)
    assert (seconds.unit_kind, inclusions.unit_kind) == ("seconds_played", "training_inclusion")
    assert [m for _, m in seconds.months] == ["2026-10", "2026-11"]
    assert [p for p, _ in inclusions.legend] == ["ai.training"]


def test_bars_are_to_scale_from_zero_and_models_add_up() -> None:
    seconds = panels(LINES)[0]
    october, november = seconds.bars
    assert october.height == 2 * november.height, "180 beside 60 + 30"
    plot = HEIGHT - TOP - BOTTOM
    assert october.height == plot * 180 / 200, "the scale tops out at 200"
    assert october.y + october.height == november.y + november.height == TOP + plot
    assert october.label == "2026-10, ai.dj: 180 seconds_played"
    assert "the most was 180 for ai.dj in 2026-10" in seconds.summary


def test_the_scale_ends_on_a_round_figure() -> None:
    assert [_nice_top(Decimal(v)) for v in ("0", "0.5", "7", "10", "11", "180", "501")] == [
        Decimal(1),
        Decimal(1),
        Decimal(10),
        Decimal(10),
        Decimal(20),
        Decimal(200),
        Decimal(1000),
    ]


def test_no_use_no_panel() -> None:
    assert panels([]) == []
