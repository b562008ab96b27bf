"""Journal entries for invoices, credit notes, revenue and expense claims.

Rules (ASC 606 / IFRS 15 contract position, worked in docs/billing-and-revenue.md):

* An invoice never touches revenue: Dr accounts receivable (total), Cr tax payable (tax),
  and its net amount first clears the contract asset (unbilled receivable: revenue
  recognised but not yet billed); the rest is a contract liability (deferred revenue).
* A revenue event never touches receivables: Cr revenue, and Dr first the contract
  liability (billed ahead), the rest to the contract asset. Negative amounts (credit notes,
  downward catch-ups) mirror both rules.
* A reimbursable expense claim: Dr project expense, Cr reimbursement payable.
* Each entry is built in the document's currency and posted per ``periods.PeriodCalendar``:
  a late item lands in the next open period and the reason is written on the entry's memo.
  ``translation.translate`` puts one in the legal entity's functional currency when the
  document is in another (the hub does so before storing it).
* Accounts come from a ``ChartOfAccounts`` built from configuration by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from handoffs.domain.billing import Invoice, JournalEntry, JournalLine, RevenueEvent, SourceRef
from handoffs.domain.errors import CurrencyMismatch, ValidationError
from handoffs.domain.fx import Conversion
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar, Posting
from handoffs.domain.reference import GlAccount
from handoffs.domain.work import Expense

__all__ = [
    "ACCOUNT_ROLES",
    "DEFAULT_ACCOUNTS",
    "ChartOfAccounts",
    "ContractPosition",
    "account_balances",
    "chart_from_accounts",
    "journal_for_expense_claim",
    "journal_for_invoice",
    "journal_for_revenue",
    "journals_balanced",
    "trial_balance",
]

ACCOUNT_ROLES = (
    "accounts_receivable",
    "revenue",
    "unbilled_receivable",
    "deferred_revenue",
    "tax_payable",
    "reimbursement_payable",
    "project_expense",
    "fx_difference",
)


@dataclass(frozen=True, slots=True)
class ChartOfAccounts:
    """The account number for each role, per legal entity (from configuration)."""

    accounts: Mapping[str, Mapping[str, str]]

    def account(self, legal_entity_id: str, role: str) -> str:
        """The account of ``role`` in the legal entity's chart, or a ValidationError naming both."""
        if role not in ACCOUNT_ROLES:
            raise ValidationError("role", f"chart of accounts: unknown account role {role!r}")
        number = self.accounts.get(legal_entity_id, {}).get(role)
        if not number:
            raise ValidationError("chart", f"chart of accounts: {legal_entity_id} maps no account for {role}")
        return number


# Used for a legal entity whose GL accounts name no roles, so journals still balance and say
# which conventional account they hit; a firm maps its own chart through GlAccount.role.
DEFAULT_ACCOUNTS = {
    "accounts_receivable": "1200",
    "unbilled_receivable": "1210",
    "deferred_revenue": "2400",
    "tax_payable": "2300",
    "reimbursement_payable": "2100",
    "revenue": "4000",
    "project_expense": "5100",
    "fx_difference": "7900",
}


def chart_from_accounts(accounts: Iterable[GlAccount]) -> ChartOfAccounts:
    """The chart from GL accounts that name their role; unmapped roles use DEFAULT_ACCOUNTS."""
    mapped: dict[str, dict[str, str]] = {}
    for account in accounts:
        if account.role is not None:
            if account.role not in ACCOUNT_ROLES:
                raise ValidationError(
                    "role", f"GL account {account.id}: unknown account role {account.role!r}"
                )
            mapped.setdefault(account.legal_entity_id, {})[account.role] = account.number
    return ChartOfAccounts(_WithDefaults(mapped))


class _WithDefaults(dict[str, dict[str, str]]):
    def get(self, key: str, default: object = None) -> dict[str, str]:
        return {**DEFAULT_ACCOUNTS, **super().get(key, {})}


@dataclass(frozen=True, slots=True)
class ContractPosition:
    """Revenue recognised and amounts billed (net of tax) on one contract so far."""

    recognised: Money
    billed: Money

    @classmethod
    def empty(cls, currency: str) -> ContractPosition:
        """The position of a contract with nothing recognised or billed yet."""
        return cls(Money.zero(currency), Money.zero(currency))

    @property
    def contract_asset(self) -> Money:
        """Recognised but not billed (unbilled receivable), never negative."""
        gap = self.recognised - self.billed
        return gap if gap.amount > 0 else Money.zero(gap.currency)

    @property
    def contract_liability(self) -> Money:
        """Billed ahead of revenue (deferred revenue), never negative."""
        gap = self.billed - self.recognised
        return gap if gap.amount > 0 else Money.zero(gap.currency)

    def after(self, item: Invoice | RevenueEvent) -> ContractPosition:
        """The position once ``item`` is counted."""
        if isinstance(item, Invoice):
            return ContractPosition(self.recognised, self.billed + item.subtotal)
        return ContractPosition(self.recognised + item.amount, self.billed)


def _line(account: str, amount: Money, memo: str) -> JournalLine | None:
    """A debit for a positive amount, a credit for a negative one; None for zero."""
    zero = Money.zero(amount.currency)
    if amount.is_zero:
        return None
    if amount.is_negative:
        return JournalLine(account=account, debit=zero, credit=-amount, memo=memo)
    return JournalLine(account=account, debit=amount, credit=zero, memo=memo)


def _entry(
    entry_id: str,
    entity: str,
    currency: str,
    posting: Posting,
    lines: list[JournalLine | None],
    memo: str,
    source: SourceRef,
) -> JournalEntry | None:
    kept = tuple(line for line in lines if line is not None)
    if not kept:
        return None
    return JournalEntry(
        id=entry_id,
        legal_entity_id=entity,
        entry_date=posting.entry_date,
        period=posting.period,
        currency=currency,
        lines=kept,
        source=source,
        memo=memo if posting.reason is None else f"{memo}; {posting.reason}",
    )


def _split(amount: Money, first_room: Money) -> tuple[Money, Money]:
    """Split a signed amount: the part up to ``first_room`` (in absolute value), and the rest."""
    size = amount if not amount.is_negative else -amount
    first = size if size <= first_room else first_room
    if amount.is_negative:
        first = -first
    return first, amount - first


def journal_for_invoice(
    invoice: Invoice,
    *,
    entry_id: str,
    chart: ChartOfAccounts,
    calendar: PeriodCalendar,
    position: ContractPosition,
) -> JournalEntry | None:
    """The journal of an invoice or credit note (None when every amount is zero).

    Args:
        invoice: the invoice or credit note.
        entry_id: id of the journal entry.
        chart: the chart of accounts.
        calendar: closed periods; the entry is dated the document's issue date or later.
        position: the contract's position *before* this document.
    """
    if position.billed.currency != invoice.currency:
        raise CurrencyMismatch(
            f"journal rule: position in {position.billed.currency}, {invoice.id} in {invoice.currency}"
        )
    entity = invoice.legal_entity_id

    def acct(role: str) -> str:
        return chart.account(entity, role)

    posting = calendar.posting_for(
        entity, invoice.issue_date, f"{invoice.kind.replace('_', ' ')} {invoice.id}"
    )
    room = position.contract_asset if invoice.kind == "invoice" else position.contract_liability
    cleared, rest = _split(invoice.subtotal, room)
    asset_part, liability_part = (cleared, rest) if invoice.kind == "invoice" else (rest, cleared)
    lines = [
        _line(acct("accounts_receivable"), invoice.total, f"{invoice.id} receivable"),
        _line(acct("tax_payable"), -invoice.tax, f"{invoice.id} tax"),
        _line(acct("unbilled_receivable"), -asset_part, f"{invoice.id} clears contract asset"),
        _line(acct("deferred_revenue"), -liability_part, f"{invoice.id} contract liability"),
    ]
    return _entry(
        entry_id,
        entity,
        invoice.currency,
        posting,
        lines,
        f"{invoice.kind} {invoice.id}",
        SourceRef(type="invoice", id=invoice.id),
    )


def journal_for_revenue(
    event: RevenueEvent,
    *,
    entry_id: str,
    chart: ChartOfAccounts,
    calendar: PeriodCalendar,
    position: ContractPosition,
) -> JournalEntry | None:
    """The journal of a revenue event (None for a zero amount).

    Args:
        position: the contract's position *before* this event.
    """
    currency = event.amount.currency
    if position.billed.currency != currency:
        raise CurrencyMismatch(
            f"journal rule: position in {position.billed.currency}, {event.id} in {currency}"
        )
    entity = event.legal_entity_id

    def acct(role: str) -> str:
        return chart.account(entity, role)

    posting = calendar.posting_for(entity, event.recognised_on, f"revenue {event.id}")
    room = position.contract_liability if not event.amount.is_negative else position.contract_asset
    cleared, rest = _split(event.amount, room)
    liability_part, asset_part = (cleared, rest) if not event.amount.is_negative else (rest, cleared)
    lines = [
        _line(acct("deferred_revenue"), liability_part, f"{event.id} releases contract liability"),
        _line(acct("unbilled_receivable"), asset_part, f"{event.id} contract asset"),
        _line(acct("revenue"), -event.amount, f"{event.id} {event.method}"),
    ]
    memo = f"revenue {event.id} ({event.method}) for {event.period}"
    return _entry(
        entry_id, entity, currency, posting, lines, memo, SourceRef(type="revenue_event", id=event.id)
    )


def journal_for_expense_claim(
    expense: Expense,
    *,
    entry_id: str,
    legal_entity_id: str,
    chart: ChartOfAccounts,
    calendar: PeriodCalendar,
    rounding: str = "half_up",
    conversion: Conversion | None = None,
) -> JournalEntry | None:
    """Dr project expense, Cr reimbursement payable for an approved reimbursable expense.

    Returns None for expenses that are not approved or not reimbursable. The entry is in the
    legal entity's functional currency: ``conversion`` is the expense's amount converted into
    it (its rate and rate record are written on the memo); without one, the expense's own
    currency. It is dated the day the expense was incurred (or the next open period).
    """
    if expense.status != "approved" or not expense.reimbursable:
        return None
    fx = ""
    amount = expense.amount.rounded(rounding)
    if conversion is not None and conversion.rate_id is not None:
        amount = conversion.converted.rounded(rounding)
        fx = f" ({expense.amount} at {conversion.rate} {conversion.rate_id})"
    posting = calendar.posting_for(legal_entity_id, expense.incurred_on, f"expense {expense.id}")
    lines = [
        _line(chart.account(legal_entity_id, "project_expense"), amount, f"{expense.id} {expense.category}"),
        _line(
            chart.account(legal_entity_id, "reimbursement_payable"),
            -amount,
            f"{expense.id} owed to {expense.resource_id}",
        ),
    ]
    memo = f"expense claim {expense.id}{fx}"
    return _entry(
        entry_id,
        legal_entity_id,
        amount.currency,
        posting,
        lines,
        memo,
        SourceRef(type="expense", id=expense.id),
    )


def trial_balance(entries: Iterable[JournalEntry]) -> dict[tuple[str, str], tuple[Money, Money]]:
    """Total debits and credits per (legal entity, currency)."""
    totals: dict[tuple[str, str], tuple[Money, Money]] = {}
    for entry in entries:
        key = (entry.legal_entity_id, entry.currency)
        debit, credit = totals.get(key, (Money.zero(entry.currency), Money.zero(entry.currency)))
        for line in entry.lines:
            debit, credit = debit + line.debit, credit + line.credit
        totals[key] = (debit, credit)
    return totals


def journals_balanced(entries: Iterable[JournalEntry]) -> bool:
    """Whether debits equal credits for every legal entity and currency (computed, not assumed)."""
    return all(debit == credit for debit, credit in trial_balance(entries).values())


def account_balances(entries: Iterable[JournalEntry]) -> dict[tuple[str, str, str], Money]:
    """Debit-minus-credit balance per (legal entity, account, currency)."""
    balances: dict[tuple[str, str, str], Money] = {}
    for entry in entries:
        for line in entry.lines:
            key = (entry.legal_entity_id, line.account, entry.currency)
            balances[key] = balances.get(key, Money.zero(entry.currency)) + line.debit - line.credit
    return balances
