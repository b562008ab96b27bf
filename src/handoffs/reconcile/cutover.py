"""Whether an ERP migration may cut over: the checks ``handoffs erp cutover`` makes first.

both ERPs configured, different, not already cut over
  ─► no invoice of a period after PERIOD has gone to the old ERP (the switch is at a
     period boundary, never in the middle of a period already posted)
  ─► the shadow comparison (reconcile/coexistence.py) of everything routed to both
     ERPs has no difference
  ─► record the cut-over (store/repositories/cutovers.py) with its audit row, in one
     transaction; routing (domain/routing.py) reads it for every posting after that
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from handoffs.reconcile.coexistence import ComparisonReport, compare_erps
from handoffs.store.repositories.cutovers import read_cutovers
from handoffs.store.tables import deliveries, invoices

__all__ = ["CutoverCheck", "check_cutover", "posted_after"]


@dataclass(slots=True)
class CutoverCheck:
    """What stands in the way of a cut-over; ``ok`` when nothing does."""

    old: str
    new: str
    at_period: str
    problems: list[str] = field(default_factory=list)
    comparison: ComparisonReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "at": self.at_period,
            "ok": self.ok,
            "problems": self.problems,
            "comparison": self.comparison.as_dict() if self.comparison else None,
        }


def posted_after(conn: Connection, system: str, period: str) -> list[str]:
    """Invoices of periods after ``period`` already routed to ``system``."""
    d, i = deliveries.c, invoices.c
    query = (
        select(i.id)
        .join_from(deliveries, invoices, d.object_id == i.id)
        .where(d.system == system, d.operation == "post_invoice", i.period > period)
        .order_by(i.id)
    )
    return [str(r[0]) for r in conn.execute(query)]


def check_cutover(conn: Connection, erps: Mapping[str, Any], old: str, new: str, at: str) -> CutoverCheck:
    """Every reason not to cut ``old`` over to ``new`` at ``at`` (raises ``ValueError`` on a
    wrong pair of ERPs: a usage error, not a finding)."""
    if old == new:
        raise ValueError("--from and --to must name two different ERPs")
    for name in (old, new):
        if name not in erps:
            raise ValueError(f"{name!r} is not a configured ERP (ERPs: {', '.join(sorted(erps)) or 'none'})")
    check = CutoverCheck(old, new, at)
    done = [c for c in read_cutovers(conn) if c.old == old]
    if done:
        check.problems.append(f"{old} was already cut over to {done[0].new} at {done[0].at_period}")
        return check
    late = posted_after(conn, old, at)
    if late:
        check.problems.append(
            f"{len(late)} invoice(s) of periods after {at} already went to {old} (first: {late[0]}): "
            "cut over at a later period"
        )
    check.comparison = compare_erps(conn, erps, old, new)
    if check.comparison.differences:
        check.problems.append(
            f"the shadow comparison of {old} and {new} has "
            f"{len(check.comparison.differences)} difference(s): see handoffs erp compare"
        )
    elif not check.comparison.invoices and not check.comparison.journals:
        check.problems.append(
            f"nothing was routed to both {old} and {new}: there is no shadow comparison yet"
        )
    return check
