"""Charts as inline SVG, drawn on the server: no JavaScript, no chart library.

Each function takes labelled values and returns markup for a template; labels and values are
escaped. Values are plain numbers (ints or Decimals) already computed exactly elsewhere: a
chart only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

__all__ = ["bar_chart", "line_chart"]

Number = int | float | Decimal
_W, _H, _PAD_L, _PAD_B, _PAD_T = 640, 220, 56, 44, 16
PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096")


def _fmt(value: Number) -> str:
    v = float(value)
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if v == int(v) or abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}"


def _frame(top: float, title: str) -> list[str]:
    plot_h = _H - _PAD_B - _PAD_T
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = _PAD_T + plot_h * i / 4
        parts.append(f'<line x1="{_PAD_L}" x2="{_W - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        label = _fmt(top * (4 - i) / 4) if top else "0"
        parts.append(f'<text x="{_PAD_L - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{label}</text>')
    return parts


def _labels(labels: Sequence[str], xs: Sequence[float]) -> list[str]:
    widest = 7 * max((len(label) for label in labels), default=1) + 10  # px, at the axis font size
    step = max(1, math.ceil(len(labels) * widest / (_W - _PAD_L - 8)))
    return [
        f'<text x="{x:.1f}" y="{_H - _PAD_B + 16}" class="axis" text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % step == 0
    ]


def bar_chart(
    labels: Sequence[str], series: dict[str, Sequence[Number]], title: str, unit: str = ""
) -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    if not labels:
        return Markup('<p class="empty">No data yet.</p>')
    top = max((float(v) for vals in series.values() for v in vals), default=0.0) or 1.0
    plot_w, plot_h = _W - _PAD_L - 8, _H - _PAD_B - _PAD_T
    group = plot_w / len(labels)
    width = max(1.0, group * 0.8 / max(1, len(series)))
    parts = _frame(top, title)
    centers = []
    for i in range(len(labels)):
        x0 = _PAD_L + i * group + group * 0.1
        centers.append(x0 + group * 0.4)
        for j, (name, values) in enumerate(series.items()):
            v = float(values[i])
            h = plot_h * v / top
            parts.append(
                f'<rect x="{x0 + j * width:.1f}" y="{_PAD_T + plot_h - h:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(name)} '
                f"{escape(labels[i])}: {escape(_fmt(values[i]))}{escape(unit)}</title></rect>"
            )
    parts += _labels(labels, centers)
    parts += _legend(list(series))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value is escaped above


def line_chart(
    labels: Sequence[str], series: dict[str, Sequence[Number | None]], title: str, unit: str = ""
) -> Markup:
    """One polyline per series over the labels; a missing value (None) breaks the line."""
    if not labels:
        return Markup('<p class="empty">No data yet.</p>')
    top = max((float(v) for vals in series.values() for v in vals if v is not None), default=0.0) or 1.0
    plot_w, plot_h = _W - _PAD_L - 8, _H - _PAD_B - _PAD_T
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0
    xs = [_PAD_L + (i * step if len(labels) > 1 else plot_w / 2) for i in range(len(labels))]
    parts = _frame(top, title)
    for j, (name, values) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        run: list[str] = []
        for x, v in zip(xs, values, strict=True):
            if v is None:
                parts += _polyline(run, color)
                run = []
                continue
            y = _PAD_T + plot_h - plot_h * float(v) / top
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)}: '
                f"{escape(_fmt(v))}{escape(unit)}</title></circle>"
            )
        parts += _polyline(run, color)
    parts += _labels(labels, xs)
    parts += _legend(list(series))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value is escaped above


def _polyline(points: list[str], color: str) -> list[str]:
    if len(points) < 2:
        return []
    return [f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" stroke-width="2"/>']


def _legend(names: list[str]) -> list[str]:
    if len(names) < 2:
        return []
    out, x = [], _PAD_L
    for j, name in enumerate(names):
        out.append(f'<rect x="{x}" y="{_H - 14}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14}" y="{_H - 5}" class="axis">{escape(name)}</text>')
        x += 14 + 7 * len(name) + 16
    return out
