"""Closed periods in reports: what was reported when a period was closed is what is reported.

``handoffs period close ENTITY PERIOD`` keeps every data product's rows of that legal entity
and month (:func:`reported_at_close`). While the period stays closed, :func:`keep_closed`
puts those rows in place of whatever the store would give now, so nothing loaded, approved
or billed afterwards changes a closed month. Late items are not lost: their journals land
in the next open period, and the products report them there (see ``Context.posted``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from handoffs.analytics.base import Col, Product, Scope, add_months, ratio

__all__ = ["decode_rows", "encode_rows", "keep_closed", "widened"]

ZERO = Decimal(0)


def widened(scope: Scope, reported: Mapping[tuple[str, str], Any]) -> Scope:
    """The scope to compute before :func:`keep_closed`: from the first closed month on, when
    that is earlier, so the late items of a closed month are known whatever months are asked."""
    first = min((p for e, p in reported if scope.has_entity(e)), default=None)
    if first is None or scope.period_from is None or scope.period_from <= first:
        return scope
    return Scope(first, scope.period_to, scope.entity)


def encode_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready values (decimals as their exact text)."""
    return [{k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]


def decode_rows(rows: list[dict[str, Any]], columns: tuple[Col, ...]) -> list[dict[str, Any]]:
    """Rows read back from JSON, typed by the product's columns."""
    kinds = {c.name: c.kind for c in columns}
    return [
        {k: Decimal(v) if kinds.get(k) == "dec" and v is not None else v for k, v in r.items()} for r in rows
    ]


def keep_closed(
    products: dict[str, Product], reported: Mapping[tuple[str, str], dict[str, Any]], scope: Scope
) -> dict[str, Product]:
    """Each product with the rows of closed (entity, month)s replaced by those kept at close.

    Late hours and cost of a closed month (time approved after it was closed) are reported
    in the project's margin of the entity's next open month, like late revenue.

    Args:
        products: the products as computed from the store now, for months from the first
            closed one on (so what is late can be told), filtered to ``scope`` here.
        reported: per closed (entity, month), ``{"products": {name: rows}}`` kept at close.
        scope: the months and entity asked for.
    """
    for product in products.values():
        kept = [
            row
            for key, figures in sorted(reported.items())
            for row in decode_rows(figures.get("products", {}).get(product.name, []), product.columns)
        ]
        now = [r for r in product.rows if (r["legal_entity_id"], r["period"]) not in reported]
        if product.name == "project_margin":
            late = [r for r in product.rows if (r["legal_entity_id"], r["period"]) in reported]
            now = _carry_late_cost(now, late, kept, reported)
        rows = [r for r in (*now, *kept) if scope.has(r["legal_entity_id"], r["period"])]
        if reported:
            keys = [c.name for c in product.columns if c.kind == "str"]
            rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
        product.rows = rows
    return products


def _next_open(entity: str, period: str, closed: Mapping[tuple[str, str], Any]) -> str:
    while (entity, period) in closed:
        period = add_months(period, 1)
    return period


def _carry_late_cost(
    now: list[dict[str, Any]],
    late: list[dict[str, Any]],
    kept: list[dict[str, Any]],
    closed: Mapping[tuple[str, str], Any],
) -> list[dict[str, Any]]:
    """Margin rows of open months with the hours and cost a closed month gained after close."""
    grain = ("legal_entity_id", "period", "project_id", "currency")
    rows = {tuple(r[k] for k in grain): dict(r) for r in now}
    before = {tuple(r[k] for k in grain): r for r in kept}
    for row in late:
        key = tuple(row[k] for k in grain)
        was = before.get(key, {"hours": ZERO, "cost": ZERO})
        hours = row["hours"] - was["hours"]
        cost = None if row["cost"] is None or was["cost"] is None else row["cost"] - was["cost"]
        if not hours and not cost:
            continue
        entity, period, project, currency = key
        target = (entity, _next_open(entity, add_months(period, 1), closed), project, currency)
        into = rows.setdefault(
            target, dict(zip(grain, target, strict=True)) | {"hours": ZERO, "revenue": ZERO, "cost": ZERO}
        )
        into["hours"] += hours
        into["cost"] = None if cost is None or into["cost"] is None else into["cost"] + cost
        margin = None if into["cost"] is None else into["revenue"] - into["cost"]
        into["margin"], into["margin_pct"] = (
            margin,
            None if margin is None else ratio(margin, into["revenue"]),
        )
    return list(rows.values())
