"""What a billing run reads about one project: loaded once, lazily where it is costly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from handoffs.domain.billing import Invoice, JournalEntry, RevenueEvent
from handoffs.domain.codec import encode
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.fx import FxTable
from handoffs.domain.journals import ChartOfAccounts, ContractPosition, chart_from_accounts
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.tax import resolve_tax_code
from handoffs.domain.translation import translate
from handoffs.domain.work import Project

__all__ = ["BillingContext"]

_CARRIED = ("unbilled_receivable", "deferred_revenue")


class BillingContext:
    """Everything the run reads about one project, loaded once per run."""

    def __init__(self, uow: Any, project: Project, contract: Contract) -> None:
        self.uow = uow
        self.project = project
        self.contract = contract
        entities = uow.objects.all("legal_entity")
        self.entity = next(e for e in entities if e.id == contract.legal_entity_id)
        self.rounding: str = self.entity.rounding
        # Closed by the entity's own closed_through, and by a person (handoffs period close/reopen).
        self.calendar = PeriodCalendar.from_entities(entities).with_closes(uow.periods.states())
        self.chart: ChartOfAccounts = chart_from_accounts(uow.objects.all("gl_account"))
        customer = uow.objects.get("customer", contract.customer_id)
        self.tax_codes = {t.id: t for t in uow.objects.all("tax_code")}
        self.tax_code = resolve_tax_code(contract, self.entity, self.tax_codes, customer)
        self.fx = FxTable(uow.objects.all("fx_rate"))
        self._documents: list[Invoice] | None = None
        self._expenses: list[Any] | None = None
        self._events: list[RevenueEvent] | None = None

    @property
    def documents(self) -> list[Invoice]:
        """Every invoice and credit note of the contract (read when first needed)."""
        if self._documents is None:
            self._documents = self.uow.invoices.for_contract(self.contract.id)
        return self._documents

    @property
    def events(self) -> list[RevenueEvent]:
        if self._events is None:
            self._events = self.uow.finance.revenue_events(self.contract.id)
        return self._events

    @property
    def position(self) -> ContractPosition:
        currency = self.contract.currency
        return ContractPosition(
            Money.sum([e.amount for e in self.events], currency),
            Money.sum([d.subtotal for d in self.documents], currency),
        )

    def add_journal(self, entry: JournalEntry) -> None:
        """Store a document's journal, in the legal entity's functional currency (translation.py)."""
        if entry.currency != self.entity.currency:
            rate = self.fx.convert(Money(Decimal(1), entry.currency), self.entity.currency, entry.entry_date)
            entry = translate(
                entry,
                currency=self.entity.currency,
                rate=rate.rate,
                rate_id=rate.rate_id,
                carried=self._carried(),
                fx_account=self.chart.account(self.entity.id, "fx_difference"),
                rounding=self.rounding,
            )
        self.uow.finance.add_journal(entry)

    def _carried(self) -> dict[str, tuple[Decimal, Decimal]]:
        """The contract asset and liability of the contract so far, in both currencies."""
        carried = {self.chart.account(self.entity.id, r): [Decimal(0), Decimal(0)] for r in _CARRIED}
        for source_id in [e.id for e in self.events] + [d.id for d in self.documents]:
            journal = self.uow.finance.journal(f"JE-{source_id}")
            for line in journal.lines if journal else ():
                if line.account in carried and line.document_amount is not None:
                    carried[line.account][0] += line.document_amount.amount
                    carried[line.account][1] += line.debit.amount - line.credit.amount
        return {k: (v[0], v[1]) for k, v in carried.items()}

    def ledger(self) -> BillingLedger:
        return BillingLedger.from_documents(self.documents, self.uow.finance.held_hours(self.contract.id))

    def expenses(self) -> list[Any]:
        """The project's expenses that can be billed in the contract's currency.

        One that cannot be converted (no rate in force, not even crossed) is left out and
        raised as an exception, so it holds up only itself, not the project's time.
        """
        if self._expenses is None:
            usable = []
            for x in self.uow.objects.all("expense"):
                if x.project_id != self.project.id:
                    continue
                try:
                    self.fx.convert(x.amount, self.contract.currency, x.incurred_on)
                except DomainError as exc:
                    self.unconvertible(x, str(exc))
                    continue
                usable.append(x)
            self._expenses = usable
        return self._expenses

    def unconvertible(self, expense: Any, reason: str) -> None:
        """Raise an expense that cannot be converted as an exception (once per expense and currency)."""
        self.uow.exceptions.add(
            category="validation",
            source=f"billing:{self.project.id}",
            reason=f"expense {expense.id}: {reason}",
            raw=orjson.dumps(encode(expense)).decode(),
            detail={"rule": "fx", "expense_id": expense.id},
            object_type="expense",
            object_id=expense.id,
            correlation_id=f"project:{self.project.id}",
            fingerprint=f"fx:{expense.id}:{self.contract.currency}",
        )
