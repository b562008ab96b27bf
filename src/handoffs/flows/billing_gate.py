"""Readiness as a gate: a billing run waits while its project is not ready, if the policy says so.

With ``readiness: {hold_billing_until_ready: true}`` in the policy in force for the project's
legal entity, a billing run for a project and period that ``handoffs readiness`` reports
``blocked`` does nothing (no revenue, invoice or journal) and is held: an exception of
category ``billing_held`` carries every reason. The next run asked for the same project and
period (a later approval, or ``handoffs bill``) is decided again; once the project is ready
it goes ahead and the held exception is resolved.
"""

from __future__ import annotations

from typing import Any

import orjson

from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.pricing import period_bounds
from handoffs.domain.work import Project
from handoffs.flows.ports import Ports
from handoffs.flows.readiness import Readiness, assess, contract_of
from handoffs.flows.validation import policy_for

__all__ = ["HELD", "hold_if_not_ready"]

HELD = "billing_held"


def hold_if_not_ready(uow: Any, ports: Ports, project: Project, period: str) -> Readiness | None:
    """The project's readiness when its run must be held (and the hold recorded), else None."""
    if ports.policies is None:
        return None
    policy = policy_for(ports.policies, uow.objects, project, period_bounds(period)[1])
    if policy is None or not policy.readiness.hold_billing_until_ready:
        return None
    reads = uow.readiness
    entities = uow.objects.all("legal_entity")
    calendar = PeriodCalendar.from_entities(entities).with_closes(uow.periods.states())
    found = assess(
        project,
        contract_of(uow, project),
        period,
        reads.time(period, project.id).get(project.id, []),
        reads.open_exceptions(period).get(project.id, []),
        project.id in reads.invoiced(period),
        policy,
        True,
        calendar.is_closed(project.legal_entity_id, period),
    )
    fingerprint = f"{HELD}:{project.id}:{period}"
    if found.status != "blocked":
        for held in uow.exceptions.list(state="open", category=HELD):
            if held.object_id == project.id and held.detail.get("period") == period:
                uow.exceptions.set_state(held.id, "resolved", "ready: the billing run went ahead")
        return None
    codes = ", ".join(r.code for r in found.reasons)
    uow.exceptions.add(
        category=HELD,
        source=f"billing:{project.id}",
        reason=f"billing of {project.id} for {period} held until ready: {codes}",
        raw=orjson.dumps(found.as_dict()).decode(),
        detail={"rule": "readiness.hold_billing_until_ready", "period": period, **found.as_dict()},
        object_type="project",
        object_id=project.id,
        correlation_id=f"project:{project.id}",
        fingerprint=fingerprint,
    )
    return found
