"""Small SVG charts drawn on the server (no script, no external asset): lines, bars and a histogram
with a shaded band. Each chart is an <svg role="img"> with a title and a description; pages show its
numbers in a table beside it (screen readers, printing). Everything written into it is escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48
COLOURS = ("#0b5394", "#b45f06", "#38761d", "#741b47")  # dark enough on white (WCAG AA)
DASHES = ("", "6 4", "2 3", "8 3 2 3")  # series differ by more than colour

Series = tuple[str, Sequence[float | None]]


def _nice_max(value: float) -> float:
    """A round upper bound for an axis."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10.0 * power


def _frame(title: str, desc: str, y_max: float, unit: str, labels: Sequence[str], body: str) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        value = y_max * i / 4
        y = TOP + plot_h - plot_h * i / 4
        grid.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                    f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{escape(unit)}</text>')
    every = max(1, math.ceil(len(labels) / 12))
    ticks = []
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + plot_w * (i + 0.5) / max(len(labels), 1)
            ticks.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>')
    key = _id(title)
    return Markup(
        f'<svg class="sim-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{key}-t {key}-d"'
        f' xmlns="http://www.w3.org/2000/svg"><title id="{key}-t">{escape(title)}</title>'
        f'<desc id="{key}-d">{escape(desc)}</desc>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" class="axis"/>'
        + "".join(grid) + "".join(ticks) + body + "</svg>")


def _id(title: str) -> str:
    return "c" + "".join(ch for ch in title.lower() if ch.isalnum())[:24]


def _legend(names: Sequence[str]) -> str:
    items = []
    for i, name in enumerate(names):
        x = LEFT + i * 200
        items.append(f'<line x1="{x}" y1="{HEIGHT - 12}" x2="{x + 24}" y2="{HEIGHT - 12}" stroke="{COLOURS[i % 4]}" '
                     f'stroke-width="3" stroke-dasharray="{DASHES[i % 4]}"/>'
                     f'<text x="{x + 30}" y="{HEIGHT - 8}">{escape(name)}</text>')
    return "".join(items)


def line_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Markup:
    """Lines over labelled points (a gap where a value is None)."""
    values = [v for _, vs in series for v in vs if v is not None]
    y_max = _nice_max(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = []
    for i, (_, vs) in enumerate(series):
        points: list[str] = []
        paths: list[list[str]] = []
        for j, v in enumerate(vs):
            if v is None:
                if points:
                    paths.append(points)
                points = []
                continue
            x = LEFT + plot_w * (j + 0.5) / max(len(labels), 1)
            points.append(f"{x:.1f},{TOP + plot_h - plot_h * v / y_max:.1f}")
        if points:
            paths.append(points)
        for path in paths:
            body.append(f'<polyline fill="none" stroke="{COLOURS[i % 4]}" stroke-width="2.5" '
                        f'stroke-dasharray="{DASHES[i % 4]}" points="{" ".join(path)}"/>')
    return _frame(title, desc, y_max, unit, labels, "".join(body) + _legend([n for n, _ in series]))


def bar_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[Series], unit: str = "",
              y_max: float | None = None) -> Markup:
    """Bars, side by side per label for several series."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = y_max or _nice_max(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    width = slot * 0.8 / max(len(series), 1)
    body = []
    for i, (_, vs) in enumerate(series):
        for j, v in enumerate(vs):
            if v is None:
                continue
            h = plot_h * min(v, top) / top
            x = LEFT + slot * j + slot * 0.1 + width * i
            body.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" '
                        f'fill="{COLOURS[i % 4]}"/>')
    legend = _legend([n for n, _ in series]) if len(series) > 1 else ""
    return _frame(title, desc, top, unit, labels, "".join(body) + legend)


def histogram(title: str, desc: str, values: Sequence[float], width: float, band: tuple[float, float] | None = None,
              unit: str = "") -> tuple[Markup, list[tuple[str, int]]]:
    """Counts of values in bins of `width`, the band (e.g. the alerts' lead window) shaded; also the
    bins as (label, count) for the table beside it."""
    if not values:
        return line_chart(title, desc, [], []), []
    top = max(values)
    bins = [0] * (int(top // width) + 1)
    for v in values:
        bins[int(v // width)] += 1
    labels = [f"{i * width:g}-{(i + 1) * width:g}" for i in range(len(bins))]
    chart = bar_chart(title, desc, labels, [("", bins)], unit)
    if band is not None:
        plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
        x0 = LEFT + plot_w * band[0] / width / len(bins)
        x1 = LEFT + plot_w * min(band[1] / width, len(bins)) / len(bins)
        shade = (f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 0):.1f}" height="{plot_h}" '
                 f'fill="#38761d" fill-opacity="0.15"/>')
        chart = Markup(str(chart).replace("</desc>", "</desc>" + shade, 1))
    return chart, list(zip(labels, bins, strict=True))
