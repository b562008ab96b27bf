"""Commands and events: frozen dataclasses with an id, a time and a correlation id.

Commands are imperative (``PostInvoice``) and handled exactly once; events are business
facts in the past tense (``InvoicePosted``) kept in the event log and published outward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

__all__ = [
    "MESSAGE_TYPES",
    "AssignConsultant",
    "BilledTimeChanged",
    "Command",
    "ConsultantAssigned",
    "ContractAmended",
    "Event",
    "GenerateInvoice",
    "InvoiceDeliveryFailed",
    "InvoiceGenerated",
    "InvoicePosted",
    "Message",
    "OpportunityWon",
    "PostInvoice",
    "PostJournal",
    "ProjectApproved",
    "StaffingRefused",
    "SyncContract",
    "TimeEntryApproved",
    "WriteBack",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    message_id: str
    occurred_at: datetime
    correlation_id: str

    def coalesce_key(self) -> str | None:
        """Messages with the same key wait as one: a second joins the first while it is pending."""
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Event(Message):
    """A business fact, past tense."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Command(Message):
    """An imperative request, handled exactly once."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeEntryApproved(Event):
    entry_id: str
    project_id: str
    period: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GenerateInvoice(Command):
    """Run billing for a project and period; ``issue_date`` overrides the period's last day."""

    project_id: str
    period: str
    issue_date: date | None = None

    def coalesce_key(self) -> str | None:
        # The billing run looks at everything priced by the time it runs, so a run still waiting
        # for a worker covers what a later approval batch asks for too.
        return f"GenerateInvoice|{self.project_id}|{self.period}|{self.issue_date or ''}"


@dataclass(frozen=True, kw_only=True, slots=True)
class InvoiceGenerated(Event):
    invoice_id: str
    project_id: str
    period: str
    currency: str
    total: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class PostInvoice(Command):
    invoice_id: str
    system: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PostJournal(Command):
    """Send one journal entry to one ERP (routed there by ``handoffs.yaml``)."""

    journal_id: str
    system: str


@dataclass(frozen=True, kw_only=True, slots=True)
class InvoicePosted(Event):
    invoice_id: str
    system: str
    external_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class InvoiceDeliveryFailed(Event):
    invoice_id: str
    system: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ContractAmended(Event):
    """A contract changed after handoff (for example a new rate-card version)."""

    contract_id: str
    version: int


@dataclass(frozen=True, kw_only=True, slots=True)
class BilledTimeChanged(Event):
    """A source system changed a time entry that is already billed; the change waits for a person.

    ``entry`` is the proposed version in canonical JSON.
    """

    entry_id: str
    entry: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OpportunityWon(Event):
    """A CRM opportunity was won (``IsWon``, never a stage label).

    ``terms`` is the deal's commercial terms as canonical JSON: ``{"customer": {...},
    "contract": {...}, "project": {...}}`` (see docs/policies.md, opportunity to project).
    """

    opportunity_id: str
    system: str
    terms: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ProjectApproved(Event):
    """A won deal became a contract and a project shell with its billing structure."""

    project_id: str
    contract_id: str
    customer_id: str
    opportunity_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncContract(Command):
    """Send a contract's metadata to one ERP."""

    contract_id: str
    system: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WriteBack(Command):
    """Tell a source system what became of one of its records: the project a won opportunity
    became (``project_id``), or that an expense report was invoiced (``invoiced``)."""

    system: str
    kind: str
    record_id: str  # the record's own id in that system
    value: str
    object_type: str  # the hub's object the write-back is about
    object_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignConsultant(Command):
    """Staff a resource request with one resource; ``requested_at`` starts the time-to-staff clock."""

    request_id: str
    resource_id: str
    requested_at: datetime
    assigned_at: datetime | None = None  # when the resource was named (default: the command's time)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsultantAssigned(Event):
    assignment_id: str
    request_id: str
    resource_id: str
    project_id: str
    time_to_staff_hours: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class StaffingRefused(Event):
    """A resource could not fill a request: the staffing rule it broke and why (also an exception)."""

    request_id: str
    resource_id: str
    project_id: str | None
    rule: str
    reason: str


MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    cls.__name__: cls
    for cls in (
        TimeEntryApproved,
        GenerateInvoice,
        InvoiceGenerated,
        PostInvoice,
        PostJournal,
        InvoicePosted,
        InvoiceDeliveryFailed,
        ContractAmended,
        BilledTimeChanged,
        OpportunityWon,
        ProjectApproved,
        SyncContract,
        AssignConsultant,
        ConsultantAssigned,
        StaffingRefused,
        WriteBack,
    )
}
