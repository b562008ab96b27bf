"""Money data products: backlog, WIP, DSO and project margin, by legal entity, month and currency.

Amounts stay in the document's currency (contract or invoice); nothing is converted except
a project's labour cost, which is converted into the contract's currency at the FX rate in
force on the month's last day. Every reported amount is rounded once, half-up, to the
currency's minor unit, after summing.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from handoffs.analytics.base import Col, Context, Product, add_months, money, month_end, q2, ratio
from handoffs.domain.errors import NoEffectiveRate
from handoffs.domain.money import Money

__all__ = ["backlog", "dso", "project_margin", "wip"]

KEY = (Col("legal_entity_id"), Col("period"), Col("currency"))
BACKLOG = (
    *KEY,
    Col("contracts", "int"),
    Col("fixed_fee_remaining", "dec", 4),
    Col("milestone_remaining", "dec", 4),
    Col("capped_tm_remaining", "dec", 4),
    Col("backlog", "dec", 4),
)
WIP = (
    *KEY,
    Col("recognised_in_period", "dec", 4),
    Col("billed_in_period", "dec", 4),
    Col("recognised_to_date", "dec", 4),
    Col("billed_to_date", "dec", 4),
    Col("wip", "dec", 4),
    Col("deferred_revenue", "dec", 4),
)
DSO = (
    *KEY,
    Col("receivables", "dec", 4),
    Col("billed_3m", "dec", 4),
    Col("days_3m", "int"),
    Col("dso_days", "dec", 2),
)
MARGIN = (
    Col("legal_entity_id"),
    Col("period"),
    Col("project_id"),
    Col("currency"),
    Col("hours", "dec", 2),
    Col("revenue", "dec", 4),
    Col("cost", "dec", 4),
    Col("margin", "dec", 4),
    Col("margin_pct", "dec", 4),
)
ZERO = Decimal(0)


def _tm_value_by_contract(ctx: Context) -> dict[str, dict[str, Decimal]]:
    """Approved billable priced time (hours x rate, unrounded) by contract and month worked."""
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for project_id, _, period, billable, rate, hours in ctx.approved_time:
        project = ctx.projects.get(project_id)
        if billable and rate is not None and project is not None and project.contract_id:
            found[project.contract_id][period] += hours * rate
    return found


def backlog(ctx: Context) -> Product:
    """Contracted value not yet delivered at each month end.

    fixed fee: fee - fixed-fee revenue recognised to date (floored at 0); milestone: the
    milestones not accepted by the month end; capped T&M, while the contract is open: cap -
    approved billable time valued at its priced rate to date (floored at 0). Uncapped T&M
    has no contracted ceiling and is left out.
    """
    recognised: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for e in ctx.revenue_events:
        recognised[e.contract_id].append((e.period, e.amount.amount))
    delivered = _tm_value_by_contract(ctx)
    product = Product("backlog", BACKLOG)
    for period in ctx.periods:
        end, start = month_end(period), month_end(add_months(period, -1))
        groups: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
        for c in ctx.contracts.values():
            if not ctx.scope.has_entity(c.legal_entity_id) or c.start_date > end:
                continue
            g = groups[(c.legal_entity_id, c.currency)]
            if c.billing_model == "fixed_fee" and c.fixed_fee is not None:
                done = sum((a for p, a in recognised[c.id] if p <= period), ZERO)
                left = max(ZERO, c.fixed_fee.amount - done)
                g[1] += left
            elif c.billing_model == "milestone":
                left = sum(
                    (m.amount.amount for m in c.milestones if m.accepted_on is None or m.accepted_on > end),
                    ZERO,
                )
                g[2] += left
            elif c.cap is not None and (c.end_date is None or c.end_date > start):
                done = sum((v for p, v in delivered[c.id].items() if p <= period), ZERO)
                left = max(ZERO, c.cap.amount - done)
                g[3] += left
            else:
                continue
            g[0] += 1 if left else 0
        for (entity, currency), (n, fee, milestones, capped) in sorted(groups.items()):
            product.rows.append(
                {
                    "legal_entity_id": entity,
                    "period": period,
                    "currency": currency,
                    "contracts": int(n),
                    "fixed_fee_remaining": money(fee, currency),
                    "milestone_remaining": money(milestones, currency),
                    "capped_tm_remaining": money(capped, currency),
                    "backlog": money(fee + milestones + capped, currency),
                }
            )
    return product


def wip(ctx: Context) -> Product:
    """Recognised revenue not yet billed (an unbilled receivable), netted per contract.

    At each month end, per contract: recognised to date (revenue events of months up to it)
    - billed to date (net subtotals of invoices and credit notes issued by then, leaving out
    invoices imported from before the hub, whose revenue was recognised elsewhere). A positive
    balance is WIP; a negative one is deferred revenue.
    """
    events: dict[str, list[tuple[str, Decimal, str, str]]] = defaultdict(list)
    posted = ctx.posted
    for e in ctx.revenue_events:
        when = posted.get(e.id, e.period)
        events[e.contract_id].append((when, e.amount.amount, e.legal_entity_id, e.amount.currency))
    bills: dict[str, list[tuple[str, Decimal, str, str]]] = defaultdict(list)
    for r in ctx.invoice_rows:
        if r.status != "imported":
            when = posted.get(r.id, r.issue_date.isoformat()[:7])
            bills[r.contract_id].append((when, r.subtotal, r.legal_entity_id, r.currency))
    product = Product("wip", WIP)
    contracts = sorted(set(events) | set(bills))
    for period in ctx.periods:
        sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * 6)
        for cid in contracts:
            rec, bill = _upto(events[cid], period), _upto(bills[cid], period)
            entity, currency = next(iter((*events[cid], *bills[cid])))[2:]
            if not ctx.scope.has_entity(entity):
                continue
            s = sums[(entity, currency)]
            balance = rec[1] - bill[1]
            for i, v in enumerate(
                (rec[0], bill[0], rec[1], bill[1], max(balance, ZERO), max(-balance, ZERO))
            ):
                s[i] += v
        for (entity, currency), s in sorted(sums.items()):
            names = [c.name for c in WIP[3:]]
            product.rows.append(
                {"legal_entity_id": entity, "period": period, "currency": currency}
                | {n: money(v, currency) for n, v in zip(names, s, strict=True)}
            )
    return product


def _upto(items: list[tuple[str, Decimal, str, str]], period: str) -> tuple[Decimal, Decimal]:
    """(amount in the month, amount up to and including it)."""
    return (
        sum((a for p, a, *_ in items if p == period), ZERO),
        sum((a for p, a, *_ in items if p <= period), ZERO),
    )


def dso(ctx: Context) -> Product:
    """Days sales outstanding by the count-back-free three-month method.

    receivables = invoice totals (with tax; credit notes negative) issued by the month end -
    payments received by then against them; billed_3m = totals issued in the three months
    ending with the month; DSO = receivables / billed_3m x days in those three months.
    """
    issued: dict[tuple[str, str], list[tuple[str, Decimal]]] = defaultdict(list)
    entity_of: dict[str, tuple[str, str]] = {}
    for r in ctx.invoice_rows:
        issued[(r.legal_entity_id, r.currency)].append((r.issue_date.isoformat(), r.total))
        entity_of[r.id] = (r.legal_entity_id, r.currency)
    paid: dict[tuple[str, str], list[tuple[str, Decimal]]] = defaultdict(list)
    for pay in ctx.payments:
        key = entity_of.get(pay.invoice_id)
        if key is not None:
            paid[key].append((pay.received_on.isoformat(), pay.amount.amount))
    product = Product("dso", DSO)
    for period in ctx.periods:
        end = month_end(period).isoformat()
        window_start = month_end(add_months(period, -3))
        days = (month_end(period) - window_start).days
        for entity, currency in sorted(issued):
            if not ctx.scope.has_entity(entity):
                continue
            rows = issued[(entity, currency)]
            billed = sum((t for d, t in rows if d <= end), ZERO)
            received = sum((a for d, a in paid[(entity, currency)] if d <= end), ZERO)
            window = sum((t for d, t in rows if window_start.isoformat() < d <= end), ZERO)
            ar = billed - received
            product.rows.append(
                {
                    "legal_entity_id": entity,
                    "period": period,
                    "currency": currency,
                    "receivables": money(ar, currency),
                    "billed_3m": money(window, currency),
                    "days_3m": days,
                    "dso_days": ratio(ar * days, window, 2) if window > 0 else None,
                }
            )
    return product


def project_margin(ctx: Context) -> Product:
    """Per project and month: recognised revenue - labour cost (approved hours x cost rate).

    Cost counts every approved hour (billable or not) at the resource's cost rate, converted
    to the contract's currency (the entity's for internal projects) at the month end's FX
    rate; a project whose cost cannot be converted reports cost and margin as empty. Revenue
    and cost are each rounded once; margin = revenue - cost as reported.
    """
    revenue: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for e in ctx.revenue_events:
        revenue[(e.project_id, ctx.posted.get(e.id, e.period))] += e.amount.amount
    hours: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    cost: dict[tuple[str, str], list[Money]] = defaultdict(list)
    for project_id, resource_id, period, _, _, h in ctx.approved_time:
        hours[(project_id, period)] += h
        resource = ctx.resources.get(resource_id)
        if resource is not None:
            cost[(project_id, period)].append(resource.cost_rate * h)
    product = Product("project_margin", MARGIN)
    for project_id, period in sorted(set(hours) | set(revenue)):
        entity = ctx.project_entity(project_id)
        if not ctx.scope.has(entity, period):
            continue
        currency = _currency(ctx, project_id)
        rev = money(revenue.get((project_id, period), ZERO), currency)
        spent = _convert(ctx, cost[(project_id, period)], currency, period)
        cost_ = None if spent is None else money(spent, currency)
        row: dict[str, Any] = {
            "legal_entity_id": entity,
            "period": period,
            "project_id": project_id,
            "currency": currency,
            "hours": q2(hours.get((project_id, period), ZERO)),
            "revenue": rev,
            "cost": cost_,
            "margin": None if cost_ is None else rev - cost_,
            "margin_pct": None if cost_ is None else ratio(rev - cost_, rev),
        }
        product.rows.append(row)
    return product


def _currency(ctx: Context, project_id: str) -> str:
    project = ctx.projects.get(project_id)
    contract = ctx.contracts.get(project.contract_id or "") if project else None
    if contract is not None:
        return contract.currency
    entity = ctx.entities.get(project.legal_entity_id) if project else None
    return entity.currency if entity else "USD"


def _convert(ctx: Context, costs: list[Money], currency: str, period: str) -> Decimal | None:
    total = ZERO
    for c in costs:
        try:
            total += ctx.fx.convert(c, currency, month_end(period)).converted.amount
        except NoEffectiveRate:
            return None
    return total
