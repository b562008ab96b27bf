"""Revenue recognition, ASC 606 / IFRS 15 style, one rule per contract model.

* Time and materials: as delivered. A period's revenue is its approved billable time valued
  with the same grouping and rounding points as the invoice lines (so it equals the time
  invoice's subtotal to the cent), limited by a cap, plus billable expense charges.
* Fixed fee: percentage of completion, cost-to-cost. Cost to date is approved hours x
  cost rates, rounded once. Cumulative revenue = fee x min(cost / estimate, 1), rounded
  once; the period's revenue is cumulative less revenue recognised before (the cumulative
  catch-up, negative when an estimate grows). Cumulative revenue never exceeds the fee.
* Milestone: the milestone's amount, when (and dated as) the client accepts it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from handoffs.domain.billing import RevenueEvent
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.money import Money
from handoffs.domain.periods import period_of
from handoffs.domain.pricing import PricedEntry, period_bounds
from handoffs.domain.work import TimeEntry

__all__ = [
    "PercentComplete",
    "cost_to_date",
    "recognise_as_delivered",
    "recognise_milestones",
    "recognise_percent_complete",
    "revenue_to_date",
    "time_value",
]


def time_value(priced: Iterable[PricedEntry], currency: str, rounding: str = "half_up") -> Money:
    """Priced time valued like invoice lines: per resource, role and rate, rounded per group."""
    groups: dict[tuple[str, str, int, Decimal], list[PricedEntry]] = defaultdict(list)
    for p in priced:
        groups[(p.resource_id, p.role, p.rate_card_version, p.rate.amount)].append(p)
    amounts = [
        (items[0].rate * sum((p.hours for p in items), Decimal(0))).rounded(rounding)
        for items in groups.values()
    ]
    return Money.sum(amounts, currency)


def recognise_as_delivered(
    *,
    event_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    priced: Iterable[PricedEntry],
    expense_charges: Iterable[Money] = (),
    time_recognised_to_date: Money | None = None,
    rounding: str = "half_up",
) -> RevenueEvent | None:
    """Time-and-materials revenue for the time and expenses delivered in a period.

    Args:
        event_id: id of the revenue event.
        contract: the contract (its ``cap`` limits time revenue to date).
        project_id: the project delivered.
        period: the period the delivery belongs to; the event is dated its last day.
        priced: approved billable time not recognised before (``pricing.price_entry``).
        expense_charges: billable expense charges (``expenses.expense_charge``).
        time_recognised_to_date: time revenue recognised on the contract before.
        rounding: the legal entity's rounding mode.

    Returns:
        The revenue event, or None when nothing is to be recognised.
    """
    time = time_value(priced, contract.currency, rounding)
    if contract.cap is not None:
        before = time_recognised_to_date or Money.zero(contract.currency)
        room = contract.cap - before
        time = min(time, room if not room.is_negative else Money.zero(contract.currency))
    spent = Money.sum(list(expense_charges), contract.currency)
    amount = time + spent
    if amount.is_zero:
        return None
    _, last = period_bounds(period)
    return RevenueEvent(
        id=event_id,
        contract_id=contract.id,
        project_id=project_id,
        legal_entity_id=contract.legal_entity_id,
        period=period,
        recognised_on=last,
        amount=amount,
        method="as_delivered",
        basis=f"as delivered: time {time} + billable expenses {spent}",
    )


def cost_to_date(
    entries: Iterable[TimeEntry],
    cost_rates: Mapping[str, Money],
    *,
    project_id: str,
    period: str,
    currency: str,
    rounding: str = "half_up",
) -> Money:
    """Cost of a project's approved hours (billable or not) worked up to a period's end.

    Each entry costs hours x its resource's cost rate; the total is rounded once.

    Raises:
        ValidationError: a resource has no cost rate or one in another currency.
    """
    _, last = period_bounds(period)
    total = Money.zero(currency)
    for e in entries:
        if e.project_id != project_id or e.status != "approved" or e.work_date > last:
            continue
        rate = cost_rates.get(e.resource_id)
        if rate is None:
            raise ValidationError("cost_rates", f"percentage of completion: no cost rate for {e.resource_id}")
        if rate.currency != currency:
            raise ValidationError(
                "cost_rates",
                f"percentage of completion: {e.resource_id}'s cost rate is in {rate.currency}, "
                f"not {currency}",
            )
        total = total + rate * e.hours
    return total.rounded(rounding)


@dataclass(frozen=True, slots=True)
class PercentComplete:
    """A cost-to-cost measurement and the catch-up it produces."""

    ratio: Decimal  # cost / estimate, at most 1
    cumulative: Money
    recognised_before: Money
    catch_up: Money
    event: RevenueEvent | None


def recognise_percent_complete(
    *,
    event_id: str,
    contract: Contract,
    project_id: str,
    period: str,
    cost: Money,
    recognised_to_date: Money,
    estimated_cost: Money | None = None,
    rounding: str = "half_up",
) -> PercentComplete:
    """Fixed-fee revenue by cost-to-cost percentage of completion, with cumulative catch-up.

    Args:
        event_id: id of the revenue event.
        contract: a fixed-fee contract (``fixed_fee``, ``estimated_cost``).
        project_id: the project delivered.
        period: the measured period; the event is dated its last day.
        cost: cost to date (``cost_to_date``).
        recognised_to_date: fixed-fee revenue recognised on the contract before.
        estimated_cost: the current estimate at completion; the contract's when omitted.
        rounding: the legal entity's rounding mode.
    """
    if contract.billing_model != "fixed_fee" or contract.fixed_fee is None:
        raise ValidationError("billing_model", f"percentage of completion: {contract.id} is not fixed fee")
    estimate = estimated_cost or contract.estimated_cost
    if estimate is None or estimate.amount <= 0:
        raise ValidationError(
            "estimated_cost", f"percentage of completion: {contract.id} needs a cost estimate"
        )
    ratio = min(cost.amount / estimate.amount, Decimal(1))
    cumulative = (contract.fixed_fee * ratio).rounded(rounding)
    catch_up = cumulative - recognised_to_date
    event = None
    if not catch_up.is_zero:
        _, last = period_bounds(period)
        event = RevenueEvent(
            id=event_id,
            contract_id=contract.id,
            project_id=project_id,
            legal_entity_id=contract.legal_entity_id,
            period=period,
            recognised_on=last,
            amount=catch_up,
            method="percent_complete",
            basis=(
                f"cost-to-cost: cost {cost} / estimate {estimate} = {ratio * 100:.2f} %; "
                f"cumulative {contract.fixed_fee} x {ratio * 100:.2f} % = {cumulative}; "
                f"less recognised before {recognised_to_date} = {catch_up}"
            ),
        )
    return PercentComplete(ratio, cumulative, recognised_to_date, catch_up, event)


def recognise_milestones(
    *, contract: Contract, project_id: str, period: str, recognised: Iterable[str], event_id_prefix: str
) -> tuple[RevenueEvent, ...]:
    """Revenue for milestones accepted on or before a period's end and not yet recognised.

    Each event is ``<event_id_prefix>-<milestone id>``, dated the acceptance day, in the
    acceptance day's period, for the milestone's full amount.

    Args:
        recognised: ids of milestones whose revenue was recognised before.
    """
    _, last = period_bounds(period)
    done = set(recognised)
    events = []
    for m in sorted(contract.milestones, key=lambda m: m.id):
        if m.accepted_on is None or m.accepted_on > last or m.id in done:
            continue
        events.append(
            RevenueEvent(
                id=f"{event_id_prefix}-{m.id}",
                contract_id=contract.id,
                project_id=project_id,
                legal_entity_id=contract.legal_entity_id,
                period=period_of(m.accepted_on),
                recognised_on=m.accepted_on,
                amount=m.amount,
                method="milestone",
                basis=f"milestone {m.id} {m.name} accepted {m.accepted_on.isoformat()}",
            )
        )
    return tuple(events)


def revenue_to_date(events: Iterable[RevenueEvent], contract_id: str, currency: str) -> Money:
    """Revenue recognised on a contract so far (sum of its events)."""
    return Money.sum([e.amount for e in events if e.contract_id == contract_id], currency)
