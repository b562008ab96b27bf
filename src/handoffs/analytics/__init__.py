"""Analytics data products by legal entity and month, computed with set-based SQL over the store.

Each product is a function ``(Context) -> Product``; :func:`compute` runs the ones asked for
in one read of the store. Definitions and formulas: ``docs/analytics.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from sqlalchemy import Connection

from handoffs.analytics.base import Col, Context, Product, Scope
from handoffs.analytics.closed import encode_rows, keep_closed, widened
from handoffs.analytics.finance import backlog, dso, project_margin, wip
from handoffs.analytics.flow import exception_resolution, invoice_cycle_time, straight_through
from handoffs.analytics.group import consolidate
from handoffs.analytics.people import time_to_staff, utilisation
from handoffs.store.repositories.periods import read_reported

__all__ = ["PRODUCTS", "Col", "Product", "Scope", "compute", "reported_at_close"]

PRODUCTS: Final[dict[str, Callable[[Context], Product]]] = {
    "utilisation": utilisation,
    "backlog": backlog,
    "wip": wip,
    "dso": dso,
    "project_margin": project_margin,
    "invoice_cycle_time": invoice_cycle_time,
    "straight_through": straight_through,
    "time_to_staff": time_to_staff,
    "exception_resolution": exception_resolution,
}


def compute(
    conn: Connection,
    scope: Scope | None = None,
    names: Iterable[str] | None = None,
    *,
    as_closed: bool = True,
    group_currency: str | None = None,
) -> dict[str, Product]:
    """Compute data products (all by default) for a scope, sharing one read of the store.

    A legal entity's closed month (``handoffs period close``) reports the rows kept when it
    was closed; ``as_closed=False`` gives what the store holds now instead. With
    ``group_currency``, ``group_<name>`` products consolidate the money products into it.

    Raises:
        KeyError: an unknown product name.
    """
    scope = scope or Scope()
    reported = read_reported(conn) if as_closed else {}
    ctx = Context(conn, widened(scope, reported))
    wanted = list(names) if names is not None else list(PRODUCTS)
    products = {name: PRODUCTS[name](ctx) for name in wanted}
    products = keep_closed(products, reported, scope) if reported else products
    return products | consolidate(products, ctx.fx, group_currency.upper()) if group_currency else products


def reported_at_close(conn: Connection, entity: str, period: str) -> dict[str, Any]:
    """Every product's rows for one legal entity and month, as kept when the month is closed."""
    products = compute(conn, Scope(period, period, entity), as_closed=False)
    return {"products": {name: encode_rows(p.rows) for name, p in products.items()}}
