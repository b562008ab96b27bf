"""People data products: utilisation of capacity, and how long staffing requests take to fill."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from handoffs.analytics.base import Col, Context, Product, q2, ratio, weekdays
from handoffs.domain.work import Assignment
from handoffs.store.tables import object_history

__all__ = ["time_to_staff", "utilisation"]

UTILISATION = (
    Col("legal_entity_id"),
    Col("period"),
    Col("resources", "int"),
    Col("capacity_hours", "dec", 2),
    Col("approved_hours", "dec", 2),
    Col("billable_hours", "dec", 2),
    Col("utilisation", "dec", 4),
    Col("billable_utilisation", "dec", 4),
)
TIME_TO_STAFF = (
    Col("legal_entity_id"),
    Col("period"),
    Col("requests", "int"),
    Col("filled", "int"),
    Col("open", "int"),
    Col("cancelled", "int"),
    Col("mean_days_to_staff", "dec", 2),
    Col("max_days_to_staff", "dec", 2),
    Col("mean_start_slip_days", "dec", 2),
)
HOURS = Decimal("0.01")
DAY = Decimal(86400)


def utilisation(ctx: Context) -> Product:
    """Approved hours of each entity's resources against their capacity, per month.

    capacity = sum of weekly_capacity_hours x weekdays in the month / 5, over the entity's
    resources; utilisation = approved hours / capacity (billable: approved billable hours).
    """
    weekly: dict[str, Decimal] = defaultdict(Decimal)
    heads: dict[str, int] = defaultdict(int)
    for r in ctx.resources.values():
        weekly[r.legal_entity_id] += r.weekly_capacity_hours
        heads[r.legal_entity_id] += 1
    approved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    billable: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for project_id, resource_id, period, is_billable, _, hours in ctx.approved_time:
        resource = ctx.resources.get(resource_id)
        entity = resource.legal_entity_id if resource else ctx.project_entity(project_id)
        approved[(entity, period)] += hours
        if is_billable:
            billable[(entity, period)] += hours
    product = Product("utilisation", UTILISATION)
    entities = sorted({e for e in weekly} | {e for e, _ in approved})
    for entity in entities:
        if not ctx.scope.has_entity(entity):
            continue
        for period in ctx.periods:
            capacity = weekly[entity] * weekdays(period) / 5
            hours, paid = (
                approved.get((entity, period), Decimal(0)),
                billable.get((entity, period), Decimal(0)),
            )
            product.rows.append(
                {
                    "legal_entity_id": entity,
                    "period": period,
                    "resources": heads[entity],
                    "capacity_hours": q2(capacity),
                    "approved_hours": q2(hours),
                    "billable_hours": q2(paid),
                    "utilisation": ratio(hours, capacity),
                    "billable_utilisation": ratio(paid, capacity),
                }
            )
    return product


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _first_seen(ctx: Context) -> dict[tuple[str, str], datetime]:
    """When the hub first recorded each request and assignment (version 1 in the history)."""
    oh = object_history
    rows = ctx.conn.execute(
        select(oh.c.type, oh.c.id, func.min(oh.c.recorded_at))
        .where(oh.c.type.in_(("resource_request", "assignment")))
        .group_by(oh.c.type, oh.c.id)
    )
    return {(t, i): at for t, i, at in rows}


@dataclass(slots=True)
class _Staffing:
    requests: int = 0
    open: int = 0
    cancelled: int = 0
    staff_days: list[Decimal] = field(default_factory=list)
    slip_days: list[Decimal] = field(default_factory=list)


def time_to_staff(ctx: Context) -> Product:
    """Resource requests by the month they start: how many were filled, and how fast.

    A request's assignment is the first one naming it (earliest recorded by the hub, then
    earliest start). days to staff = when the resource was named (the assignment's
    ``assigned_at``) - when the request was raised (its ``requested_at``), each taken from
    the records themselves; a record without its stamp (loaded before they were kept) falls
    back to when the hub first recorded it. start slip = assignment start date - requested
    start date.
    """
    seen = _first_seen(ctx)
    far = datetime.max.replace(tzinfo=UTC)
    by_request: dict[str, Assignment] = {}
    for a in sorted(
        ctx.assignments.values(), key=lambda a: (seen.get(("assignment", a.id), far), a.start_date, a.id)
    ):
        if a.request_id is not None:
            by_request.setdefault(a.request_id, a)
    groups: dict[tuple[str, str], _Staffing] = defaultdict(_Staffing)
    for req in ctx.requests.values():
        entity, period = ctx.project_entity(req.project_id), req.start_date.isoformat()[:7]
        if not ctx.scope.has(entity, period):
            continue
        g = groups[(entity, period)]
        g.requests += 1
        assignment = by_request.get(req.id)
        if assignment is None:
            if req.status == "cancelled":
                g.cancelled += 1
            else:
                g.open += 1
            continue
        g.slip_days.append(Decimal((assignment.start_date - req.start_date).days))
        staffed_at = assignment.assigned_at or seen.get(("assignment", assignment.id))
        requested_at = req.requested_at or seen.get(("resource_request", req.id))
        if staffed_at is not None and requested_at is not None:
            took = _aware(staffed_at) - _aware(requested_at)
            g.staff_days.append(Decimal(str(took.total_seconds())) / DAY)
    product = Product("time_to_staff", TIME_TO_STAFF)
    for (entity, period), g in sorted(groups.items()):
        staff = g.staff_days
        product.rows.append(
            {
                "legal_entity_id": entity,
                "period": period,
                "requests": g.requests,
                "filled": len(g.slip_days),
                "open": g.open,
                "cancelled": g.cancelled,
                "mean_days_to_staff": ratio(sum(staff, Decimal(0)), Decimal(len(staff)), 2),
                "max_days_to_staff": q2(max(staff)) if staff else None,
                "mean_start_slip_days": ratio(sum(g.slip_days, Decimal(0)), Decimal(len(g.slip_days)), 2),
            }
        )
    return product
