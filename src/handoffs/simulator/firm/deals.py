"""Clients, CRM opportunities, contracts (T&M, fixed fee, milestone) and their projects."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from handoffs.domain.contracts import BillingModel, Contract, Installment, Milestone, RateCardVersion
from handoffs.domain.money import Money
from handoffs.domain.parties import Customer
from handoffs.domain.work import Project
from handoffs.simulator.firm.model import Firm, Opportunity
from handoffs.simulator.firm.names import COMPANY_STEMS, COMPANY_SUFFIXES, ORG_UNITS, PROJECT_THEMES
from handoffs.simulator.firm.people import BILL_USD, ROLES, local_amount
from handoffs.simulator.firm.sizes import month_starts, next_month

__all__ = ["build_deals", "window"]

_FOREIGN: Final = {
    "le-uk": ("IE", "tax-uk-zero"),
    "le-de": ("FR", "tax-de-rc"),
    "le-us": ("CA", "tax-us-exempt"),
}
_WON_STAGES: Final = ("Closed Won", "Closed Won", "Closed Won", "Signed")
_OPEN_STAGES: Final = (("Qualification", 20), ("Proposal", 50), ("Negotiation", 75))


def window(firm: Firm) -> tuple[date, date]:
    """The first and last day the firm's generated activity covers."""
    months = month_starts(firm.size.start, firm.size.months)
    return months[0], next_month(months[-1]) - timedelta(days=1)


def _stamp(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)), UTC)


def build_deals(firm: Firm, rng: random.Random) -> None:
    """Generate customers, one contract and project per sold deal, pipeline deals, internal projects."""
    _customers(firm, rng)
    owners = [firm.customers[i % len(firm.customers)] for i in range(firm.size.projects)]
    for n, customer in enumerate(owners, start=1):
        contract = _contract(firm, rng, n, customer)
        firm.contracts.append(contract)
        theme = rng.choice(PROJECT_THEMES)
        firm.projects.append(
            Project(
                id=f"prj-{n:04d}",
                name=f"{customer.name.split()[0]} {theme}",
                legal_entity_id=contract.legal_entity_id,
                customer_id=customer.id,
                contract_id=contract.id,
                start_date=contract.start_date,
                end_date=contract.end_date,
                cost_centre_id=f"cc-{contract.legal_entity_id[3:]}-{rng.choice(ORG_UNITS).lower()}",
            )
        )
        firm.opportunities.append(_won(firm, rng, n, contract, f"{customer.name} - {theme}"))
    for n, customer in enumerate(firm.customers, start=len(owners) + 1):
        firm.opportunities.append(_pipeline(firm, rng, n, customer))
    start, _ = window(firm)
    for le in firm.legal_entities:
        for suffix, label in (("bench", "Bench and training"), ("presales", "Pre-sales")):
            firm.projects.append(
                Project(
                    id=f"int-{le.id[3:]}-{suffix}",
                    name=f"{label} {le.country}",
                    legal_entity_id=le.id,
                    start_date=date(start.year - 1, 1, 1),
                    billable=False,
                    cost_centre_id=f"cc-{le.id[3:]}-operations",
                )
            )


def _customers(firm: Firm, rng: random.Random) -> None:
    names: set[str] = set()
    for i in range(firm.size.clients):
        le = firm.legal_entities[i % len(firm.legal_entities)] if i < 3 else rng.choice(firm.legal_entities)
        name = f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_SUFFIXES)}"
        while name in names:
            name = f"{name} {rng.choice(('Group', 'Holdings', 'International'))}"
        names.add(name)
        foreign = rng.random() < 0.15
        country, tax = _FOREIGN[le.id] if foreign else (le.country, le.default_tax_code_id)
        firm.customers.append(
            Customer(
                id=f"cust-{i + 1:04d}",
                name=name,
                legal_entity_id=le.id,
                currency=le.currency,
                tax_code_id=tax,
                email=f"ap@{name.split()[0].lower()}{i + 1}.example",
                country=country,
            )
        )


def _contract(firm: Firm, rng: random.Random, n: int, customer: Customer) -> Contract:
    first, last = window(firm)
    models: tuple[BillingModel, ...] = ("time_and_materials", "fixed_fee", "milestone")
    # The first three deals show every billing model; the rest follow a realistic mix.
    model = models[n - 1] if n <= 3 else rng.choices(models, (60, 25, 15))[0]
    start = (
        first + timedelta(days=rng.randint(3, 18))
        if rng.random() < 0.15
        else first - timedelta(days=rng.randint(20, 200))
    )
    end = (
        last - timedelta(days=rng.randint(3, 12))
        if rng.random() < 0.1
        else start + timedelta(days=rng.randint(150, 540))
    )
    ccy = customer.currency
    rates = {role: local_amount(BILL_USD[role], ccy, rng, 8).quantize(Decimal(1)) for role in ROLES}
    card = [RateCardVersion(version=1, effective_from=start, rates=rates)]
    amend = first + timedelta(days=rng.randint(9, 19))
    if rng.random() < 0.25 and start < amend:
        rise = Decimal(100 + rng.randint(3, 8)) / Decimal(100)
        card.append(
            RateCardVersion(
                version=2,
                effective_from=amend,
                rates={r: (v * rise).quantize(Decimal(1)) for r, v in rates.items()},
            )
        )
    value = Money((Decimal(rng.randint(8, 60)) * 10000 * _factor(ccy)).quantize(Decimal(1)), ccy)
    cost = Money((value.amount * Decimal("0.62")).quantize(Decimal(1)), ccy)
    kwargs: dict[str, object] = {}
    if model == "time_and_materials" and rng.random() < 0.3:
        kwargs["cap"] = value
    if model == "fixed_fee":
        parts = rng.choice((3, 4))
        share = (value.amount / parts).quantize(Decimal(1))
        amounts = [share] * (parts - 1) + [value.amount - share * (parts - 1)]
        kwargs.update(
            fixed_fee=value,
            estimated_cost=cost,
            installments=tuple(
                Installment(
                    id=f"ctr-{n:04d}-i{k + 1}", due_date=_months_after(start, k), amount=Money(a, ccy)
                )
                for k, a in enumerate(amounts)
            ),
        )
    if model == "milestone":
        kwargs.update(estimated_cost=cost, milestones=_milestones(firm, rng, n, start, end, value))
    return Contract(
        id=f"ctr-{n:04d}",
        customer_id=customer.id,
        legal_entity_id=customer.legal_entity_id,
        currency=ccy,
        billing_model=model,
        start_date=start,
        end_date=end,
        rate_card=tuple(card),
        expense_markup=Decimal("0.05") if rng.random() < 0.2 else Decimal(0),
        tax_code_id=customer.tax_code_id,
        payment_terms_days=rng.choice((30, 30, 45, 60)),
        **kwargs,  # type: ignore[arg-type]
    )


def _milestones(
    firm: Firm, rng: random.Random, n: int, start: date, end: date, value: Money
) -> tuple[Milestone, ...]:
    first, last = window(firm)
    names = ("Discovery sign-off", "Design approved", "Go-live")
    share = (value.amount / 3).quantize(Decimal(1))
    amounts = [share, share, value.amount - 2 * share]
    span = (end - start).days
    result = []
    for k, (label, amount) in enumerate(zip(names, amounts, strict=True)):
        planned = start + timedelta(days=span * (k + 1) // 3)
        accepted = None
        if planned < first:
            accepted = planned + timedelta(days=rng.randint(0, 10))
            accepted = min(accepted, first - timedelta(days=1))
        elif planned <= last and rng.random() < 0.7:
            accepted = planned
        result.append(
            Milestone(
                id=f"ctr-{n:04d}-m{k + 1}",
                name=label,
                amount=Money(amount, value.currency),
                accepted_on=accepted,
            )
        )
    if not any(m.accepted_on and first <= m.accepted_on <= last for m in result) and rng.random() < 0.7:
        # The client accepts the next deliverable early, inside the simulated window.
        pending = next((i for i, m in enumerate(result) if m.accepted_on is None), None)
        if pending is not None:
            early = max(first, start) + timedelta(days=rng.randint(0, 9))
            m = result[pending]
            result[pending] = Milestone(id=m.id, name=m.name, amount=m.amount, accepted_on=min(early, last))
    return tuple(result)


def _won(firm: Firm, rng: random.Random, n: int, contract: Contract, name: str) -> Opportunity:
    close = contract.start_date - timedelta(days=rng.randint(5, 30))
    value = (
        contract.cap
        or contract.fixed_fee
        or Money(sum((m.amount.amount for m in contract.milestones), Decimal(0)), contract.currency)
    )
    if value.is_zero:
        value = Money(
            (Decimal(rng.randint(8, 40)) * 10000 * _factor(contract.currency)).quantize(Decimal(1)),
            contract.currency,
        )
    card = contract.rate_card[0]
    lines = tuple(
        {"role": role, "hours": rng.choice((80, 160, 240, 320)), "rate": str(rate)}
        for role, rate in sorted(card.rates.items())
        if rng.random() < 0.6
    )
    return Opportunity(
        id=f"opp-{n:04d}",
        customer_id=contract.customer_id,
        name=name,
        stage=rng.choice(_WON_STAGES),
        is_won=True,
        is_closed=True,
        probability=100,
        close_date=close,
        amount=value,
        contract_id=contract.id,
        modified_at=_stamp(close, rng),
        lines=lines,
    )


def _pipeline(firm: Firm, rng: random.Random, n: int, customer: Customer) -> Opportunity:
    first, last = window(firm)
    close = first + timedelta(days=rng.randint(0, (last - first).days + 60))
    amount = Money(
        (Decimal(rng.randint(5, 50)) * 10000 * _factor(customer.currency)).quantize(Decimal(1)),
        customer.currency,
    )
    if rng.random() < 0.2:
        return Opportunity(
            id=f"opp-{n:04d}",
            customer_id=customer.id,
            name=f"{customer.name} - renewal",
            stage="Closed Lost",
            is_won=False,
            is_closed=True,
            probability=0,
            close_date=close,
            amount=amount,
            contract_id=None,
            modified_at=_stamp(min(close, last), rng),
        )
    stage, probability = rng.choice(_OPEN_STAGES)
    modified = first + timedelta(days=rng.randint(0, (last - first).days))
    return Opportunity(
        id=f"opp-{n:04d}",
        customer_id=customer.id,
        name=f"{customer.name} - phase 2",
        stage=stage,
        is_won=False,
        is_closed=False,
        probability=probability,
        close_date=close,
        amount=amount,
        contract_id=None,
        modified_at=_stamp(modified, rng),
    )


def _factor(currency: str) -> Decimal:
    return {"USD": Decimal(1), "GBP": Decimal("0.8"), "EUR": Decimal("0.92")}[currency]


def _months_after(day: date, k: int) -> date:
    month = month_starts(day.replace(day=1), k + 1)[k]
    return month.replace(day=min(day.day, 28))
