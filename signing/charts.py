"""Small server-rendered SVG charts for the staff dashboard: stacked bars, lines and horizontal
bars. Pure functions from numbers to SVG text; every label is escaped."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#417690", "#e08a2c", "#5a9e4b", "#b5485d", "#7b6bb0", "#8c8c8c")
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 34, 44


def nice_maximum(value: float) -> float:
    """The smallest 1/2/5 × 10^n at or above `value` (at least 1), for a readable axis."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(title: str, body: list[str], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    return "\n".join(
        [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
            ),
            f"<title>{escape(title)}</title>",
            f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
            *body,
            "</svg>",
        ]
    )


def _axes(maximum: float, labels: Sequence[str], unit: str, *, width: int, height: int) -> list[str]:
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#999"/>']
    for i in range(5):
        value = maximum * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}{escape(unit)}</text>')
    step = max(1, math.ceil(len(labels) / 10))
    slot = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = LEFT + slot * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    return parts


def _legend(names: Sequence[str], *, width: int, colours: Sequence[str] = PALETTE) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        y = TOP + 14 * i
        colour = colours[i % len(colours)]
        parts.append(f'<rect x="{width - RIGHT + 12}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{width - RIGHT + 26}" y="{y + 9}">{escape(name)}</text>')
    return parts


def stacked_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    unit: str = "",
    colours: Sequence[str] = PALETTE,
) -> str:
    """One bar per label, stacked by series (e.g. certificates per day and kind)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    maximum = nice_maximum(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7, 1)
    body = _axes(maximum, labels, unit, width=WIDTH, height=HEIGHT)
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, values) in enumerate(series.items()):
            value = values[i]
            if value <= 0:
                continue
            h = plot_h * value / maximum
            y = TOP + plot_h - plot_h * base / maximum - h
            x = LEFT + slot * i + (slot - bar_w) / 2
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours[s % len(colours)]}"><title>{escape(label)} {escape(name)}: '
                f"{_number(value)}{escape(unit)}</title></rect>"
            )
            base += value
    body += _legend(list(series), width=WIDTH, colours=colours)
    return _frame(title, body)


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, unit: str = "") -> str:
    """One line per series over the labels; missing values (None) break the line."""
    values = [v for line in series.values() for v in line if v is not None]
    maximum = nice_maximum(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    body = _axes(maximum, labels, unit, width=WIDTH, height=HEIGHT)
    for s, line in enumerate(series.values()):
        colour = PALETTE[s % len(PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(line):
            if value is None:
                segments.append([])
                continue
            segments[-1].append((LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * value / maximum))
        for points in segments:
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            for x, y in points:
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
    body += _legend(list(series), width=WIDTH)
    return _frame(title, body)


def horizontal_bar_chart(title: str, items: Sequence[tuple[str, float]], *, unit: str = "", maximum: float | None = None) -> str:
    """One labelled horizontal bar per item (e.g. error rate per downstream, in %)."""
    row_h = 26
    height = TOP + row_h * max(len(items), 1) + 16
    scale = maximum if maximum is not None else nice_maximum(max((v for _, v in items), default=0))
    plot_w = WIDTH - LEFT - RIGHT - 60
    label_w = 90
    body = []
    if not items:
        body.append(f'<text x="{LEFT}" y="{TOP + 14}">no data</text>')
    for i, (label, value) in enumerate(items):
        y = TOP + row_h * i
        w = plot_w * min(value, scale) / scale if scale else 0
        body.append(f'<text x="{LEFT + label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect x="{LEFT + label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 8}" fill="#f2f2f2"/>')
        body.append(
            f'<rect x="{LEFT + label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        body.append(f'<text x="{LEFT + label_w + plot_w + 6}" y="{y + 15}">{value:.1f}{escape(unit)}</text>')
    return _frame(title, body, height=height)
