"""Finance documents: invoices and credit notes, revenue events, journal entries, payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from handoffs.domain.errors import UnbalancedJournal, ValidationError
from handoffs.domain.money import Money, check_currency
from handoffs.domain.rules import check_id, check_non_negative, check_period, require

__all__ = [
    "Invoice",
    "InvoiceLine",
    "JournalEntry",
    "JournalLine",
    "Payment",
    "RevenueEvent",
    "SourceRef",
]

SourceType = Literal[
    "time_entry",
    "expense",
    "installment",
    "milestone",
    "invoice_line",
    "invoice",
    "revenue_event",
    "retainer",
]
# ``retainer``: a retainer invoiced in advance; ``retainer_applied``: the part of its balance
# a later invoice draws down (a negative line: the amount due is the invoice's total);
# ``discount``: a contract's discount on time (a negative line on an invoice).
LineKind = Literal[
    "time", "expense", "fee", "milestone", "adjustment", "retainer", "retainer_applied", "discount"
]


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceRef:
    """A pointer from a billing document to the record it bills."""

    type: SourceType
    id: str

    def __post_init__(self) -> None:
        check_id(self.id)


@dataclass(frozen=True, kw_only=True, slots=True)
class InvoiceLine:
    """One line of an invoice; lists every source record it bills."""

    id: str
    kind: LineKind
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    tax: Money
    sources: tuple[SourceRef, ...] = ()
    role: str | None = None
    resource_id: str | None = None
    rate_card_version: int | None = None
    tax_code_id: str | None = None
    fx_rate: Decimal | None = None  # source-to-invoice currency rate applied (expenses)
    fx_rate_id: str | None = None  # the FxRate record that rate came from
    # Expense lines: the expense's own cost, that cost in the invoice currency (not rounded),
    # and the contract's markup applied on top (amount = converted_cost x (1 + markup), rounded).
    cost: Money | None = None
    converted_cost: Money | None = None
    markup: Decimal | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        for name in ("amount", "tax"):
            money: Money = getattr(self, name)
            require(money.currency == self.unit_price.currency, name, "must share the unit price's currency")
            require(money.is_rounded(), name, f"must be rounded to {money.currency}'s minor unit")
        ids = [(s.type, s.id) for s in self.sources]
        require(len(set(ids)) == len(ids), "sources", "a source is listed twice")


@dataclass(frozen=True, kw_only=True, slots=True)
class Invoice:
    """An invoice, or a credit note (negative lines) that releases what it credits."""

    id: str
    kind: Literal["invoice", "credit_note"]
    legal_entity_id: str
    customer_id: str
    contract_id: str
    project_id: str
    period: str
    issue_date: date
    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    due_date: date | None = None
    credits_invoice_id: str | None = None

    def __post_init__(self) -> None:
        check_id(self.id)
        for name in ("legal_entity_id", "customer_id", "contract_id", "project_id"):
            check_id(getattr(self, name), name)
        check_period(self.period)
        check_currency(self.currency)
        require(bool(self.lines), "lines", "an invoice needs at least one line")
        for i, line in enumerate(self.lines):
            require(
                line.amount.currency == self.currency, f"lines[{i}].amount", f"must be in {self.currency}"
            )
            if self.kind == "invoice" and line.kind == "retainer_applied":
                require(line.amount.amount <= 0, f"lines[{i}].amount", "a retainer applied is not positive")
            elif line.kind == "discount":  # a discount line takes money off; crediting it gives it back
                sign = "not positive" if self.kind == "invoice" else "not negative"
                off = line.amount.amount <= 0 and line.tax.amount <= 0
                require(off == (self.kind == "invoice"), f"lines[{i}].amount", f"a discount line is {sign}")
            elif self.kind == "invoice":
                check_non_negative(line.amount, f"lines[{i}].amount")
                check_non_negative(line.tax, f"lines[{i}].tax")
            else:
                require(line.amount.amount <= 0, f"lines[{i}].amount", "credit note lines are not positive")
        subtotal = Money.sum([line.amount for line in self.lines], self.currency)
        tax = Money.sum([line.tax for line in self.lines], self.currency)
        require(self.subtotal == subtotal, "subtotal", f"must equal the sum of lines ({subtotal})")
        require(self.tax == tax, "tax", f"must equal the sum of line taxes ({tax})")
        require(self.total == subtotal + tax, "total", "must equal subtotal plus tax")
        if self.kind == "credit_note":
            require(
                self.credits_invoice_id is not None, "credits_invoice_id", "a credit note credits an invoice"
            )

    @property
    def sources(self) -> list[SourceRef]:
        return [s for line in self.lines for s in line.sources]


@dataclass(frozen=True, kw_only=True, slots=True)
class RevenueEvent:
    """Revenue recognised for a contract in a period."""

    id: str
    contract_id: str
    project_id: str
    legal_entity_id: str
    period: str
    recognised_on: date
    amount: Money
    method: Literal["as_delivered", "percent_complete", "milestone"]
    basis: str = ""

    def __post_init__(self) -> None:
        check_id(self.id)
        check_period(self.period)


@dataclass(frozen=True, kw_only=True, slots=True)
class JournalLine:
    """A debit or a credit to one account."""

    account: str
    debit: Money
    credit: Money
    memo: str = ""
    cost_centre_id: str | None = None
    # A journal translated into the entity's functional currency keeps, per line, the
    # document's signed amount (debit positive) and the rate the line was translated at.
    document_amount: Money | None = None
    fx_rate: Decimal | None = None

    def __post_init__(self) -> None:
        require(bool(self.account.strip()), "account", "must not be blank")
        check_non_negative(self.debit, "debit")
        check_non_negative(self.credit, "credit")
        require(self.debit.currency == self.credit.currency, "credit", "must share the debit's currency")
        require(self.debit.is_zero or self.credit.is_zero, "credit", "a line is a debit or a credit")


@dataclass(frozen=True, kw_only=True, slots=True)
class JournalEntry:
    """A balanced set of journal lines for one legal entity, currency and period."""

    id: str
    legal_entity_id: str
    entry_date: date
    period: str
    currency: str
    lines: tuple[JournalLine, ...]
    source: SourceRef | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        check_id(self.id)
        check_period(self.period)
        check_currency(self.currency)
        if len(self.lines) < 2:
            raise ValidationError("lines", "a journal entry needs at least two lines")
        for i, line in enumerate(self.lines):
            require(line.debit.currency == self.currency, f"lines[{i}]", f"must be in {self.currency}")
        debits = Money.sum([line.debit for line in self.lines], self.currency)
        credits = Money.sum([line.credit for line in self.lines], self.currency)
        if debits != credits:
            raise UnbalancedJournal(f"journal {self.id}: debits {debits} differ from credits {credits}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Payment:
    """Cash received from a customer against an invoice."""

    id: str
    invoice_id: str
    customer_id: str
    amount: Money
    received_on: date

    def __post_init__(self) -> None:
        check_id(self.id)
        check_id(self.invoice_id, "invoice_id")
        require(self.amount.amount > 0, "amount", "must be positive")
