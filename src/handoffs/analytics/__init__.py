"""Analytics data products by legal entity and month, computed with set-based SQL over the store.

Each product is a function ``(Context) -> Product``; :func:`compute` runs the ones asked for
in one read of the store. Definitions and formulas: ``docs/analytics.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from sqlalchemy import Connection

from handoffs.analytics.base import Col, Context, Product, Scope
from handoffs.analytics.finance import backlog, dso, project_margin, wip
from handoffs.analytics.flow import exception_resolution, invoice_cycle_time, straight_through
from handoffs.analytics.people import time_to_staff, utilisation

__all__ = ["PRODUCTS", "Col", "Product", "Scope", "compute"]

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
    conn: Connection, scope: Scope | None = None, names: Iterable[str] | None = None
) -> dict[str, Product]:
    """Compute data products (all by default) for a scope, sharing one read of the store.

    Raises:
        KeyError: an unknown product name.
    """
    ctx = Context(conn, scope or Scope())
    wanted = list(names) if names is not None else list(PRODUCTS)
    return {name: PRODUCTS[name](ctx) for name in wanted}
