"""The billing ledger: which invoice line bills each source record right now.

Rule "billed exactly once": a time entry, expense, installment or milestone is billed by at
most one *live* invoice line. A credit note line lists the invoice line it credits (source
type ``invoice_line``) and, with it, every source of that line; crediting a line releases
those sources so that a later invoice may bill them again. The ledger is computed from the
set of documents, not their arrival order, so a replay in any order gives the same answer.
Hours held on a write-down proposal (cap overflow) are taken out of billing: only an entry's
hours less its held hours can ever be billed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from handoffs.domain.billing import Invoice, InvoiceLine, SourceRef
from handoffs.domain.errors import DomainError
from handoffs.domain.money import Money

__all__ = ["AlreadyBilled", "BillingLedger", "fee_billed_to_date"]

SourceKey = tuple[str, str]


class AlreadyBilled(DomainError):
    """A source record would be billed a second time, or a line credited twice."""


def _key(ref: SourceRef) -> SourceKey:
    return (ref.type, ref.id)


@dataclass(frozen=True, slots=True)
class BillingLedger:
    """Billing state derived from invoices, credit notes and held write-downs.

    Build it with :meth:`from_documents`; it is immutable, and :meth:`with_documents`
    returns a new ledger that also counts more documents.
    """

    documents: tuple[Invoice, ...]
    held: Mapping[str, Decimal]  # time entry id -> hours held on write-down proposals
    _live: dict[SourceKey, str]
    _lines: dict[str, tuple[Invoice, InvoiceLine]]
    _credited: dict[str, str]  # credited invoice line id -> credit note line id

    @classmethod
    def from_documents(
        cls, documents: Iterable[Invoice] = (), held: Mapping[str, Decimal] | None = None
    ) -> BillingLedger:
        """Derive the ledger.

        Args:
            documents: every invoice and credit note issued so far (any order).
            held: hours of each time entry held on write-down proposals (never billed);
                see ``invoicing.held_hours``.

        Raises:
            AlreadyBilled: a source is on two live lines, or a line is credited twice or
                is not a line of the invoice the credit note credits.
        """
        docs = tuple(sorted(documents, key=lambda d: d.id))
        lines: dict[str, tuple[Invoice, InvoiceLine]] = {}
        credited: dict[str, str] = {}
        for doc in docs:
            for line in doc.lines:
                lines[line.id] = (doc, line)
        for doc in docs:
            if doc.kind != "credit_note":
                continue
            for line in doc.lines:
                for ref in line.sources:
                    if ref.type != "invoice_line":
                        continue
                    target = lines.get(ref.id)
                    if target is None or target[0].id != doc.credits_invoice_id:
                        raise AlreadyBilled(
                            f"credit note rule: {line.id} credits {ref.id}, "
                            f"which is not a line of invoice {doc.credits_invoice_id}"
                        )
                    if ref.id in credited:
                        raise AlreadyBilled(
                            f"credit note rule: line {ref.id} is credited twice "
                            f"({credited[ref.id]} and {line.id})"
                        )
                    credited[ref.id] = line.id
        billing: dict[SourceKey, list[str]] = defaultdict(list)
        for doc in docs:
            if doc.kind != "invoice":
                continue
            for line in doc.lines:
                if line.id in credited:
                    continue
                for ref in line.sources:
                    billing[_key(ref)].append(line.id)
        for key, line_ids in billing.items():
            if len(line_ids) > 1:
                raise AlreadyBilled(
                    f"billed exactly once: {key[0]} {key[1]} is billed on lines {', '.join(sorted(line_ids))}"
                )
        live = {key: ids[0] for key, ids in billing.items()}
        return cls(docs, dict(held or {}), live, lines, credited)

    def with_documents(self, *documents: Invoice, held: Mapping[str, Decimal] | None = None) -> BillingLedger:
        """A new ledger that also counts ``documents`` and more ``held`` hours."""
        merged = dict(self.held)
        for entry_id, hours in (held or {}).items():
            merged[entry_id] = merged.get(entry_id, Decimal(0)) + hours
        return BillingLedger.from_documents([*self.documents, *documents], merged)

    def held_hours(self, entry_id: str) -> Decimal:
        """Hours of a time entry held on write-down proposals."""
        return self.held.get(entry_id, Decimal(0))

    def line_billing(self, ref: SourceRef) -> str | None:
        """The live invoice line that bills ``ref``, or None when it is unbilled."""
        return self._live.get(_key(ref))

    def is_billed(self, ref: SourceRef) -> bool:
        """Whether a live invoice line bills ``ref``."""
        return _key(ref) in self._live

    def is_credited(self, line_id: str) -> bool:
        """Whether an invoice line has been credited."""
        return line_id in self._credited

    def line(self, line_id: str) -> tuple[Invoice, InvoiceLine]:
        """The document and line with this id."""
        try:
            return self._lines[line_id]
        except KeyError:
            raise AlreadyBilled(f"billing ledger: no invoice line {line_id}") from None

    def billed_sources(self, source_type: str) -> dict[str, str]:
        """Ids of the sources of one type that are billed, with the line billing each."""
        return {key[1]: line for key, line in self._live.items() if key[0] == source_type}

    def require_unbilled(self, refs: Iterable[SourceRef]) -> None:
        """Raise AlreadyBilled if any of ``refs`` is billed by a live line."""
        for ref in refs:
            line = self.line_billing(ref)
            if line is not None:
                raise AlreadyBilled(f"billed exactly once: {ref.type} {ref.id} is already billed on {line}")


def fee_billed_to_date(documents: Iterable[Invoice], contract_id: str, currency: str) -> Money:
    """Net time (fee) billed on a contract: time lines of invoices less those credited.

    This is the amount a not-to-exceed cap is measured against; expenses do not count.
    """
    total = Money.zero(currency)
    for doc in documents:
        if doc.contract_id == contract_id:
            for line in doc.lines:
                if line.kind == "time":
                    total = total + line.amount
    return total
