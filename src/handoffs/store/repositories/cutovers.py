"""ERP cut-overs in force (``erp_cutovers``, migration 0911): read by routing, written by the CLI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from handoffs.domain.routing import Cutover
from handoffs.store.tables import erp_cutovers

__all__ = ["read_cutovers", "record_cutover"]


def read_cutovers(conn: Connection) -> tuple[Cutover, ...]:
    """Every cut-over, in the order of its period."""
    c = erp_cutovers.c
    rows = conn.execute(select(c.from_system, c.to_system, c.at_period).order_by(c.at_period, c.from_system))
    return tuple(Cutover(r.from_system, r.to_system, r.at_period) for r in rows)


def record_cutover(conn: Connection, cutover: Cutover, at: datetime, actor: str) -> None:
    """Put ``cutover`` in force (in the caller's transaction); one per old ERP."""
    conn.execute(
        insert(erp_cutovers).values(
            from_system=cutover.old,
            to_system=cutover.new,
            at_period=cutover.at_period,
            created_at=at,
            actor=actor,
        )
    )
