"""The shadow comparison of an ERP migration: read back what each ERP accepted and compare.

    deliveries (post_invoice, post_journal) to the legacy ERP and to the new one
      ─► the invoices and journal entries routed to both
      ─► legacy connector.read_invoices / read_journals(ids)   the same on the new one
      ─► domain.coexistence.compare_postings ─► every difference (missing, currency,
         amounts, lines, accounts), with what each side holds

Nothing is written: the report reads the hub's delivery log and asks each ERP through its
connector, so it can run while both ERPs are live.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from handoffs.domain.coexistence import Difference, PostedDocument, compare_postings, compared_attributes
from handoffs.store.tables import deliveries

__all__ = ["ComparisonReport", "compare_erps", "sent_invoices"]


@dataclass(slots=True)
class ComparisonReport:
    legacy: str
    new: str
    invoices: int  # routed to both ERPs
    held: dict[str, int]  # invoices each ERP holds
    attributes: list[str]  # what both sides hold, so what could be compared
    differences: list[Difference] = field(default_factory=list)
    journals: int = 0  # journal entries routed to both ERPs
    journals_held: dict[str, int] = field(default_factory=dict)
    journals_compared: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        kinds = Counter(d.kind for d in self.differences)
        return {
            "legacy": self.legacy,
            "new": self.new,
            "invoices": self.invoices,
            "held": self.held,
            "compared": self.attributes,
            "journals": self.journals,
            "journals_held": self.journals_held,
            "journals_compared": self.journals_compared,
            "differences_total": len(self.differences),
            "differences_by_kind": dict(sorted(kinds.items())),
            "differences": [d.as_dict() for d in self.differences],
        }


def sent_invoices(conn: Connection, systems: tuple[str, ...], operation: str = "post_invoice") -> list[str]:
    """The invoices (and credit notes) routed to every one of ``systems``, delivered or not;
    with ``operation="post_journal"``, the journal entries."""
    c = deliveries.c
    query = (
        select(c.object_id)
        .where(c.operation == operation, c.system.in_(systems))
        .group_by(c.object_id)
        .having(func.count(func.distinct(c.system)) == len(systems))
        .order_by(c.object_id)
    )
    return [str(r[0]) for r in conn.execute(query)]


def _read(
    erps: Mapping[str, Any], system: str, ids: list[str], what: str = "invoices"
) -> dict[str, PostedDocument]:
    erp = erps.get(system)
    if erp is None:
        raise ValueError(f"{system!r} is not a configured ERP (systems: {', '.join(sorted(erps)) or 'none'})")
    read = getattr(erp, f"read_{what}", None)
    if read is None:
        raise ValueError(f"the {system} connector cannot read back the {what} it holds")
    found: dict[str, PostedDocument] = read(ids)
    return found


def compare_erps(conn: Connection, erps: Mapping[str, Any], legacy: str, new: str) -> ComparisonReport:
    """Compare what ``legacy`` and ``new`` accepted for every invoice the hub routed to both."""
    if legacy == new:
        raise ValueError("compare two different ERPs")
    ids = sent_invoices(conn, (legacy, new))
    held_legacy, held_new = _read(erps, legacy, ids), _read(erps, new, ids)
    report = ComparisonReport(
        legacy,
        new,
        len(ids),
        {legacy: len(held_legacy), new: len(held_new)},
        compared_attributes(held_legacy, held_new),
        compare_postings(ids, held_legacy, held_new),
    )
    journals = sent_invoices(conn, (legacy, new), "post_journal")
    if journals:
        j_legacy = _read(erps, legacy, journals, "journals")
        j_new = _read(erps, new, journals, "journals")
        report.journals, report.journals_held = len(journals), {legacy: len(j_legacy), new: len(j_new)}
        report.journals_compared = compared_attributes(j_legacy, j_new)
        report.differences += compare_postings(journals, j_legacy, j_new, "journal")
    return report
