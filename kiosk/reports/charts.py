"""Charts drawn on the server as SVG (no script, no external asset), each with a title and the table
of its numbers (shown beside it for screen readers and printing, and exported with the report).

Any report can use `bar_chart`, `stacked_bars` and `heat_map`; `Chart` carries the SVG and its table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from kiosk.reports.export import Column, Table

FONT = "system-ui, sans-serif"  # a presentation attribute: the pages' CSP allows no inline style
PALETTE = ("#1f5f99", "#2e8540", "#b8860b", "#c05621", "#9b2c2c", "#553c9a")
CLASS_COLORS = ("#2e8540", "#68a357", "#d4b106", "#dd6b20", "#c53030", "#742a2a")


@dataclass(frozen=True)
class Chart:
    """A chart: its id (for the page), title, SVG and the table of its numbers."""

    id: str
    title: str
    svg: Markup
    table: Table


def _svg(chart_id: str, title: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t" class="chart" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{chart_id}-t">{escape(title)}</title>{body}</svg>')


def _text(x: float, y: float, text: object, *, size: int = 12, anchor: str = "start", fill: str = "#222",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" font-family="{FONT}">{escape(str(text))}</text>')


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    step = 10.0 ** (len(str(int(value))) - 1)
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= factor * step:
            return factor * step
    return 10.0 * step


def bar_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
              table: Table, *, unit: str = "") -> Chart:
    """Vertical bars, one group per label, one bar per series (e.g. issued vs served per hour)."""
    width, height, left, bottom, top = 760, 300, 48, 40, 34
    plot_w, plot_h = width - left - 12, height - top - bottom
    peak = _nice_max(max((v for _, values in series for v in values), default=0))
    group_w = plot_w / max(len(labels), 1)
    bar_w = max(2.0, (group_w * 0.8) / max(len(series), 1))
    parts = []
    for i in range(5):  # grid lines and axis values
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" stroke-width="1"/>')
        parts.append(_text(left - 6, y + 4, f"{value:g}", size=11, anchor="end", fill="#444"))
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            value = values[g]
            h = plot_h * value / peak
            parts.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)}: '
                         f'{escape(name)} {value:g}{escape(unit)}</title></rect>')
        parts.append(_text(left + g * group_w + group_w / 2, height - bottom + 16, label, size=11, anchor="middle"))
    for s, (name, _) in enumerate(series):  # legend
        x = left + s * 160
        parts.append(f'<rect x="{x}" y="8" width="14" height="14" fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(_text(x + 20, 20, name, size=13))
    return Chart(chart_id, title, _svg(chart_id, title, width, height, "".join(parts)), table)


def stacked_bars(chart_id: str, title: str, labels: Sequence[str], classes: Sequence[str],
                 values: Sequence[Sequence[int]], table: Table, colors: Sequence[str] = CLASS_COLORS,
                 notes: Sequence[str] | None = None) -> Chart:
    """Horizontal bars of 100%, one per label, split into classes (e.g. waiting-time classes per service);
    `notes` are written after each bar (default: how many the bar counts)."""
    row_h, left, top, width = 26, 220, 40, 760
    height = top + row_h * len(labels) + 12
    plot_w = width - left - 84
    parts = []
    for c, name in enumerate(classes):  # legend
        lx = 8 + c * 124
        parts.append(f'<rect x="{lx}" y="8" width="14" height="14" fill="{colors[c % len(colors)]}"/>')
        parts.append(_text(lx + 18, 20, name, size=12))
    for r, label in enumerate(labels):
        y = top + r * row_h
        total = sum(values[r])
        parts.append(_text(left - 8, y + 17, label[:32] + ("…" if len(label) > 32 else ""), size=12, anchor="end"))
        x: float = left
        for c, n in enumerate(values[r]):
            w = plot_w * n / total if total else 0.0
            if w > 0:
                share = 100 * n / total
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                             f'fill="{colors[c % len(colors)]}"><title>{escape(label)}, '
                             f'{escape(classes[c])}: {n} ({share:.0f}%)</title></rect>')
            x += w
        parts.append(_text(left + plot_w + 6, y + 17, notes[r] if notes else f"n={total}", size=11, fill="#444"))
    return Chart(chart_id, title, _svg(chart_id, title, width, height, "".join(parts)), table)


def heat_map(chart_id: str, title: str, rows: Sequence[str], columns: Sequence[str],
             values: Sequence[Sequence[int]], table: Table) -> Chart:
    """A grid of cells shaded by their value (e.g. arrivals per day x hour), the value written in each."""
    cell_w, cell_h, left, top = 44, 20, 150, 26
    width = left + cell_w * len(columns) + 8
    height = top + cell_h * len(rows) + 8
    peak = max((v for row in values for v in row), default=0) or 1
    parts = [_text(left + c * cell_w + cell_w / 2, top - 8, col, size=11, anchor="middle")
             for c, col in enumerate(columns)]
    for r, label in enumerate(rows):
        y = top + r * cell_h
        parts.append(_text(left - 6, y + 14, label, size=11, anchor="end"))
        for c, n in enumerate(values[r]):
            share = n / peak
            light = round(97 - 62 * share)  # from near white to a deep blue
            fill = f"hsl(212,62%,{light}%)"
            ink = "#fff" if light < 60 else "#1a1a1a"
            parts.append(f'<rect x="{left + c * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                         f'fill="{fill}"><title>{escape(label)} {escape(columns[c])}: {n}</title></rect>')
            if n:
                parts.append(_text(left + c * cell_w + cell_w / 2, y + 14, n, size=10, anchor="middle", fill=ink))
    return Chart(chart_id, title, _svg(chart_id, title, width, height, "".join(parts)), table)


def columns_of(*pairs: tuple[str, str, int | None]) -> list[Column]:
    """Columns from (key, header, decimals) triples."""
    return [Column(k, h, d) for k, h, d in pairs]
