"""Write-backs: tell a source system what became of its records, where ``handoffs.yaml`` says so.

    ProjectApproved --request_project_id--> WriteBack(project_id) per CRM the deal came from
                                            whose port has the ``project_id`` write-back
    InvoicePosted --request_invoiced--> WriteBack(invoiced) per expense report the invoice
                                        bills lines of, to the tool they came from
    WriteBack --call_write_back (WriteBackPort, idempotency key)--> delivery confirmed
              refused for good --> dead letter, exception category ``write_back``, delivery failed

Each write-back is a delivery like a posting: one business key per system, kind and record
and value (``salesforce:write_back:project_id:006…:P-006…``), so a repeated event (the
same invoice posted to a second ERP) asks for nothing more;
transient failures are retried with backoff, and the delivery table shows its state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handoffs.domain.messages import InvoicePosted, ProjectApproved, WriteBack
from handoffs.engine.errors import TerminalError
from handoffs.engine.registry import Handler
from handoffs.flows.ports import ExternalRef, Ports

__all__ = ["handlers", "request_invoiced", "request_project_id", "write_back_key"]


def write_back_key(system: str, kind: str, record_id: str, value: str) -> str:
    return f"{system}:write_back:{kind}:{record_id}:{value}"


def _request(
    uow: Any, ports: Ports, event: Any, system: str, kind: str, record_id: str, about: tuple[str, str]
) -> None:
    """Ask for one write-back of ``about``'s id (the value written) to ``record_id``, once."""
    object_type, object_id = about
    value = object_id
    key = write_back_key(system, kind, record_id, value)
    if uow.deliveries.ensure(key, system, f"write_back_{kind}", object_type, object_id):
        uow.publish(
            WriteBack(
                message_id=ports.ids.derive("write-back", key),
                occurred_at=event.occurred_at,
                correlation_id=event.correlation_id,
                system=system,
                kind=kind,
                record_id=record_id,
                value=value,
                object_type=object_type,
                object_id=object_id,
            )
        )


def request_project_id(events: list[ProjectApproved], uow: Any, ports: Ports) -> None:
    """The project id goes back to the won opportunity, in the CRM the deal came from."""
    for event in events:
        for system, port in sorted(ports.write_backs.items()):
            if "project_id" not in port.write_back_kinds():
                continue
            if uow.xrefs.canonical_id(system, "project", event.opportunity_id) != event.project_id:
                continue  # the deal came from another CRM
            about = ("project", event.project_id)
            _request(uow, ports, event, system, "project_id", event.opportunity_id, about)


def request_invoiced(events: list[InvoicePosted], uow: Any, ports: Ports) -> None:
    """Each expense report an invoice bills lines of is marked with that invoice's id."""
    targets = [s for s, p in sorted(ports.write_backs.items()) if "invoiced" in p.write_back_kinds()]
    for event in events if targets else []:
        invoice = uow.invoices.get(event.invoice_id)
        if invoice is None or invoice.kind != "invoice":
            continue
        ids = sorted({s.id for line in invoice.lines for s in line.sources if s.type == "expense"})
        for system in targets:
            reports = set()
            for expense_id in ids:
                expense = uow.objects.get("expense", expense_id)
                came_from = uow.xrefs.external_id("expense", expense_id, system) is not None
                if expense is not None and expense.report_id and came_from:
                    reports.add(expense.report_id)
            for report in sorted(reports):
                _request(uow, ports, event, system, "invoiced", report, ("invoice", invoice.id))


def call_write_back(cmd: WriteBack, uow_factory: Callable[[], Any], ports: Ports) -> ExternalRef:
    """Write outside any transaction; a refusal is terminal with its own category."""
    port = ports.write_backs.get(cmd.system)
    if port is None or cmd.kind not in port.write_back_kinds():
        raise TerminalError(
            f"{cmd.system}: the {cmd.kind} write-back is no longer enabled", category="write_back"
        )
    key = write_back_key(cmd.system, cmd.kind, cmd.record_id, cmd.value)
    try:
        return ports.guard.call(cmd.system, lambda: port.write_back(cmd.kind, cmd.record_id, cmd.value, key))
    except TerminalError as exc:
        if exc.category == "auth":
            raise
        raise TerminalError(
            f"{cmd.system} refused the {cmd.kind} write-back to {cmd.record_id}: {exc}", category="write_back"
        ) from exc


def record_write_back(cmd: WriteBack, ref: ExternalRef, uow: Any, ports: Ports) -> None:
    uow.deliveries.confirm(write_back_key(cmd.system, cmd.kind, cmd.record_id, cmd.value), ref.external_id)


def write_back_dead(cmd: WriteBack, error: str, uow: Any, ports: Ports) -> None:
    """Refused for good: the delivery is failed (the exception and dead letter say why)."""
    key = write_back_key(cmd.system, cmd.kind, cmd.record_id, cmd.value)
    uow.deliveries.failed_attempt(key, error, final=True)


def handlers() -> list[Handler]:
    return [
        Handler("write-back.project-id", ProjectApproved, handle=request_project_id),
        Handler("write-back.invoiced", InvoicePosted, handle=request_invoiced),
        Handler(
            "write-back.deliver",
            WriteBack,
            call=call_write_back,
            record=record_write_back,
            on_dead=write_back_dead,
        ),
    ]
