"""What the process and system layers do, each in the caller's unit of work.

Routes parse and hand over; these functions check visibility, reuse the hub's own paths
(the ingest path that ``handoffs load`` uses, the outbox, the work queue) and describe the
change for the audit log. Nothing here commits: :func:`handoffs.api.idempotency.run_once`
commits the change, its audit rows and the stored response together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from handoffs.api.context import ApiSettings, Principal
from handoffs.api.entities import project_entity, require_visible
from handoffs.api.idempotency import Audit, Result
from handoffs.api.problems import Conflict, NotFound
from handoffs.api.quotas import charge_exceptions
from handoffs.api.writable import check_writable
from handoffs.domain.codec import encode
from handoffs.domain.messages import GenerateInvoice
from handoffs.flows.ingest import SourceRecord, correlation_for_project, ingest_lines, ingest_records
from handoffs.flows.ports import Ports
from handoffs.store.uow import SqlUnitOfWork

__all__ = [
    "approve_time",
    "ignore_exception",
    "replay",
    "replay_exception",
    "replay_preview",
    "retry_exception",
    "run_invoices",
    "upsert",
]


class _Joined:
    """Lends the caller's open unit of work to code that opens and commits its own."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def __call__(self) -> _Joined:
        return self

    def __enter__(self) -> _Joined:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:  # the caller commits once, with the audit rows
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


def upsert(
    uow: SqlUnitOfWork,
    ports: Ports,
    principal: Principal,
    records: list[dict[str, Any]],
    settings: ApiSettings,
) -> Result:
    """Ingest as ``api:<client>``; raises ExceptionBudgetSpent when it would raise too many."""
    before, entities = check_writable(uow, principal, records)
    lines = [json.dumps(r) for r in records]  # orjson refuses ints beyond 64 bits; ingest reports them
    source = f"api:{principal.client_id}"  # who sent it, never what the body claims
    report = ingest_lines(lines, _Joined(uow), ports, source=source, provenance="client")
    charge_exceptions(uow, principal, settings, source, entities)
    return Result(
        200, report.as_dict(), [Audit("system.upsert", f"{len(records)} record(s)", before, report.as_dict())]
    )


def approve_time(
    uow: SqlUnitOfWork, ports: Ports, principal: Principal, entry_ids: list[str], approved_by: str | None
) -> Result:
    records: list[SourceRecord] = []
    unchanged: list[str] = []
    for entry_id in dict.fromkeys(entry_ids):
        stored = uow.time_entries.get(entry_id)
        entity = None if stored is None else project_entity(uow, stored.entry.project_id)
        if stored is None or not principal.sees(entity):
            raise NotFound(f"time entry {entry_id} was not found")
        if stored.entry.status == "approved":
            unchanged.append(entry_id)
            continue
        data = encode(stored.entry) | {
            "type": "time_entry",
            "status": "approved",
            "approved_by": approved_by or principal.name,
            "approved_at": uow.now.isoformat(),
        }
        records.append(SourceRecord(f"api approval {entry_id}", orjson.dumps(data).decode(), data))
    # the hub versions the approval: the timesheet system's next update still wins
    report = ingest_records(records, _Joined(uow), ports, source=principal.actor, provenance="client")
    approved = [r.data["id"] for r in records]
    body = {"approved": approved, "unchanged": unchanged, "approvals_published": report.approvals_published}
    audit = Audit(
        "process.approve_time",
        f"time_entry:{','.join(approved)[:200]}",
        {i: "not approved" for i in approved},
        {i: "approved" for i in approved},
    )
    return Result(200, body, [audit] if approved else [])


def run_invoices(
    uow: SqlUnitOfWork, ports: Ports, principal: Principal, project_id: str, period: str, key: str
) -> Result:
    require_visible(principal, project_entity(uow, project_id), f"project {project_id}")
    if uow.objects.get("project", project_id) is None:
        raise NotFound(f"project {project_id} was not found")
    command = GenerateInvoice(
        message_id=ports.ids.derive("api-generate-invoice", principal.client_id, key, project_id, period),
        occurred_at=uow.now,
        correlation_id=correlation_for_project(project_id),
        project_id=project_id,
        period=period,
    )
    uow.publish(command)
    body = {
        "command_id": command.message_id,
        "type": "GenerateInvoice",
        "correlation_id": command.correlation_id,
    }
    return Result(
        202,
        body,
        [
            Audit(
                "process.generate_invoice",
                f"project:{project_id}",
                None,
                {"period": period, "command_id": command.message_id},
            )
        ],
    )


def _exception_entity(uow: SqlUnitOfWork, record: Any) -> str | None:
    if record.legal_entity_id is not None:  # raised by an entity-scoped client's records
        return str(record.legal_entity_id)
    if record.object_type == "time_entry" and record.object_id:
        stored = uow.time_entries.get(record.object_id)
        return None if stored is None else project_entity(uow, stored.entry.project_id)
    if (record.correlation_id or "").startswith("project:"):
        return project_entity(uow, (record.correlation_id or "")[len("project:") :])
    return None


def _exception(uow: SqlUnitOfWork, principal: Principal, exception_id: int) -> Any:
    record = uow.exceptions.get(exception_id)
    entity = None if record is None else _exception_entity(uow, record)
    if record is None or not principal.sees(entity):
        raise NotFound(f"exception {exception_id} was not found")
    if record.state in ("resolved", "ignored"):
        raise Conflict(f"exception {exception_id} is already {record.state}")
    return record


def _exception_body(record: Any, state: str, reason: str, requeued: bool) -> dict[str, Any]:
    return {
        "id": record.id,
        "category": record.category,
        "state": state,
        "reason": record.reason,
        "resolution": reason,
        "work_requeued": requeued,
    }


def retry_exception(
    uow: SqlUnitOfWork,
    principal: Principal,
    exception_id: int,
    reason: str,
    remap: Callable[[SqlUnitOfWork, Any, str], Any] | None = None,
) -> Result:
    """Retry: a held record of a pull is mapped again from its stored payload (``remap``, see
    :func:`handoffs.sync.remap.remapper`, which audits it); a dead letter's work is requeued."""
    record = _exception(uow, principal, exception_id)
    try:
        outcome = remap(uow, record, reason) if remap is not None and record.work_id is None else None
    except ValueError as exc:  # the system's mapping file does not load, or lacks the resource
        raise Conflict(f"exception {exception_id} cannot be mapped again: {exc}") from None
    if outcome is not None:
        body = _exception_body(record, outcome.state, outcome.reason, False) | {"remap": outcome.as_dict()}
        return Result(200, body, [])
    if record.work_id is None:
        raise Conflict(
            f"exception {exception_id} has no work item to retry; fix the source and load it again"
        )
    uow.queue.requeue(record.work_id, uow.now.timestamp())
    uow.exceptions.set_state(exception_id, "retrying", reason)
    audit = Audit(
        "process.retry_exception",
        f"exception:{exception_id}",
        {"state": record.state},
        {"state": "retrying", "reason": reason},
    )
    return Result(200, _exception_body(record, "retrying", reason, True), [audit])


def replay_exception(
    uow: SqlUnitOfWork, subscriptions: Any, principal: Principal, exception_id: int, reason: str
) -> Result:
    """Run the exception's work again (its message, else its flow's messages); resolved as replayed."""
    from handoffs.engine.replay import queue_exception_replay

    record = _exception(uow, principal, exception_id)
    try:
        _, queued, resolution = queue_exception_replay(
            uow, exception_id, subscriptions=subscriptions, reason=reason
        )
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    audit = Audit(
        "process.replay_exception",
        f"exception:{exception_id}",
        {"state": record.state},
        {"state": "resolved", "reason": reason, "queued": queued},
    )
    return Result(200, _exception_body(record, "resolved", resolution, True), [audit])


def replay_preview(
    uow: SqlUnitOfWork, ports: Ports, registry: Any, principal: Principal, exception_id: int
) -> Any:
    """What the replay would produce, worked out and rolled back (nothing is kept or audited)."""
    from handoffs.flows.triage import replay_preview as preview

    _exception(uow, principal, exception_id)
    return preview(uow, exception_id, registry=registry, ports=ports)


def ignore_exception(uow: SqlUnitOfWork, principal: Principal, exception_id: int, reason: str) -> Result:
    record = _exception(uow, principal, exception_id)
    uow.exceptions.set_state(exception_id, "ignored", reason)
    audit = Audit(
        "process.ignore_exception",
        f"exception:{exception_id}",
        {"state": record.state},
        {"state": "ignored", "reason": reason},
    )
    return Result(200, _exception_body(record, "ignored", reason, False), [audit])


def replay(
    uow: SqlUnitOfWork,
    subscriptions: Any,
    principal: Principal,
    correlation_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Result:
    if principal.entities is not None:
        project = (
            (correlation_id or "")[len("project:") :] if (correlation_id or "").startswith("project:") else ""
        )
        require_visible(principal, project_entity(uow, project), f"correlation id {correlation_id}")
    selected = uow.messages.select(since=since, until=until, correlation_id=correlation_id)
    queued = uow.queue.enqueue_replay(selected, subscriptions, uow.now.timestamp())
    criteria = {"correlation_id": correlation_id, "since": since, "until": until}
    return Result(
        200,
        {"queued": queued},
        [Audit("process.replay", correlation_id or "time range", None, {**criteria, "queued": queued})],
    )
