"""The canonical object catalog: type names used in files, APIs and the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from handoffs.domain.billing import Invoice, JournalEntry, Payment, RevenueEvent
from handoffs.domain.codec import decode
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import ValidationError
from handoffs.domain.parties import Customer, Resource
from handoffs.domain.reference import CostCentre, Currency, FxRate, GlAccount, LegalEntity, TaxCode
from handoffs.domain.work import Assignment, Expense, Project, ResourceRequest, TimeEntry

__all__ = ["ENVELOPE_FIELDS", "OBJECT_TYPES", "CanonicalRecord", "decode_record", "type_name_of"]

OBJECT_TYPES: Final[dict[str, type]] = {
    "legal_entity": LegalEntity,
    "currency": Currency,
    "fx_rate": FxRate,
    "tax_code": TaxCode,
    "gl_account": GlAccount,
    "cost_centre": CostCentre,
    "customer": Customer,
    "resource": Resource,
    "contract": Contract,
    "project": Project,
    "resource_request": ResourceRequest,
    "assignment": Assignment,
    "time_entry": TimeEntry,
    "expense": Expense,
    "invoice": Invoice,
    "revenue_event": RevenueEvent,
    "journal_entry": JournalEntry,
    "payment": Payment,
}
_NAMES: Final[dict[type, str]] = {cls: name for name, cls in OBJECT_TYPES.items()}

# Keys of a canonical JSON Lines record that describe the record rather than the object.
ENVELOPE_FIELDS: Final = ("type", "source_system", "source_version")


@dataclass(frozen=True, slots=True)
class CanonicalRecord:
    """A decoded canonical object with where it came from and its version there.

    ``hub_versioned`` marks a write whose sender may not version it (an API client's): it
    replaces a different stored object whatever its version, and the stored source version
    stays, so the system of record's next update still wins.
    """

    type: str
    obj: Any
    source_system: str
    source_version: str | None
    hub_versioned: bool = False


def type_name_of(obj: object) -> str:
    return _NAMES[type(obj)]


def decode_record(data: Any, default_system: str = "file") -> CanonicalRecord:
    """Decode one canonical record: ``{"type": ..., <fields>, "source_version": ...}``."""
    if not isinstance(data, dict):
        raise ValidationError("", "a record must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in OBJECT_TYPES:
        raise ValidationError("type", f"must be one of {', '.join(OBJECT_TYPES)}")
    body = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS}
    system = data.get("source_system", default_system)
    if not isinstance(system, str) or not system:
        raise ValidationError("source_system", "must be a non-empty string")
    version = data.get("source_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, str | int)):
        raise ValidationError("source_version", "must be a string or an integer")
    obj: Any = decode(OBJECT_TYPES[kind], body)
    return CanonicalRecord(kind, obj, system, None if version is None else str(version))
