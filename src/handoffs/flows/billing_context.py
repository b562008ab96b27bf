"""What a billing run reads about one project: loaded once, lazily where it is costly."""

from __future__ import annotations

from typing import Any

import orjson

from handoffs.domain.billing import Invoice, RevenueEvent
from handoffs.domain.codec import encode
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.fx import FxTable
from handoffs.domain.journals import ChartOfAccounts, ContractPosition, chart_from_accounts
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.tax import resolve_tax_code
from handoffs.domain.work import Project

__all__ = ["BillingContext"]


class BillingContext:
    """Everything the run reads about one project, loaded once per run."""

    def __init__(self, uow: Any, project: Project, contract: Contract) -> None:
        self.uow = uow
        self.project = project
        self.contract = contract
        entities = uow.objects.all("legal_entity")
        self.entity = next(e for e in entities if e.id == contract.legal_entity_id)
        self.rounding: str = self.entity.rounding
        self.calendar = PeriodCalendar.from_entities(entities)
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
                    self._unconvertible(x, str(exc))
                    continue
                usable.append(x)
            self._expenses = usable
        return self._expenses

    def _unconvertible(self, expense: Any, reason: str) -> None:
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
