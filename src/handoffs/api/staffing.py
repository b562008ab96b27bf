"""Staffing through the process API: raise a resource request, name a resource for one.

Both end at the staffing check (:mod:`handoffs.flows.staffing`): a request naming a
``proposed_resource_id`` is stored through the ingest path (as ``handoffs load`` and a pull
store it) and sent to the check in the same transaction; naming a resource for an open
request publishes ``AssignConsultant``. The worker then assigns (``ConsultantAssigned``)
or refuses (``StaffingRefused`` and a ``staffing`` exception). Nothing here commits.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from handoffs.api.commands import _Joined
from handoffs.api.context import Principal
from handoffs.api.entities import project_entity, require_visible
from handoffs.api.idempotency import Audit, Result
from handoffs.api.problems import Conflict, NotFound, Unprocessable
from handoffs.api.writable import check_writable
from handoffs.domain.catalog import decode_record
from handoffs.domain.errors import DomainError
from handoffs.domain.messages import AssignConsultant
from handoffs.flows.ingest import correlation_for_project, ingest_lines
from handoffs.flows.ports import Ports
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["name_resource", "submit_request"]


def submit_request(uow: SqlUnitOfWork, ports: Ports, principal: Principal, body: dict[str, Any]) -> Result:
    """Store a resource request as ``api:<client>``; one naming a resource goes to the staffing check."""
    record = {
        "type": "resource_request",
        **body,
        "requested_at": body.get("requested_at") or uow.now.isoformat(),
    }
    try:
        request = decode_record(record).obj
    except (DomainError, TypeError, ValueError, OverflowError) as exc:
        raise Unprocessable(str(exc)) from None
    if uow.objects.get("project", request.project_id) is None:
        raise NotFound(f"project {request.project_id} was not found")
    before, _ = check_writable(uow, principal, [record])
    report = ingest_lines(
        [json.dumps(record)], _Joined(uow), ports, source=f"api:{principal.client_id}", provenance="client"
    )
    outcome = next(iter(report.outcomes), "unchanged")
    staffing = "queued" if request.proposed_resource_id and outcome in ("inserted", "updated") else "waiting"
    answer = {"request_id": request.id, "outcome": outcome, "staffing": staffing}
    return Result(
        202, answer, [Audit("process.resource_request", f"resource_request:{request.id}", before, answer)]
    )


def name_resource(
    uow: SqlUnitOfWork,
    ports: Ports,
    principal: Principal,
    request_id: str,
    resource_id: str,
    key: str,
    assigned_at: datetime | None = None,
) -> Result:
    """Publish ``AssignConsultant`` for an open request the caller may see (else 404; 409 if not open)."""
    request = uow.objects.get("resource_request", request_id)
    entity = None if request is None else project_entity(uow, request.project_id)
    if request is None:
        raise NotFound(f"resource request {request_id} was not found")
    require_visible(principal, entity, f"resource request {request_id}")
    if request.status != "open":
        raise Conflict(f"resource request {request_id} is {request.status}")
    command = AssignConsultant(
        message_id=ports.ids.derive(
            "api-assign-consultant", principal.client_id, key, request_id, resource_id
        ),
        occurred_at=uow.now,
        correlation_id=correlation_for_project(request.project_id),
        request_id=request_id,
        resource_id=resource_id,
        requested_at=request.requested_at or uow.now,
        assigned_at=assigned_at,
    )
    uow.publish(command)
    body = {
        "command_id": command.message_id,
        "type": "AssignConsultant",
        "correlation_id": command.correlation_id,
    }
    audit = Audit(
        "process.assign_consultant", f"resource_request:{request_id}", None, {"resource_id": resource_id}
    )
    return Result(202, body, [audit])
