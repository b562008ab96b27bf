"""Group reporting currency: the money products consolidated per legal entity and in total.

Each money product (backlog, WIP, DSO, project margin) is reported in the document's
currency. :func:`consolidate` converts each row's amounts into one group currency at the
FX rate in the store in force on the month's last day, sums them per legal entity and
month, and adds a ``TOTAL`` row per month. Amounts are rounded once after summing; ratios
(DSO days, margin %) are recomputed from the consolidated amounts; an amount that cannot be
converted (no rate in force) leaves the consolidated figure empty rather than wrong.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from handoffs.analytics.base import Product, money, month_end, ratio
from handoffs.domain.errors import NoEffectiveRate
from handoffs.domain.fx import FxTable
from handoffs.domain.money import Money

__all__ = ["GROUPED", "TOTAL", "consolidate"]

TOTAL = "TOTAL"
GROUPED = ("backlog", "wip", "dso", "project_margin")
_RATIOS = {"dso_days": ("receivables", "billed_3m", "days_3m"), "margin_pct": ("margin", "revenue", None)}


def consolidate(products: dict[str, Product], currency: str, fx: FxTable) -> dict[str, Product]:
    """``group_<name>`` products in ``currency`` for each money product present."""
    return {f"group_{name}": _one(products[name], currency, fx) for name in GROUPED if name in products}


def _one(product: Product, currency: str, fx: FxTable) -> Product:
    columns = tuple(c for c in product.columns if c.name != "project_id")
    amounts = [c.name for c in columns if c.kind == "dec" and c.scale == 4]
    counts = [c.name for c in columns if c.name not in amounts and c.name not in _RATIOS and c.kind != "str"]
    sums: dict[tuple[str, str], dict[str, Decimal | None]] = defaultdict(dict)
    for row in product.rows:
        day = month_end(row["period"])
        for entity in (row["legal_entity_id"], TOTAL):
            into = sums[(row["period"], entity)]
            for name in amounts:
                into[name] = _add(
                    into.get(name, Decimal(0)), _convert(row[name], row["currency"], currency, day, fx)
                )
            for name in counts:
                if name == "days_3m":
                    into[name] = row[name]
                else:
                    into[name] = (into.get(name) or Decimal(0)) + (row[name] or 0)
    out = Product(f"group_{product.name}", columns)
    for (period, entity), values in sorted(
        sums.items(), key=lambda kv: (kv[0][0], kv[0][1] == TOTAL, kv[0][1])
    ):
        out_row: dict[str, Any] = {"legal_entity_id": entity, "period": period, "currency": currency}
        out_row |= {n: None if values.get(n) is None else money(values[n], currency) for n in amounts}  # type: ignore[arg-type]
        out_row |= {n: values.get(n) for n in counts}
        if "margin" in amounts and out_row["margin"] is not None:
            out_row["margin"] = out_row["revenue"] - out_row["cost"]  # as reported: from the rounded figures
        for name, (num, den, days) in _RATIOS.items():
            if name in {c.name for c in columns}:
                out_row[name] = _ratio(out_row, num, den, days)
        out.rows.append(out_row)
    return out


def _convert(amount: Decimal | None, source: str, currency: str, day: Any, fx: FxTable) -> Decimal | None:
    if amount is None:
        return None
    try:
        return fx.convert(Money(amount, source), currency, day).converted.amount
    except NoEffectiveRate:
        return None


def _add(total: Decimal | None, value: Decimal | None) -> Decimal | None:
    return None if total is None or value is None else total + value


def _ratio(row: dict[str, Any], num: str, den: str, days: str | None) -> Decimal | None:
    if row.get(num) is None or not row.get(den):
        return None
    if days is not None:
        return ratio(row[num] * row[days], row[den], 2) if row[den] > 0 else None
    return ratio(row[num], row[den])
