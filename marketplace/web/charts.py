"""Server-side SVG charts: pure functions from (label, value) pairs to escaped, CSP-safe markup.

Colours come from CSS classes in ``static/css/app.css`` (``.chart-bar``, ``.chart-slice-N``…), never from
inline styles. Every chart carries ``role="img"``, an ``aria-label`` and a ``<title>``; every label is escaped.
Values are ints (counts or cents); percentages are computed exactly with integers, only geometry uses floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from markupsafe import Markup, escape

Items = Sequence[tuple[str, int]]
ValueFormat = Callable[[int], str] | None

NO_DATA = "No data yet"
SVG_NS = "http://www.w3.org/2000/svg"
SLICE_CLASSES = 6
_CHAR_WIDTH = 7.0  # rough width of one 12px system-font character, for laying out label columns
_MAX_LABEL_CHARS = 28


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _default_format(value: int) -> str:
    return f"{value:,}"


def _fmt(value_format: ValueFormat, value: int) -> str:
    return (value_format or _default_format)(value)


def _short(label: str, limit: int = _MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _trusted(parts: list[str]) -> Markup:
    """The one place markup is assembled: every part was built from escape()d text and formatted numbers."""
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every part was escaped where interpolated


def _open_svg(kind: str, title: str, width: float, height: float) -> list[str]:
    size = f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" height="{_num(height)}"'
    return [
        f'<svg xmlns="{SVG_NS}" class="chart chart-{kind}" {size} role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]


def _text(x: float, y: float, text: str, css: str, anchor: str = "start", tooltip: str | None = None) -> str:
    inner = escape(text)
    if tooltip and tooltip != text:
        inner += Markup("<title>{}</title>").format(tooltip)
    return f'<text x="{_num(x)}" y="{_num(y)}" class="{css}" text-anchor="{anchor}">{inner}</text>'


def _line(css: str, x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="{css}" x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"/>'


def _rect(css: str, x: float, y: float, width: float, height: float, tooltip: str) -> str:
    return (
        f'<rect class="{css}" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}">'
        f"<title>{escape(tooltip)}</title></rect>"
    )


def _figure(kind: str, svg_parts: list[str], extra: list[str] | None = None) -> Markup:
    """Wrap a chart in its figure: bars and columns scroll sideways on small screens, the donut carries a legend."""
    css = "chart-figure chart-donut" if kind == "donut" else "chart-figure chart-scroll"
    return _trusted([f'<figure class="{css}">', *svg_parts, *(extra or []), "</figure>"])


def _empty_chart(kind: str, title: str, width: float) -> Markup:
    height = 80
    parts = _open_svg(kind, title, width, height)
    parts.append(_text(width / 2, height / 2 + 5, NO_DATA, "chart-empty", "middle"))
    parts.append("</svg>")
    return _figure(kind, parts)


def _clean(items: Items) -> list[tuple[str, int]]:
    return [(str(label), int(value)) for label, value in items]


def bar_chart(
    items: Items, title: str, value_format: ValueFormat = None, width: int = 640, bar_height: int = 22
) -> Markup:
    """Horizontal bars, one per (label, value), labels on the left and values at the bar ends.

    Negative values (a loss, a refund) grow left from a zero axis and use ``.chart-bar-alt``.
    """
    rows = _clean(items)
    if not rows or all(value == 0 for _, value in rows):
        return _empty_chart("bars", title, width)
    gap = max(4, bar_height // 3)
    label_chars = max(4, min(_MAX_LABEL_CHARS, int((width * 0.38 - 12) / _CHAR_WIDTH)))
    label_w = max(len(_short(label, label_chars)) for label, _ in rows) * _CHAR_WIDTH + 12
    value_texts = [_fmt(value_format, value) for _, value in rows]
    value_w = max(len(text) for text in value_texts) * _CHAR_WIDTH + 10
    low = min(0, min(value for _, value in rows))
    high = max(0, max(value for _, value in rows))
    plot_left = label_w
    plot_w = max(40.0, width - label_w - value_w * (2 if low < 0 else 1))
    if low < 0:
        plot_left += value_w
    scale = plot_w / (high - low)
    zero_x = plot_left - low * scale
    top = 8
    height = top + len(rows) * (bar_height + gap) + gap
    parts = _open_svg("bars", title, width, height)
    for index, ((label, value), value_text) in enumerate(zip(rows, value_texts, strict=True)):
        y = top + index * (bar_height + gap)
        mid = y + bar_height / 2 + 4
        length = abs(value) * scale
        x = zero_x - length if value < 0 else zero_x
        css = "chart-bar-alt" if value < 0 else "chart-bar"
        parts.append(_text(label_w - 8, mid, _short(label, label_chars), "chart-label", "end", tooltip=label))
        parts.append(_rect(css, x, y, length, bar_height, f"{label}: {value_text}"))
        if value < 0:
            parts.append(_text(x - 6, mid, value_text, "chart-value", "end"))
        else:
            parts.append(_text(zero_x + length + 6, mid, value_text, "chart-value"))
    parts.append(_line("chart-axis", zero_x, top - 4, zero_x, height - gap + 2))
    parts.append("</svg>")
    return _figure("bars", parts)


def _label_step(count: int, plot_w: float, widest: int) -> int:
    """Show every n-th x label so that labels never overlap."""
    room = plot_w / count
    need = widest * _CHAR_WIDTH + 6
    return max(1, math.ceil(need / room))


def column_chart(
    items: Items,
    title: str,
    value_format: ValueFormat = None,
    width: int = 640,
    height: int = 240,
    highlight: str | None = None,
) -> Markup:
    """Vertical columns for a distribution (histogram buckets in order); ``highlight`` marks one bucket
    (for example "your rating") with ``.chart-bar-alt``. Counts must not be negative."""
    rows = _clean(items)
    if any(value < 0 for _, value in rows):
        raise ValueError("column_chart needs non-negative counts")
    if not rows or all(value == 0 for _, value in rows):
        return _empty_chart("columns", title, width)
    peak = max(value for _, value in rows)
    peak_text = _fmt(value_format, peak)
    left = len(peak_text) * _CHAR_WIDTH + 14
    top, bottom, right = 12, 28, 8
    plot_w = width - left - right
    plot_h = height - top - bottom
    slot = plot_w / len(rows)
    bar_w = max(1.0, slot * 0.78)
    base_y = top + plot_h
    step = _label_step(len(rows), plot_w, max(len(_short(label, 14)) for label, _ in rows))
    parts = _open_svg("columns", title, width, height)
    for fraction in (Fraction(1, 2), Fraction(1)):
        y = base_y - float(fraction) * plot_h
        tick = _fmt(value_format, int(peak * fraction)) if fraction == 1 or peak % 2 == 0 else ""
        parts.append(_line("chart-grid", left, y, width - right, y))
        if tick:
            parts.append(_text(left - 6, y + 4, tick, "chart-label", "end"))
    parts.append(_text(left - 6, base_y + 4, _fmt(value_format, 0), "chart-label", "end"))
    for index, (label, value) in enumerate(rows):
        bar_h = value / peak * plot_h
        x = left + index * slot + (slot - bar_w) / 2
        css = "chart-bar-alt" if highlight is not None and label == highlight else "chart-bar"
        parts.append(_rect(css, x, base_y - bar_h, bar_w, bar_h, f"{label}: {_fmt(value_format, value)}"))
        if index % step == 0:
            parts.append(_text(x + bar_w / 2, base_y + 17, _short(label, 14), "chart-label", "middle", tooltip=label))
    parts.append(_line("chart-axis", left, base_y, width - right, base_y))
    parts.append("</svg>")
    return _figure("columns", parts)


def whole_percentages(values: Sequence[int]) -> list[int]:
    """Whole percentages that sum to exactly 100 (largest remainder; ties go to the earlier item).

    All-zero input gives all zeros. Values must be non-negative integers.
    """
    total = sum(values)
    if total == 0:
        return [0 for _ in values]
    exact = [Fraction(value * 100, total) for value in values]
    floors = [share.numerator // share.denominator for share in exact]
    short = 100 - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:short]:
        floors[index] += 1
    return floors


def _fold_tail(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Keep the five largest items and sum the rest into "Other", so six colours always suffice."""
    if len(rows) <= SLICE_CLASSES:
        return rows
    ranked = sorted(rows, key=lambda row: -row[1])
    kept = ranked[: SLICE_CLASSES - 1]
    return kept + [("Other", sum(value for _, value in ranked[SLICE_CLASSES - 1 :]))]


def _point(cx: float, cy: float, radius: float, turn: float) -> tuple[float, float]:
    angle = 2 * math.pi * turn - math.pi / 2  # start at twelve o'clock, go clockwise
    return cx + radius * math.cos(angle), cy + radius * math.sin(angle)


def _ring_segment(cx: float, cy: float, outer: float, inner: float, start: float, end: float) -> str:
    large = 1 if end - start > 0.5 else 0
    ox1, oy1 = _point(cx, cy, outer, start)
    ox2, oy2 = _point(cx, cy, outer, end)
    ix2, iy2 = _point(cx, cy, inner, end)
    ix1, iy1 = _point(cx, cy, inner, start)
    return (
        f"M{_num(ox1)} {_num(oy1)}A{_num(outer)} {_num(outer)} 0 {large} 1 {_num(ox2)} {_num(oy2)}"
        f"L{_num(ix2)} {_num(iy2)}A{_num(inner)} {_num(inner)} 0 {large} 0 {_num(ix1)} {_num(iy1)}Z"
    )


def donut_chart(items: Items, title: str, value_format: ValueFormat = None, size: int = 220) -> Markup:
    """A donut with the total in the middle and an HTML legend listing value and share of each item.

    Returns ``<figure class="chart-figure chart-donut">`` holding the SVG and a ``<ul class="chart-legend">``
    (bar and column charts come in ``<figure class="chart-figure chart-scroll">``).
    More than six items are folded into "Other". Values must not be negative.
    """
    rows = _clean(items)
    if any(value < 0 for _, value in rows):
        raise ValueError("donut_chart needs non-negative values")
    total = sum(value for _, value in rows)
    if not rows or total == 0:
        return _empty_chart("donut", title, size)
    rows = _fold_tail(rows)
    shares = whole_percentages([value for _, value in rows])
    cx = cy = size / 2
    outer, inner = size / 2 - 4, size / 2 * 0.58
    parts = _open_svg("donut", title, size, size)
    legend = []
    start = Fraction(0)
    for index, ((label, value), share) in enumerate(zip(rows, shares, strict=True)):
        css = f"chart-slice-{index % SLICE_CLASSES + 1}"
        tooltip = f"<title>{escape(label)}: {escape(_fmt(value_format, value))} ({share}%)</title>"
        end = start + Fraction(value, total)
        if value == total:  # a full ring cannot be one arc: draw two halves
            for half_start, half_end in ((0.0, 0.5), (0.5, 1.0)):
                path = _ring_segment(cx, cy, outer, inner, half_start, half_end)
                parts.append(f'<path class="chart-slice {css}" d="{path}">{tooltip}</path>')
        elif value:
            path = _ring_segment(cx, cy, outer, inner, float(start), float(end))
            parts.append(f'<path class="chart-slice {css}" d="{path}">{tooltip}</path>')
        start = end
        legend.append(
            f'<li><span class="legend-swatch legend-swatch-{index % SLICE_CLASSES + 1}" aria-hidden="true"></span>'
            f'<span class="legend-label">{escape(label)}</span>'
            f'<span class="legend-value">{escape(_fmt(value_format, value))} ({share}%)</span></li>'
        )
    parts.append(_text(cx, cy + 7, _fmt(value_format, total), "chart-total", "middle"))
    parts.append("</svg>")
    legend_list = [f'<ul class="chart-legend" aria-label="{escape(title)}: legend">', *legend, "</ul>"]
    return _figure("donut", parts, legend_list)
