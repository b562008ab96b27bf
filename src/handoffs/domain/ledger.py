"""The billing ledger: which invoice line bills each source record right now.

Rule "billed exactly once": a time entry, expense, installment or milestone is billed by at
most one *live* invoice line. A credit note line lists the invoice line it credits (source
type ``invoice_line``) and the sources of that line it releases (all of them, some of them,
or none for a credit of an amount); a later invoice may bill released sources again. No
source of a line is credited twice and no line is credited for more than it billed. The
ledger is computed from the set of documents, not their arrival order, so a replay in any
order gives the same answer. Hours held on a write-down proposal (cap overflow) are taken
out of billing: only an entry's hours less its held hours can ever be billed.
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
    _credited: dict[str, dict[SourceKey, str]]  # invoice line id -> its credited sources -> credit line
    _credited_money: dict[str, tuple[Money, Money]]  # invoice line id -> (amount, tax) credited so far

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
        credited: dict[str, dict[SourceKey, str]] = defaultdict(dict)
        money: dict[str, tuple[Money, Money]] = {}
        for doc in docs:
            for line in doc.lines:
                lines[line.id] = (doc, line)
        for doc in docs:
            if doc.kind == "credit_note":
                for line in doc.lines:
                    _credit(line, doc, lines, credited, money)
        for target_id, done in credited.items():
            billed = lines[target_id][1]
            left = billed.amount + money[target_id][0], billed.tax + money[target_id][1]
            if len(done) == len(billed.sources) and not (left[0].is_zero and left[1].is_zero):
                raise AlreadyBilled(
                    f"credit note rule: every source of line {target_id} is credited, but its credits "
                    f"leave {left[0]} and tax {left[1]} of it (a credit computed on other documents)"
                )
        billing: dict[SourceKey, list[str]] = defaultdict(list)
        for doc in docs:
            if doc.kind != "invoice":
                continue
            for line in doc.lines:
                for ref in line.sources:
                    if _key(ref) not in credited.get(line.id, {}):
                        billing[_key(ref)].append(line.id)
        for key, line_ids in billing.items():
            if len(line_ids) > 1:
                raise AlreadyBilled(
                    f"billed exactly once: {key[0]} {key[1]} is billed on lines {', '.join(sorted(line_ids))}"
                )
        live = {key: ids[0] for key, ids in billing.items()}
        return cls(docs, dict(held or {}), live, lines, dict(credited), money)

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
        """Whether an invoice line has been credited in full (every source, or its whole amount)."""
        _, line = self.line(line_id)
        done = self._credited.get(line_id, {})
        if line.sources and all(_key(ref) in done for ref in line.sources):
            return True
        return line_id in self._credited_money and self.uncredited(line_id)[0].is_zero

    def credited_sources(self, line_id: str) -> set[SourceKey]:
        """The sources of an invoice line that credit notes have released so far."""
        return set(self._credited.get(line_id, {}))

    def uncredited(self, line_id: str) -> tuple[Money, Money]:
        """The amount and tax of an invoice line not credited yet."""
        _, line = self.line(line_id)
        amount, tax = self._credited_money.get(line_id, (Money.zero(line.amount.currency),) * 2)
        return line.amount + amount, line.tax + tax

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


def _credit(
    line: InvoiceLine,
    doc: Invoice,
    lines: Mapping[str, tuple[Invoice, InvoiceLine]],
    credited: dict[str, dict[SourceKey, str]],
    money: dict[str, tuple[Money, Money]],
) -> None:
    """Count one credit note line against the invoice line it credits, refusing a second
    credit of any source of that line or more money than the line billed."""
    targets = [ref.id for ref in line.sources if ref.type == "invoice_line"]
    for target_id in targets:
        target = lines.get(target_id)
        if target is None or target[0].id != doc.credits_invoice_id:
            raise AlreadyBilled(
                f"credit note rule: {line.id} credits {target_id}, "
                f"which is not a line of invoice {doc.credits_invoice_id}"
            )
        billed = target[1]
        own = {_key(ref) for ref in billed.sources}
        done = credited[target_id]
        for ref in line.sources:
            if ref.type == "invoice_line":
                continue
            if _key(ref) not in own:
                raise AlreadyBilled(
                    f"credit note rule: {line.id} releases {ref.id}, not billed on {target_id}"
                )
            if _key(ref) in done:
                raise AlreadyBilled(
                    f"credit note rule: line {target_id} is credited twice "
                    f"({ref.type} {ref.id} on {done[_key(ref)]} and {line.id})"
                )
            done[_key(ref)] = line.id
        zero = Money.zero(billed.amount.currency)
        amount, tax = money.get(target_id, (zero, zero))
        amount, tax = amount + line.amount, tax + line.tax
        if (billed.amount + amount).is_negative or (billed.tax + tax).is_negative:
            raise AlreadyBilled(
                f"credit note rule: line {target_id} is credited twice: credits of {-amount} "
                f"exceed its amount {billed.amount}"
            )
        money[target_id] = (amount, tax)


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
