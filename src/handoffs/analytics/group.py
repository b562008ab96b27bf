"""Money products consolidated into one group reporting currency, per entity and in total.

Each money product (backlog, wip, dso, project_margin) is kept per legal entity and
currency; a group reports them in one currency. The rates come from the store's FX table
(the same dated rates billing uses, direct, inverse or cross, :class:`~handoffs.domain.fx.FxTable`):

* amounts *of the month* (revenue, cost, margin, recognised and billed in the period) at the
  month's **average rate**: the mean of the rate in force on each calendar day of the month;
* balances *at the month end* (backlog, WIP, deferred revenue, to-date totals, receivables)
  at the **closing rate**: the rate in force on the month's last day. DSO's two amounts are
  both taken at the closing rate, so an entity's DSO in the group currency is its own.

Every converted amount is rounded once, to the group currency's minor unit, per
(entity, month, currency); the entity row sums those, and the ``ALL`` row sums the entities.
A currency with no rate for the month leaves the amounts it feeds empty and is named in
``missing_rates``. Ratios (margin %, DSO days) are recomputed from the converted amounts.
The rates used are a product of their own (``group_fx_rates``), for the auditor.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from handoffs.analytics.base import Col, Product, money, month_end, ratio
from handoffs.domain.fx import FxTable, NoFxRate
from handoffs.domain.money import check_currency

__all__ = ["ALL", "GROUPED", "Rates", "consolidate"]

ALL = "ALL"  # the legal_entity_id of a month's group total


@dataclass(frozen=True, slots=True)
class Grouped:
    """How one product consolidates: its amounts of the month and its month-end balances."""

    flows: tuple[str, ...] = ()
    balances: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()  # plain numbers summed as they are (hours, contract counts)


GROUPED: Mapping[str, Grouped] = {
    "backlog": Grouped(
        balances=("fixed_fee_remaining", "milestone_remaining", "capped_tm_remaining", "backlog"),
        sums=("contracts",),
    ),
    "wip": Grouped(
        flows=("recognised_in_period", "billed_in_period"),
        balances=("recognised_to_date", "billed_to_date", "wip", "deferred_revenue"),
    ),
    "dso": Grouped(balances=("receivables", "billed_3m")),
    "project_margin": Grouped(flows=("revenue", "cost"), sums=("hours",)),  # margin: revenue - cost
}
_SCALES = {"hours": 2, "contracts": 0}


class Rates:
    """Average and closing rates into one currency, per (currency, month), computed once."""

    def __init__(self, fx: FxTable, group: str) -> None:
        self.fx, self.group = fx, group
        self._average: dict[tuple[str, str], Decimal | None] = {}
        self._closing: dict[tuple[str, str], Decimal | None] = {}

    def _on(self, currency: str, day: date) -> Decimal:
        return Decimal(1) if currency == self.group else self.fx.cross_on(currency, self.group, day)[0]

    def closing(self, currency: str, period: str) -> Decimal | None:
        key = (currency, period)
        if key not in self._closing:
            try:
                self._closing[key] = self._on(currency, month_end(period))
            except NoFxRate:
                self._closing[key] = None
        return self._closing[key]

    def average(self, currency: str, period: str) -> Decimal | None:
        key = (currency, period)
        if key not in self._average:
            year, month = int(period[:4]), int(period[5:7])
            days = calendar.monthrange(year, month)[1]
            try:
                with localcontext() as c:
                    c.prec = 28
                    total = sum(
                        (self._on(currency, date(year, month, d)) for d in range(1, days + 1)), Decimal(0)
                    )
                    self._average[key] = total / days
            except NoFxRate:
                self._average[key] = None
        return self._average[key]

    def product(self) -> Product:
        """The rates used, per currency and month."""
        columns = (
            Col("period"),
            Col("currency"),
            Col("group_currency"),
            Col("average_rate", "dec", 10),
            Col("closing_rate", "dec", 10),
        )
        keys = sorted(set(self._average) | set(self._closing), key=lambda k: (k[1], k[0]))
        rows = [
            {
                "period": period,
                "currency": currency,
                "group_currency": self.group,
                "average_rate": _shown(self._average.get((currency, period))),
                "closing_rate": _shown(self._closing.get((currency, period))),
            }
            for currency, period in keys
            if currency != self.group
        ]
        return Product("group_fx_rates", columns, rows)


def _shown(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else rate.quantize(Decimal("0.0000000001"))


def consolidate(products: Mapping[str, Product], fx: FxTable, group_currency: str) -> dict[str, Product]:
    """``<name>_group`` for each money product present, and ``group_fx_rates``.

    Raises:
        ValidationError: ``group_currency`` is not an ISO 4217 code.
    """
    check_currency(group_currency, "group_currency")
    rates = Rates(fx, group_currency)
    grouped = [_group(products[name], how, rates) for name, how in GROUPED.items() if name in products]
    return {p.name: p for p in (*grouped, rates.product())}


def _group(product: Product, how: Grouped, rates: Rates) -> Product:
    amounts = (*how.flows, *how.balances)
    columns = (
        Col("legal_entity_id"),
        Col("period"),
        Col("group_currency"),
        *(Col(n, "int") if _SCALES[n] == 0 else Col(n, "dec", _SCALES[n]) for n in how.sums),
        *(Col(n, "dec", 4) for n in amounts),
        *_ratio_columns(product.name),
        Col("missing_rates"),
    )
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    missing: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in product.rows:
        for key in ((row["legal_entity_id"], row["period"]), (ALL, row["period"])):
            target = cells[key]
            for name in how.sums:
                target[name] = _add(target.get(name, Decimal(0)), row.get(name))
            for name in amounts:
                rate = (rates.average if name in how.flows else rates.closing)(row["currency"], row["period"])
                if row.get(name) is None:
                    target.setdefault(name, Decimal(0))
                    continue
                if rate is None:
                    missing[key].add(row["currency"])
                    target[name] = None
                    continue
                converted = money(Decimal(row[name]) * rate, rates.group)
                target[name] = _add(target.get(name, Decimal(0)), converted)
    rows = []
    for (entity, period), values in sorted(
        cells.items(), key=lambda kv: (kv[0][1], kv[0][0] == ALL, kv[0][0])
    ):
        row = {"legal_entity_id": entity, "period": period, "group_currency": rates.group, **values}
        row.update(_ratios(product.name, row, product.rows, period))
        row["missing_rates"] = " ".join(sorted(missing[(entity, period)])) or None
        row.update({n: int(row[n]) for n in how.sums if _SCALES[n] == 0 and row[n] is not None})
        rows.append(row)
    return Product(f"{product.name}_group", columns, rows)


def _add(total: Decimal | None, value: Any) -> Decimal | None:
    if total is None:
        return None
    return total + Decimal(value) if value is not None else total


def _ratio_columns(name: str) -> tuple[Col, ...]:
    if name == "project_margin":
        return (Col("margin", "dec", 4), Col("margin_pct", "dec", 4))
    if name == "dso":
        return (Col("days_3m", "int"), Col("dso_days", "dec", 2))
    return ()


def _ratios(name: str, row: dict[str, Any], source: list[dict[str, Any]], period: str) -> dict[str, Any]:
    if name == "project_margin":
        revenue, cost = row.get("revenue"), row.get("cost")
        margin = revenue - cost if revenue is not None and cost is not None else None
        return {
            "margin": margin,
            "margin_pct": ratio(margin, revenue) if revenue and margin is not None else None,
        }
    if name == "dso":
        days = next((r["days_3m"] for r in source if r["period"] == period), None)
        receivables, billed = row.get("receivables"), row.get("billed_3m")
        dso = None
        if days is not None and receivables is not None and billed:
            dso = ratio(receivables * days, billed, 2) if billed > 0 else None
        return {"days_3m": days, "dso_days": dso}
    return {}
