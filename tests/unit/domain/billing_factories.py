"""Small builders of canonical objects for the billing rule tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from handoffs.domain.contracts import Contract, Installment, Milestone, RateCardVersion
from handoffs.domain.money import Money
from handoffs.domain.reference import LegalEntity, TaxCode
from handoffs.domain.work import Expense, TimeEntry

VAT20 = TaxCode(id="VAT-20", legal_entity_id="LE-1", name="VAT 20 %", rate=Decimal("0.20"))
ENTITY = LegalEntity(id="LE-1", name="Firm Ltd", country="FR", currency="EUR", default_tax_code_id="VAT-20")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def tm_contract(
    *versions: tuple[date, str], cap: str | None = None, markup: str = "0", **kw: Any
) -> Contract:
    """A T&M contract whose versions are (effective_from, consultant rate)."""
    cards = versions or ((date(2026, 1, 1), "150.00"),)
    return Contract(
        id=kw.pop("id", "C-1"),
        customer_id="CU-1",
        legal_entity_id="LE-1",
        currency="EUR",
        billing_model="time_and_materials",
        start_date=date(2026, 1, 1),
        rate_card=tuple(
            RateCardVersion(version=i, effective_from=d, rates={"consultant": Decimal(r)})
            for i, (d, r) in enumerate(cards, start=1)
        ),
        cap=eur(cap) if cap else None,
        expense_markup=Decimal(markup),
        **kw,
    )


def ff_contract(fee: str = "12000.00", estimate: str = "8000.00", n: int = 3) -> Contract:
    part = (Decimal(fee) / n).quantize(Decimal("0.01"))
    amounts = [part] * (n - 1) + [Decimal(fee) - part * (n - 1)]
    return Contract(
        id="C-FF",
        customer_id="CU-1",
        legal_entity_id="LE-1",
        currency="EUR",
        billing_model="fixed_fee",
        start_date=date(2026, 1, 1),
        fixed_fee=eur(fee),
        estimated_cost=eur(estimate),
        installments=tuple(
            Installment(id=f"I-{i}", due_date=date(2026, i, 28), amount=Money(a, "EUR"))
            for i, a in enumerate(amounts, start=1)
        ),
    )


def ms_contract(*milestones: tuple[str, str, date | None]) -> Contract:
    return Contract(
        id="C-MS",
        customer_id="CU-1",
        legal_entity_id="LE-1",
        currency="EUR",
        billing_model="milestone",
        start_date=date(2026, 1, 1),
        milestones=tuple(
            Milestone(id=i, name=f"Milestone {i}", amount=eur(a), accepted_on=d) for i, a, d in milestones
        ),
    )


def entry(eid: str, day: date, hours: str, status: str = "approved", **kw: Any) -> TimeEntry:
    return TimeEntry(
        id=eid,
        resource_id=kw.pop("resource_id", "R-1"),
        project_id=kw.pop("project_id", "P-1"),
        work_date=day,
        hours=Decimal(hours),
        role=kw.pop("role", "consultant"),
        status=status,  # type: ignore[arg-type]
        **kw,
    )


def expense(xid: str, day: date, amount: Money, status: str = "approved", **kw: Any) -> Expense:
    return Expense(
        id=xid,
        resource_id="R-1",
        project_id=kw.pop("project_id", "P-1"),
        incurred_on=day,
        category=kw.pop("category", "travel"),
        amount=amount,
        status=status,  # type: ignore[arg-type]
        **kw,
    )
