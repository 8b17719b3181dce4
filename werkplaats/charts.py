"""Charts drawn on the server as SVG: no script, no CDN, readable in print and without
JavaScript. Each chart comes with a one-sentence summary and the table it draws, so a screen
reader (and a CSV download) gets the same figures as the eye.

Small templates instead of a chart library: the two shapes the back office needs (bars and
lines over days) are a few dozen lines each, and every library that draws SVG on the server
either ships a script or reaches for a CDN by default.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from . import formats

# The drawing area of every chart, in SVG units; the SVG scales to its container.
WIDTH = 640
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 200
LINE_HEIGHT = 240
PADDING = 32
# Colours with at least 3:1 contrast on white (WCAG 2.1, non-text contrast).
COLOURS = ["#1f5f99", "#b4462d", "#2f7d32", "#6a3d9a", "#8a6d00"]


@dataclass
class Chart:
    """What a template shows: `svg` (safe markup), `summary` (one sentence), and `headers` and
    `rows` for the table beside it (and a CSV download)."""

    key: str
    title: str
    summary: str
    headers: list
    rows: list
    svg: str = field(default="", repr=False)
    # For lines: (series name, how it is drawn), since colour alone may not tell them apart.
    legend: list = field(default_factory=list)

    @property
    def is_empty(self):
        return not self.rows


def _number(value):
    if isinstance(value, Decimal):
        return formats.money(value)
    return formats.decimal(value)


def _scale(values):
    top = max([abs(v) for v in values] + [0])
    return top or 1


def bars(key, title, labels, values, *, summary="", value_header="aantal", label_header=""):
    """Horizontal bars, one per label, longest first as given; amounts (Decimal) are written
    as money, counts as numbers."""
    labels, values = list(labels), list(values)
    top = _scale(values)
    room = WIDTH - LABEL_WIDTH - 90
    items = [
        {
            "label": label,
            "value": _number(value),
            "y": PADDING // 2 + index * (BAR_HEIGHT + BAR_GAP),
            "width": round(room * abs(value) / top, 1),
        }
        for index, (label, value) in enumerate(zip(labels, values, strict=True))
    ]
    height = PADDING + len(items) * (BAR_HEIGHT + BAR_GAP)
    rows = [[label, _number(value)] for label, value in zip(labels, values, strict=True)]
    if not summary and rows:
        summary = ", ".join(f"{label} {value}" for label, value in rows[:5]) + "."
    chart = Chart(key, title, summary, [label_header or title, value_header], rows)
    chart.svg = mark_safe(  # noqa: S308 -- rendered by a template that escapes every value
        render_to_string(
            "charts/bars.svg",
            {
                "chart": chart,
                "items": items,
                "width": WIDTH,
                "height": height,
                "label_width": LABEL_WIDTH,
                "bar_height": BAR_HEIGHT,
                "colour": COLOURS[0],
            },
        )
    )
    return chart


def lines(key, title, x_values, series, *, summary="", x_header="dag", x_label=str):
    """Lines over `x_values` (e.g. days relative to the start), one per (name, values) in
    `series`; a value None leaves a gap (a day not reached yet)."""
    x_values = list(x_values)
    series = [(name, list(values)) for name, values in series]
    numbers = [v for _name, values in series for v in values if v is not None]
    top = _scale(numbers)
    left, right = PADDING + 24, WIDTH - PADDING
    bottom, upper = LINE_HEIGHT - PADDING, PADDING // 2
    span = max(len(x_values) - 1, 1)

    def point(index, value):
        x = left + (right - left) * index / span
        y = bottom - (bottom - upper) * value / top
        return f"{x:.1f},{y:.1f}"

    drawn = []
    for number, (name, values) in enumerate(series):
        points = " ".join(point(i, v) for i, v in enumerate(values) if v is not None)
        drawn.append(
            {
                "name": name,
                "points": points,
                "colour": COLOURS[number % len(COLOURS)],
                "dashed": number > 0,
            }
        )
    ticks = sorted({0, len(x_values) - 1, (len(x_values) - 1) // 2}) if x_values else []
    x_ticks = [
        {"x": f"{left + (right - left) * i / span:.1f}", "label": x_label(x_values[i])}
        for i in ticks
    ]
    headers = [x_header, *[name for name, _values in series]]
    rows = [
        [x_label(x), *["" if values[i] is None else _number(values[i]) for _n, values in series]]
        for i, x in enumerate(x_values)
    ]
    chart = Chart(key, title, summary, headers, rows)
    if len(series) > 1:
        chart.legend = [
            (line["name"], "gestreepte lijn" if line["dashed"] else "doorgetrokken lijn")
            for line in drawn
        ]
    chart.svg = mark_safe(  # noqa: S308 -- rendered by a template that escapes every value
        render_to_string(
            "charts/lines.svg",
            {
                "chart": chart,
                "series": drawn,
                "width": WIDTH,
                "height": LINE_HEIGHT,
                "left": left,
                "right": right,
                "bottom": bottom,
                "upper": upper,
                "top": _number(top),
                "x_ticks": x_ticks,
            },
        )
    )
    return chart
