"""``handoffs analytics``: export the data products, or show the KPIs per legal entity and month."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    check_period,
    console,
    open_app,
    print_json,
    require_schema,
)

app = typer.Typer(help="Analytics data products by legal entity and month.", no_args_is_help=True)

FromOption = Annotated[
    str | None, typer.Option("--period-from", help="First month, YYYY-MM.", callback=lambda v: _period(v))
]
ToOption = Annotated[
    str | None, typer.Option("--period-to", help="Last month, YYYY-MM.", callback=lambda v: _period(v))
]
EntityOption = Annotated[str | None, typer.Option("--entity", help="Only this legal entity.")]


def _period(value: str | None) -> str | None:
    return None if value is None else check_period(value)


GroupOption = Annotated[
    str | None,
    typer.Option(
        "--group-currency",
        help="Also consolidate the money products into this currency (ISO 4217), per entity and "
        "in total, at the store's FX rates: month average for the month's amounts, closing for balances.",
    ),
]


def _compute(
    database_url: str | None,
    period_from: str | None,
    period_to: str | None,
    entity: str | None,
    group_currency: str | None = None,
) -> Any:
    from handoffs.analytics import Scope, compute
    from handoffs.domain.errors import ValidationError

    hub = open_app(database_url, erp="none")
    require_schema(hub)
    try:
        with hub.engine.connect() as conn:
            try:
                return compute(conn, Scope(period_from, period_to, entity), group_currency=group_currency)
            except ValidationError as exc:
                raise typer.BadParameter(str(exc), param_hint="--group-currency") from None
    finally:
        hub.close()


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Directory to write one file per data product into.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    period_from: FromOption = None,
    period_to: ToOption = None,
    entity: EntityOption = None,
    group_currency: GroupOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write every data product to DIR as CSV or Parquet, one file per product."""
    from handoffs.analytics.export import FORMATS, write

    if fmt not in FORMATS:
        raise typer.BadParameter("must be csv or parquet", param_hint="--format")
    products = _compute(database_url, period_from, period_to, entity, group_currency)
    files = write(products.values(), out, fmt)
    summary = {
        p.name: {"file": str(f), "rows": len(p.rows)} for p, f in zip(products.values(), files, strict=True)
    }
    if as_json:
        print_json(summary)
        return
    for name, item in summary.items():
        console.print(f"{name:<22} {item['rows']:>7} rows  {item['file']}")


@app.command("show")
def show(
    period_from: FromOption = None,
    period_to: ToOption = None,
    entity: EntityOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A table of the KPIs per legal entity and month (money per currency, not converted)."""
    products = _compute(database_url, period_from, period_to, entity)
    kpis = summarise(products)
    if as_json:
        print_json(kpis)
        return
    from rich.table import Table

    table = Table(
        title="KPIs by legal entity and month",
        caption="util. utilisation, cycle d median days approval to posting, STP straight-through, "
        "staff d mean days to staff, exc. h median hours to resolve an exception",
    )
    for col in HEADINGS:
        key = col in ("entity", "month")
        table.add_column(col, no_wrap=key, overflow="fold", justify="left" if key else "right")
    for row in kpis:
        table.add_row(*[_cell(row.get(k), k in RATIOS) for k in KEYS])
    console.print(table)
    from handoffs.analytics.flow import straight_through_overall

    records, straight, rate = straight_through_overall(products["straight_through"].rows)
    if rate is not None:  # the same figure as the console's overview card
        console.print(f"Straight-through overall: {_cell(rate, True)} ({straight:,} of {records:,} records)")


@app.command("group")
def group(
    currency: Annotated[str, typer.Option("--currency", help="The group reporting currency (ISO 4217).")],
    period_from: FromOption = None,
    period_to: ToOption = None,
    entity: EntityOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Money KPIs consolidated into one currency, per legal entity and month and in total (ALL)."""
    from handoffs.domain.errors import ValidationError
    from handoffs.domain.money import check_currency

    try:
        check_currency(currency.upper(), "currency")
    except ValidationError as exc:
        raise typer.BadParameter(str(exc), param_hint="--currency") from None
    products = _compute(database_url, period_from, period_to, entity, currency)
    rows = group_summary(products)
    rates = products["group_fx_rates"].rows
    if as_json:
        print_json({"currency": currency.upper(), "rows": rows, "rates": rates})
        return
    from rich.table import Table

    table = Table(title=f"Group figures in {currency.upper()} (ALL: the group total)")
    keys = [*GROUP_COLUMNS, *(["missing_rates"] if any(r.get("missing_rates") for r in rows) else [])]
    for key in keys:
        left = key in ("legal_entity_id", "period")
        table.add_column(GROUP_COLUMNS.get(key, "no rate"), no_wrap=True, justify="left" if left else "right")
    for row in rows:
        table.add_row(*[_cell(row.get(k), k == "margin_pct") for k in keys])
    console.print(table)
    for r in rates:
        console.print(
            f"{r['period']} {r['currency']}->{r['group_currency']}: average {_cell(r['average_rate'])}, "
            f"closing {_cell(r['closing_rate'])}"
        )


GROUP_COLUMNS = {  # what fits 80 columns; --json has cost, backlog and the rest
    "legal_entity_id": "entity",
    "period": "month",
    "revenue": "revenue",
    "margin_pct": "margin %",
    "wip": "WIP",
    "receivables": "receivables",
    "dso_days": "DSO d",
}


def group_summary(products: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (entity or ALL, month) from the consolidated products."""
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    wanted = {
        "project_margin_group": ("revenue", "cost", "margin", "margin_pct"),
        "wip_group": ("wip",),
        "dso_group": ("receivables", "dso_days"),
        "backlog_group": ("backlog",),
    }
    for name, keys in wanted.items():
        for r in products[name].rows:
            found = rows[(r["legal_entity_id"], r["period"])]
            found.update({k: r[k] for k in keys})
            if r["missing_rates"]:
                found["missing_rates"] = r["missing_rates"]
    order = sorted(rows, key=lambda k: (k[1], k[0] == "ALL", k[0]))
    return [{"legal_entity_id": e, "period": p, **rows[(e, p)]} for e, p in order]


HEADINGS = (
    "entity",
    "month",
    "util.",
    "backlog",
    "WIP",
    "DSO d",
    "margin",
    "cycle d",
    "STP",
    "staff d",
    "exc. h",
)
KEYS = (
    "legal_entity_id",
    "period",
    "utilisation",
    "backlog",
    "wip",
    "dso_days",
    "margin_pct",
    "invoice_cycle_median_days",
    "straight_through_rate",
    "time_to_staff_days",
    "exception_median_hours",
)


def summarise(products: dict[str, Any]) -> list[dict[str, Any]]:
    """One row of headline KPIs per (legal entity, month), from the computed products."""
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)

    def put(product: str, target: str, source: str) -> None:
        for r in products[product].rows:
            rows[(r["legal_entity_id"], r["period"])][target] = r[source]

    def per_currency(product: str, target: str, source: str) -> None:
        for r in products[product].rows:
            found = rows[(r["legal_entity_id"], r["period"])].setdefault(target, {})
            if r[source] is not None:
                found[r["currency"]] = r[source]

    put("utilisation", "utilisation", "utilisation")
    per_currency("backlog", "backlog", "backlog")
    per_currency("wip", "wip", "wip")
    per_currency("dso", "dso_days", "dso_days")
    put("invoice_cycle_time", "invoice_cycle_median_days", "median_days")
    put("straight_through", "straight_through_rate", "rate")
    put("time_to_staff", "time_to_staff_days", "mean_days_to_staff")
    put("exception_resolution", "exception_median_hours", "median_hours")
    revenue: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in products["project_margin"].rows:
        if r["margin"] is not None and r["revenue"]:
            totals = revenue[(r["legal_entity_id"], r["period"], r["currency"])]
            totals[0] += r["revenue"]
            totals[1] += r["margin"]
    for (entity, period, currency), (rev, margin) in revenue.items():
        found = rows[(entity, period)].setdefault("margin_pct", {})
        found[currency] = (margin / rev).quantize(Decimal("0.0001"))
    return [{"legal_entity_id": e, "period": p, **v} for (e, p), v in sorted(rows.items())]


RATIOS = frozenset({"utilisation", "margin_pct", "straight_through_rate"})


def _cell(value: Any, percent: bool = False) -> str:
    if value is None or value == {}:
        return "—"
    if isinstance(value, dict):
        return "\n".join(f"{_cell(v, percent)} {c}" for c, v in sorted(value.items()))
    if percent:
        return f"{value * 100:.1f} %"
    return f"{value:,}" if isinstance(value, Decimal) else str(value)
