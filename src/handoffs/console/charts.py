"""Charts drawn by Chart.js (vendored in ``static/``), from data the server puts in the page.

Each function takes labelled values and returns markup: a ``<canvas>`` whose
``data-chart`` attribute holds the chart's JSON (labels, series, unit), which
``static/charts.js`` hands to Chart.js (round axis ticks, the unit on the axis and in the
tooltips, a legend); the same values as a table for screen readers and for browsers without
JavaScript; or, with no data, a sentence saying what to run to get some. Values are numbers
already computed exactly elsewhere (ints or Decimals); a chart only draws them. Everything is
escaped by Jinja's attribute escaping, and no inline script is needed (the
Content-Security-Policy allows none).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import orjson
from markupsafe import Markup, escape

__all__ = ["EMPTY_HINT", "bar_chart", "line_chart"]

Number = int | float | Decimal
PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#4a5568")
EMPTY_HINT = (
    "No data yet. Run <code>handoffs demo</code> for a simulated firm, or load your systems' records "
    "(<code>handoffs load</code>, <code>handoffs sync</code>) and run <code>handoffs worker</code>."
)


def _num(value: Number | None) -> float | None:
    return None if value is None else float(value)  # for drawing only; the table keeps the exact text


def _chart(
    kind: str,
    labels: Sequence[str],
    series: dict[str, Sequence[Number | None]],
    title: str,
    unit: str,
    empty: str,
) -> Markup:
    if not labels or not any(v is not None for vals in series.values() for v in vals):
        return Markup(f'<p class="empty" data-testid="chart-empty">{empty}</p>')  # noqa: S704 - fixed text
    spec = {
        "type": kind,
        "title": title,
        "unit": unit.strip(),
        "labels": list(labels),
        "series": [
            {"name": name, "color": PALETTE[j % len(PALETTE)], "values": [_num(v) for v in values]}
            for j, (name, values) in enumerate(series.items())
        ],
    }
    head = "".join(f"<th scope='col'>{escape(name)}</th>" for name in series)
    rows = "".join(
        f"<tr><th scope='row'>{escape(label)}</th>"
        + "".join(
            f"<td>{'-' if vals[i] is None else escape(str(vals[i]))}{escape(unit)}</td>"
            for vals in series.values()
        )
        + "</tr>"
        for i, label in enumerate(labels)
    )
    return Markup(  # noqa: S704 - every label and value is escaped
        f'<figure class="chart" data-testid="chart"><canvas role="img" aria-label="{escape(title)}" '
        f'data-chart="{escape(orjson.dumps(spec).decode())}"></canvas>'
        f'<table class="sr-only"><caption>{escape(title)}</caption><tr><th scope="col">label</th>'
        f"{head}</tr>{rows}</table></figure>"
    )


def bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[Number]],
    title: str,
    unit: str = "",
    empty: str = EMPTY_HINT,
) -> Markup:
    """Grouped bars: one group per label, one bar per series; ``empty`` says what to run."""
    return _chart("bar", labels, dict(series), title, unit, empty)


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[Number | None]],
    title: str,
    unit: str = "",
    empty: str = EMPTY_HINT,
) -> Markup:
    """One line per series over the labels; a missing value (None) leaves a gap."""
    return _chart("line", labels, series, title, unit, empty)
