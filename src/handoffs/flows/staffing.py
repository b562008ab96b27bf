"""Staffing: a resource request is filled by a resource who is available and fits, or it is an exception.

    AssignConsultant(request, resource) --assign--> checks, in order (each a named rule):
        staffing.request_open     the request exists and is open
        staffing.resource_known   the HRIS knows the resource
        staffing.role             the resource's role is the role requested
        staffing.legal_entity     the resource works for the project's legal entity
        staffing.cost_rate        the HRIS gives a positive cost rate
        staffing.availability     weekly capacity minus overlapping allocations covers the hours
    --> Assignment (the hub's write) + request filled + ConsultantAssigned(time_to_staff_hours)
    --> or a ``staffing`` exception naming the rule + StaffingRefused

Requests come in like any record (a configured system's pull, ``handoffs load``, the
process API): a stored request that is open and names a ``proposed_resource_id`` is sent
to the check (:func:`request_staffing`, called by ingest in the same transaction); the
process API also assigns a named resource to an open request.

Time to staff is the time from the request's ``requested_at`` to when the resource was
named (``assigned_at``: the source's ``proposed_at``, else the command's time), in hours;
it is recorded on the assignment, the event and in the decision log.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson

from handoffs.domain.catalog import CanonicalRecord
from handoffs.domain.messages import AssignConsultant, ConsultantAssigned, StaffingRefused
from handoffs.domain.parties import Resource
from handoffs.domain.work import Assignment, Project, ResourceRequest
from handoffs.engine.registry import Handler
from handoffs.flows.ingest_reports import correlation_for_project
from handoffs.flows.ports import Ports

__all__ = ["assign_consultant", "availability", "check_staffing", "handlers", "request_staffing"]


def _overlaps(a: Assignment, request: ResourceRequest) -> bool:
    return a.start_date <= request.end_date and (a.end_date is None or a.end_date >= request.start_date)


def availability(resource: Resource, request: ResourceRequest, assignments: list[Assignment]) -> Decimal:
    """Weekly hours left: capacity minus the allocations that overlap the request's dates."""
    taken = sum(
        (a.hours_per_week for a in assignments if a.resource_id == resource.id and _overlaps(a, request)),
        Decimal(0),
    )
    return resource.weekly_capacity_hours - taken


def check_staffing(
    request: ResourceRequest | None,
    resource: Resource | None,
    project: Project | None,
    assignments: list[Assignment],
) -> tuple[str, str] | None:
    """The first rule the staffing breaks as ``(rule, reason)``, or None when it may go ahead (pure)."""
    if request is None or request.status != "open" or project is None:
        return "staffing.request_open", "the request is not open (or its project is unknown)"
    if resource is None:
        return "staffing.resource_known", "the HRIS does not know this resource"
    if resource.role != request.role:
        return "staffing.role", f"{resource.id} is a {resource.role}, the request is for a {request.role}"
    if resource.legal_entity_id != project.legal_entity_id:
        return (
            "staffing.legal_entity",
            f"{resource.id} works for {resource.legal_entity_id}, not {project.legal_entity_id}",
        )
    if resource.cost_rate.amount <= 0:
        return "staffing.cost_rate", f"{resource.id} has no cost rate in the HRIS"
    free = availability(resource, request, assignments)
    if free < request.hours_per_week:
        return (
            "staffing.availability",
            f"{resource.id} has {free} h/week free, the request needs {request.hours_per_week}",
        )
    return None


def assign_consultant(commands: list[AssignConsultant], uow: Any, ports: Ports) -> None:
    """Fill each request with the named resource, or raise a staffing exception naming the rule."""
    for cmd in commands:
        request = uow.objects.get("resource_request", cmd.request_id)
        resource = uow.objects.get("resource", cmd.resource_id)
        project = uow.objects.get("project", request.project_id) if request else None
        if request is not None and uow.objects.get("assignment", f"A-{request.id}-{cmd.resource_id}"):
            _refill(uow, request, cmd)  # already staffed with this resource: a source re-sent it open
            continue
        broken = check_staffing(request, resource, project, uow.objects.all("assignment"))
        assigned_at = cmd.assigned_at or cmd.occurred_at
        hours = Decimal((assigned_at - cmd.requested_at).total_seconds()) / 3600
        hours = hours.quantize(Decimal("0.01"))
        log = ports.decisions(uow) if ports.decisions else None
        if broken is not None:
            rule, reason = broken
            uow.exceptions.add(
                category="staffing",
                source="flow:staffing",
                reason=f"request {cmd.request_id}: {rule}: {reason}",
                raw=orjson.dumps({"request_id": cmd.request_id, "resource_id": cmd.resource_id}).decode(),
                detail={
                    "rule": rule,
                    "resource_id": cmd.resource_id,
                    "project_id": request.project_id if request else None,
                },
                object_type="resource_request",
                object_id=cmd.request_id,
                correlation_id=correlation_for_project(project.id) if project else None,
                fingerprint=f"staffing:{cmd.message_id}",
            )
            if log is not None and project is not None:
                log.record(
                    record_type="resource_request",
                    record_id=cmd.request_id,
                    record_version=cmd.message_id,
                    project_id=project.id,
                    period=None,
                    policy=None,
                    policy_version=None,
                    outcome="reject",
                    rule=rule,
                    reason=reason,
                )
            uow.publish(
                StaffingRefused(
                    message_id=ports.ids.derive("staffing-refused", cmd.message_id),
                    occurred_at=cmd.occurred_at,
                    correlation_id=correlation_for_project(project.id)
                    if project
                    else f"request:{cmd.request_id}",
                    request_id=cmd.request_id,
                    resource_id=cmd.resource_id,
                    project_id=project.id if project else None,
                    rule=rule,
                    reason=reason,
                )
            )
            continue
        assert request is not None and project is not None and resource is not None
        assignment = Assignment(
            id=f"A-{request.id}-{resource.id}",
            project_id=project.id,
            resource_id=resource.id,
            role=request.role,
            start_date=request.start_date,
            end_date=request.end_date,
            hours_per_week=request.hours_per_week,
            request_id=request.id,
            assigned_at=assigned_at,
        )
        stamp = cmd.occurred_at.isoformat()
        uow.objects.upsert(
            [
                CanonicalRecord("assignment", assignment, "handoffs", stamp),
                CanonicalRecord("resource_request", replace(request, status="filled"), "handoffs", stamp),
            ]
        )
        if log is not None:
            log.record(
                record_type="resource_request",
                record_id=request.id,
                record_version=cmd.message_id,
                project_id=project.id,
                period=None,
                policy=None,
                policy_version=None,
                outcome="assigned",
                rule="staffing",
                reason=f"{resource.id} assigned; time to staff {hours} h",
            )
        uow.publish(
            ConsultantAssigned(
                message_id=ports.ids.derive("consultant-assigned", assignment.id),
                occurred_at=assigned_at,
                correlation_id=correlation_for_project(project.id),
                assignment_id=assignment.id,
                request_id=request.id,
                resource_id=resource.id,
                project_id=project.id,
                time_to_staff_hours=hours,
            )
        )


def _refill(uow: Any, request: ResourceRequest, cmd: AssignConsultant) -> None:
    if request.status != "filled":
        stamp = cmd.occurred_at.isoformat()
        uow.objects.upsert(
            [CanonicalRecord("resource_request", replace(request, status="filled"), "handoffs", stamp)]
        )


def request_staffing(uow: Any, ports: Ports, stored: list[tuple[ResourceRequest, int]]) -> int:
    """Send each stored (request, version) that is open and names a resource to the staffing check.

    Called in the transaction that stored the requests; the command's id derives from the
    request's version, so a request read again unchanged is not checked twice. Returns how
    many checks were queued.
    """
    queued = 0
    for request, version in stored:
        if request.status != "open" or request.proposed_resource_id is None:
            continue
        now = ports.clock.now()
        uow.publish(
            AssignConsultant(
                message_id=ports.ids.derive(
                    "assign-consultant", request.id, request.proposed_resource_id, str(version)
                ),
                occurred_at=now,
                correlation_id=correlation_for_project(request.project_id),
                request_id=request.id,
                resource_id=request.proposed_resource_id,
                requested_at=request.requested_at or now,
                assigned_at=request.proposed_at,
            )
        )
        queued += 1
    return queued


def handlers() -> list[Handler]:
    return [Handler("staffing.assign", AssignConsultant, handle=assign_consultant)]
