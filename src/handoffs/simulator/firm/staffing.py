"""Staffing: resource requests per project and the assignments that fill them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from handoffs.domain.parties import Resource
from handoffs.domain.work import Assignment, Project, ResourceRequest
from handoffs.simulator.firm.deals import window
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.people import ROLES
from handoffs.simulator.firm.sizes import working_days

__all__ = ["build_staffing"]

RequestStatus = Literal["open", "filled", "cancelled"]

_TARGET_LOAD = Decimal("0.9")  # share of total capacity the firm tries to staff


def build_staffing(firm: Firm, rng: random.Random) -> None:
    """Open requests on active client projects until demand is near capacity; fill most of them."""
    first, last = window(firm)
    active = [
        p
        for p in firm.projects
        if p.billable and (p.covers(first) or p.covers(last) or first <= p.start_date <= last)
    ]
    if not active:
        return
    capacity = sum((r.weekly_capacity_hours for r in firm.resources), Decimal(0))
    budget = capacity * _TARGET_LOAD
    load = {r.id: Decimal(0) for r in firm.resources}
    demand, n = Decimal(0), 0
    span = Decimal(len(working_days(first, last)))
    while demand < budget:
        project = active[n % len(active)] if n < len(active) else rng.choice(active)
        n += 1
        role = rng.choices(ROLES, (22, 30, 25, 16, 7))[0]
        hours = Decimal(rng.choice((16, 24, 32, 40, 40, 40)))
        start, end = _dates(project, first, last, rng)
        request = ResourceRequest(
            id=f"req-{n:05d}",
            project_id=project.id,
            role=role,
            start_date=start,
            end_date=end,
            hours_per_week=hours,
            skills=_skills(firm, rng),
        )
        # Load counts only the share of the window the request covers, so short requests
        # leave room for another one and the firm's utilisation lands where it should.
        share = hours * Decimal(len(working_days(max(start, first), min(end, last)))) / span
        person = None if rng.random() < 0.07 else _pick(firm.resources, load, role, share)
        if person is None:
            status: RequestStatus = "cancelled" if rng.random() < 0.3 else "open"
            firm.requests.append(_with_status(request, status))
            demand += hours / 4  # unfilled demand still counts a little, so the loop ends
            continue
        firm.requests.append(_with_status(request, "filled"))
        load[person.id] += share
        demand += share
        firm.assignments.append(
            Assignment(
                id=f"asg-{len(firm.assignments) + 1:05d}",
                project_id=project.id,
                resource_id=person.id,
                role=role,
                start_date=start,
                end_date=end,
                hours_per_week=hours,
                request_id=request.id,
            )
        )


def _dates(project: Project, first: date, last: date, rng: random.Random) -> tuple[date, date]:
    start = max(project.start_date, first - timedelta(days=rng.randint(0, 60)))
    if rng.random() < 0.12:
        start = max(start, first + timedelta(days=rng.randint(3, 14)))
    end = last + timedelta(days=rng.randint(0, 90))
    if rng.random() < 0.12:
        end = first + timedelta(days=rng.randint(9, 20))
    if project.end_date is not None:
        end = min(end, project.end_date)
    return start, max(start, end)


def _skills(firm: Firm, rng: random.Random) -> tuple[str, ...]:
    person = rng.choice(firm.resources)
    return person.skills[:2]


def _pick(people: list[Resource], load: dict[str, Decimal], role: str, hours: Decimal) -> Resource | None:
    """The least-loaded person in the role with room; else anyone with room; else nobody."""
    for pool in ([p for p in people if p.role == role], people):
        room = [p for p in pool if load[p.id] + hours <= p.weekly_capacity_hours]
        if room:
            return min(room, key=lambda p: (load[p.id], p.id))
    return None


def _with_status(request: ResourceRequest, status: RequestStatus) -> ResourceRequest:
    return ResourceRequest(
        id=request.id,
        project_id=request.project_id,
        role=request.role,
        start_date=request.start_date,
        end_date=request.end_date,
        hours_per_week=request.hours_per_week,
        skills=request.skills,
        status=status,
    )
