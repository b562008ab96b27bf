"""Credit notes that stay consistent with every other document on the invoice.

* Issuing a credit note withdraws the open credit-and-rebill proposals on that invoice: they
  were computed against documents that no longer hold (approving one would credit the same
  line a second time). A withdrawn adjustment's held change to billed time is proposed again
  against the current documents, or applied at once when the credit note released the entry.
* Approving a proposal re-checks its documents against the current ones first.
* A credit of an amount on a time-and-materials contract is a price concession: it lowers
  revenue recognised as delivered by the same amount, so no stray balance stays in the
  contract asset.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handoffs.domain.billing import Invoice, RevenueEvent
from handoffs.domain.credit_notes import is_current
from handoffs.domain.errors import ValidationError
from handoffs.domain.ledger import AlreadyBilled, BillingLedger

__all__ = [
    "billed_hours",
    "concession",
    "discount_revenue",
    "recheck",
    "tax_rates",
    "withdraw_open_proposals",
]


def tax_rates(uow: Any) -> dict[str, Decimal]:
    """Every tax code's rate by id."""
    return {t.id: t.rate for t in uow.objects.all("tax_code")}


def billed_hours(uow: Any, invoice: Invoice) -> dict[str, Decimal]:
    """The hours of the time entries an invoice billed (to value what stays on a line)."""
    billed = [s.id for s in invoice.sources if s.type == "time_entry"]
    return {i: e.entry.hours for i in billed if (e := uow.time_entries.get(i)) is not None}


def withdraw_open_proposals(uow: Any, invoice_id: str, document_id: str) -> list[Any]:
    """Withdraw every open credit-and-rebill proposal on ``invoice_id``; returns them."""
    withdrawn = []
    for p in uow.finance.proposals(state="open"):
        if p.kind == "credit_and_rebill" and p.doc.get("invoice_id") == invoice_id:
            why = f"withdrawn: {document_id} credited {invoice_id} after this proposal was made"
            uow.finance.decide(p.id, "withdrawn", "handoffs", why)
            withdrawn.append(p)
    return withdrawn


def recheck(uow: Any, ledger: BillingLedger, proposal_id: str, note: Invoice, *documents: Invoice) -> None:
    """Refuse to issue a proposal's documents if the invoice's current documents contradict
    them: a source credited since, or a credit that would now come out at another amount."""
    invoice = uow.invoices.get(note.credits_invoice_id or "")
    hours = billed_hours(uow, invoice) if invoice else {}
    rounding = next(
        (e.rounding for e in uow.objects.all("legal_entity") if e.id == note.legal_entity_id), "half_up"
    )
    stale = f"{proposal_id} no longer matches the invoice's current documents"
    if invoice is None or not is_current(note, invoice, ledger, hours, tax_rates(uow), rounding):
        raise ValidationError("proposal", f"{stale}: reject it; a fresh proposal is needed")
    try:
        ledger.with_documents(note, *documents)
    except AlreadyBilled as exc:
        raise ValidationError("proposal", f"{stale}: {exc}") from None


def concession(note: Invoice, event_id: str, method: str) -> RevenueEvent | None:
    """The revenue a credit note changes: less its credits of an amount, plus the discount it
    credits back (None when it has neither, or the contract is not time and materials)."""
    return _revenue_of(note, event_id, method, f"credit note {note.id} of {note.credits_invoice_id}")


def discount_revenue(invoice: Invoice, event_id: str, method: str) -> RevenueEvent | None:
    """The revenue an invoice's discount lines take off (revenue is net of discount)."""
    return _revenue_of(invoice, event_id, method, f"discount on {invoice.id}")


def _revenue_of(doc: Invoice, event_id: str, method: str, basis: str) -> RevenueEvent | None:
    lines = [ln for ln in doc.lines if ln.kind in ("adjustment", "discount")]
    if not lines or method != "time_and_materials":
        return None
    amount = sum((ln.amount for ln in lines[1:]), lines[0].amount)
    if amount.is_zero:
        return None
    return RevenueEvent(
        id=event_id,
        contract_id=doc.contract_id,
        project_id=doc.project_id,
        legal_entity_id=doc.legal_entity_id,
        period=doc.period,
        recognised_on=doc.issue_date,
        amount=amount,
        method="as_delivered",
        basis=basis,
    )
