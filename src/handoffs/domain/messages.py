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
    "BilledTimeChanged",
    "Command",
    "ContractAmended",
    "Event",
    "GenerateInvoice",
    "InvoiceDeliveryFailed",
    "InvoiceGenerated",
    "InvoicePosted",
    "Message",
    "PostInvoice",
    "TimeEntryApproved",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    message_id: str
    occurred_at: datetime
    correlation_id: str


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


MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    cls.__name__: cls
    for cls in (
        TimeEntryApproved,
        GenerateInvoice,
        InvoiceGenerated,
        PostInvoice,
        InvoicePosted,
        InvoiceDeliveryFailed,
        ContractAmended,
        BilledTimeChanged,
    )
}
