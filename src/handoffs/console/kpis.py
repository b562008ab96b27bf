"""KPI charts from the analytics data products (:mod:`handoffs.analytics`), per legal entity."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection

from handoffs.analytics import Scope, compute
from handoffs.console.charts import line_chart

__all__ = ["KPIS", "RANGES", "kpi_charts"]

# (product, column, title, unit, scale): a rate is shown in percent.
KPIS: tuple[tuple[str, str, str, str, int], ...] = (
    ("utilisation", "utilisation", "Utilisation (approved hours / capacity)", "%", 100),
    ("utilisation", "billable_utilisation", "Billable utilisation", "%", 100),
    ("straight_through", "rate", "Straight-through rate (no exception on the way to an invoice)", "%", 100),
    ("invoice_cycle_time", "median_days", "Invoice cycle time, median (approval to posting)", " days", 1),
    ("dso", "dso_days", "Days sales outstanding", " days", 1),
    ("exception_resolution", "median_hours", "Exception resolution, median hours", " hours", 1),
)


RANGES = (6, 12, 24)  # months the KPI page can show: the latest N months with data


def kpi_charts(
    conn: Connection, entity: str | None = None, months: int | None = None
) -> list[dict[str, Any]]:
    """One line chart per KPI: months on the x axis (the latest ``months`` of them, or all), a
    line per legal entity (and currency)."""
    names = sorted({k[0] for k in KPIS})
    products = compute(conn, Scope(entity=entity), names)
    out = []
    for product, column, title, unit, scale in KPIS:
        rows = products[product].rows
        periods = (
            sorted({r["period"] for r in rows})[-months:] if months else sorted({r["period"] for r in rows})
        )
        series: dict[str, dict[str, Decimal]] = defaultdict(dict)
        for r in rows:
            if r.get(column) is None:
                continue
            name = r["legal_entity_id"] + (f" {r['currency']}" if "currency" in r else "")
            series[name][r["period"]] = Decimal(r[column]) * scale
        chart: Markup = line_chart(
            periods, {n: [vals.get(p) for p in periods] for n, vals in sorted(series.items())}, title, unit
        )
        out.append({"title": title, "chart": chart, "rows": len(rows)})
    return out
