"""Contract amendments and edits to billed time: re-pricing and credit-and-rebill proposals.

Rules (worked in docs/billing-and-revenue.md):

* A new or changed rate-card version takes effect from its ``effective_from``. Unbilled
  approved time worked on or after that date is simply priced at the new version; the
  re-pricing lists old and new rate per entry. Hours never change.
* Billed time is never silently re-priced. Each affected invoice gets a proposal: a credit
  note for the lines billing the affected entries and a rebill of those lines' entries at
  the new rates, with the money impact (rebill less credit), for a person to approve.
  Approving a proposal means issuing its ``credit_note`` and its ``rebill`` as they are.
* An edit in the source system to a billed entry (hours, date, role, status...) is refused
  as a silent change (``guard_billed_edit``) and becomes the same kind of proposal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from handoffs.domain.billing import Invoice, SourceRef
from handoffs.domain.contracts import Contract
from handoffs.domain.credit_notes import credit_note, released_sources
from handoffs.domain.errors import ValidationError
from handoffs.domain.invoicing import Disposition, WriteDownProposal, role_of, time_lines
from handoffs.domain.ledger import BillingLedger, fee_billed_to_date
from handoffs.domain.money import Money
from handoffs.domain.pricing import assemble_invoice, price_entry
from handoffs.domain.reference import TaxCode
from handoffs.domain.work import TimeEntry

__all__ = [
    "CreditAndRebill",
    "RepricedEntry",
    "Repricing",
    "amendment_effective_date",
    "credit_and_rebill",
    "guard_billed_edit",
    "reprice_for_amendment",
]

_LOCKED_FIELDS = ("project_id", "resource_id", "work_date", "hours", "role", "billable", "status")


@dataclass(frozen=True, slots=True)
class RepricedEntry:
    """One entry's price under the old and the new rate card; hours are unchanged."""

    entry_id: str
    hours: Decimal
    old_version: int
    old_rate: Money
    new_version: int
    new_rate: Money
    billed_on: str | None  # the invoice line billing it, None when unbilled

    @property
    def delta(self) -> Money:
        """hours x (new rate - old rate), unrounded."""
        return (self.new_rate - self.old_rate) * self.hours


@dataclass(frozen=True, slots=True)
class CreditAndRebill:
    """A proposed credit note and rebill of one invoice's lines, awaiting approval."""

    id: str
    invoice_id: str
    reason: str
    credit_note: Invoice
    rebill: Invoice | None
    write_down: WriteDownProposal | None
    dispositions: tuple[Disposition, ...]
    impact_net: Money  # rebill subtotal less credited subtotal
    impact_total: Money  # the same including tax


@dataclass(frozen=True, slots=True)
class Repricing:
    """The effect of an amendment on approved time from its effective date."""

    effective_from: date
    unbilled: tuple[RepricedEntry, ...]
    billed: tuple[RepricedEntry, ...]
    proposals: tuple[CreditAndRebill, ...]


def amendment_effective_date(old: Contract, new: Contract) -> date:
    """The earliest ``effective_from`` of rate-card versions that the amendment adds or changes."""
    if old.id != new.id or old.currency != new.currency:
        raise ValidationError("contract", "amendment rule: an amendment keeps the contract's id and currency")
    before = {v.version: v for v in old.rate_card}
    changed = [v.effective_from for v in new.rate_card if before.get(v.version) != v]
    if not changed:
        raise ValidationError("rate_card", f"amendment rule: {new.id}'s amendment adds or changes no version")
    return min(changed)


def credit_and_rebill(
    *,
    proposal_id: str,
    invoice: Invoice,
    line_ids: Iterable[str],
    contract: Contract,
    entries: Iterable[TimeEntry],
    ledger: BillingLedger,
    issue_date: date,
    reason: str,
    roles: Mapping[str, str] | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
    entry_ids: Iterable[str] | None = None,
) -> CreditAndRebill:
    """Propose crediting time lines of an invoice and rebilling their entries as they are now.

    Entries are taken in their current version (``entries`` must hold every entry of the
    credited lines); one that is no longer approved billable time is credited and not rebilled.
    With ``entry_ids``, only those entries are credited and rebilled (the others stay billed
    on their line at their own value); ``line_ids`` is then ignored.
    Ids: the credit note is ``<proposal_id>-CN``, the rebill ``<proposal_id>-RB``.
    """
    all_entries = list(entries)
    note = credit_note(
        credit_note_id=f"{proposal_id}-CN",
        invoice=invoice,
        ledger=ledger,
        issue_date=issue_date,
        reason=reason,
        line_ids=None if entry_ids is not None else line_ids,
        sources=entry_ids,
        hours={e.id: e.hours for e in all_entries},
        tax_rates={tax_code.id: tax_code.rate} if tax_code else None,
        rounding=rounding,
    )
    released = released_sources(note)
    if any(ref.type != "time_entry" for ref in released):
        raise ValidationError("line_ids", "credit-and-rebill rule: only time lines can be rebilled here")
    current = {e.id: e for e in all_entries}
    missing = sorted(ref.id for ref in released if ref.id not in current)
    if missing:
        raise ValidationError("entries", f"credit-and-rebill rule: entries missing: {', '.join(missing)}")
    after = ledger.with_documents(note)
    billing = time_lines(
        invoice_id=f"{proposal_id}-RB",
        contract=contract,
        project_id=invoice.project_id,
        period=invoice.period,
        entries=[current[ref.id] for ref in released],
        ledger=after,
        roles=roles,
        tax_code=tax_code,
        rounding=rounding,
        fee_billed=fee_billed_to_date(after.documents, contract.id, contract.currency),
        write_down_id=f"{proposal_id}-WD",
    )
    rebill = None
    if billing.lines:
        rebill = assemble_invoice(
            invoice_id=f"{proposal_id}-RB",
            contract=contract,
            project_id=invoice.project_id,
            period=invoice.period,
            lines=billing.lines,
            issue_date=issue_date,
        )
    zero = Money.zero(invoice.currency)
    net = (rebill.subtotal if rebill else zero) + note.subtotal
    total = (rebill.total if rebill else zero) + note.total
    return CreditAndRebill(
        proposal_id, invoice.id, reason, note, rebill, billing.write_down, billing.dispositions, net, total
    )


def reprice_for_amendment(
    *,
    old_contract: Contract,
    new_contract: Contract,
    entries: Iterable[TimeEntry],
    ledger: BillingLedger,
    issue_date: date,
    proposal_prefix: str,
    roles: Mapping[str, str] | None = None,
    tax_code: TaxCode | None = None,
    rounding: str = "half_up",
) -> Repricing:
    """Re-price approved time from the amendment's effective date.

    Args:
        old_contract: the contract before the amendment.
        new_contract: the amended contract (same id, new or changed rate-card version).
        entries: the contract's time entries (current versions).
        ledger: current billing state.
        issue_date: the date for proposed credit notes and rebills.
        proposal_prefix: proposals are ``<prefix>-<invoice id>``.
        roles: resource id → role, for entries without a role.
        tax_code: the tax code for rebill lines.
        rounding: the legal entity's rounding mode.

    Returns:
        Unbilled entries with their new price, billed entries whose price changes, and
        one credit-and-rebill proposal per affected invoice.
    """
    effective = amendment_effective_date(old_contract, new_contract)
    all_entries = list(entries)
    unbilled: list[RepricedEntry] = []
    billed: list[RepricedEntry] = []
    for e in sorted(all_entries, key=lambda e: (e.work_date, e.id)):
        if not e.is_billable_approved or e.work_date < effective or ledger.held_hours(e.id) >= e.hours:
            continue
        role = role_of(e, roles or {})
        old, new = price_entry(e, old_contract, role), price_entry(e, new_contract, role)
        line = ledger.line_billing(SourceRef(type="time_entry", id=e.id))
        item = RepricedEntry(
            e.id, e.hours, old.rate_card_version, old.rate, new.rate_card_version, new.rate, line
        )
        if line is None:
            unbilled.append(item)
        elif item.new_rate != item.old_rate:
            billed.append(item)
    lines_by_invoice: dict[str, set[str]] = defaultdict(set)
    for item in billed:
        if item.billed_on is not None:
            lines_by_invoice[ledger.line(item.billed_on)[0].id].add(item.billed_on)
    proposals = []
    for invoice_id in sorted(lines_by_invoice):
        invoice, _ = ledger.line(min(lines_by_invoice[invoice_id]))
        versions = sorted(
            {f"v{v.version} from {v.effective_from.isoformat()}" for v in new_contract.rate_card}
        )
        proposals.append(
            credit_and_rebill(
                proposal_id=f"{proposal_prefix}-{invoice_id}",
                invoice=invoice,
                line_ids=sorted(lines_by_invoice[invoice_id]),
                contract=new_contract,
                entries=all_entries,
                ledger=ledger,
                issue_date=issue_date,
                reason=f"amendment of {new_contract.id} from {effective.isoformat()} ({', '.join(versions)})",
                roles=roles,
                tax_code=tax_code,
                rounding=rounding,
            )
        )
    return Repricing(effective, tuple(unbilled), tuple(billed), tuple(proposals))


def guard_billed_edit(before: TimeEntry, after: TimeEntry, ledger: BillingLedger) -> str | None:
    """Why an incoming edit to a billed entry must become a proposal, or None if it may apply.

    Billed entries are locked: a change to any field that affects billing is not applied
    silently; the caller raises an exception for a person and offers ``credit_and_rebill``.
    """
    line = ledger.line_billing(SourceRef(type="time_entry", id=before.id))
    if line is None:
        return None
    changes = [
        f"{name} {getattr(before, name)} -> {getattr(after, name)}"
        for name in _LOCKED_FIELDS
        if getattr(before, name) != getattr(after, name)
    ]
    if not changes:
        return None
    return f"billed entry locked: {before.id} is billed on {line}; changed {'; '.join(changes)}"
