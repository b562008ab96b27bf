"""The API's request and response bodies (pydantic), kept apart from domain objects and tables.

Amounts and hours travel as decimal strings, never as JSON numbers, so no client rounds them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from handoffs.api.jsontypes import MAX_DEPTH, NO_NUL, JsonObject, JsonValue, Key, check_depth, text
from handoffs.domain.catalog import OBJECT_TYPES
from handoffs.domain.messages import MESSAGE_TYPES, Event

__all__ = [
    "EVENT_TYPES",
    "ApprovalIn",
    "ApprovalOut",
    "AssignmentIn",
    "CatalogEntry",
    "CommandAccepted",
    "ExceptionActionIn",
    "ExceptionBatchIn",
    "ExceptionBatchOut",
    "ExceptionFilterIn",
    "ExceptionOut",
    "InvoiceRunIn",
    "Kpis",
    "LoadReportOut",
    "ObjectOut",
    "RecordIn",
    "ReplayIn",
    "ReplayOut",
    "ResourceRequestIn",
    "ResourceRequestOut",
    "TokenOut",
    "UpsertIn",
]

EVENT_TYPES = sorted(n for n, c in MESSAGE_TYPES.items() if issubclass(c, Event))
if TYPE_CHECKING:
    ObjectType = str
    EventType = str
else:  # enumerations in the OpenAPI spec, built from the catalogs
    ObjectType = Literal[tuple(OBJECT_TYPES)]
    EventType = Literal[tuple(EVENT_TYPES)]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$"
Id = Field(min_length=1, max_length=128, pattern=ID_PATTERN)
EntryId = Annotated[str, text(128, min_length=1)]
Period = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])
Dec = str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


_PROVENANCE = ("source_system", "source_version")
_NO_PROVENANCE: dict[str, Any] = {"not": {"anyOf": [{"required": [k]} for k in _PROVENANCE]}}


class RecordIn(BaseModel):
    """One canonical record: ``type`` plus the object's fields (see docs/canonical-model.md).

    Its provenance is the calling client (``api:<client id>``) and its version is the hub's:
    a body naming ``source_system`` or ``source_version`` is refused (422).
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"propertyNames": {"maxLength": 128, "pattern": NO_NUL}, **_NO_PROVENANCE},
    )
    __pydantic_extra__: dict[Key, JsonValue] = Field(init=False)
    type: ObjectType

    @model_validator(mode="before")
    @classmethod
    def _no_provenance(cls, data: Any) -> Any:
        if isinstance(data, dict) and (sent := [k for k in _PROVENANCE if k in data]):
            raise ValueError(
                f"{' and '.join(sent)} may not be sent: the hub records who sent a record and versions it"
            )
        return check_depth(data)


class UpsertIn(_In):
    records: list[RecordIn] = Field(min_length=1, max_length=1000)


class LoadReportOut(BaseModel):
    lines: int
    failed: int
    outcomes: dict[str, int]
    by_type: dict[str, int]
    approvals_published: int


class ObjectOut(BaseModel):
    type: str
    id: str
    version: int
    source_system: str
    source_version: str | None
    data: dict[str, Any]
    billing_state: str | None = None
    status: str | None = None


class ApprovalIn(_In):
    entry_ids: list[EntryId] = Field(min_length=1, max_length=500)
    approved_by: str | None = text(128, default=None)


class ApprovalOut(BaseModel):
    approved: list[str]
    unchanged: list[str]
    approvals_published: int


class InvoiceRunIn(_In):
    project_id: str = Id
    period: str = Period


class ResourceRequestIn(_In):
    """A staffing need; with ``proposed_resource_id`` it goes straight to the staffing check."""

    id: str = Id
    project_id: str = Id
    role: str = text(128, min_length=1)
    start_date: date
    end_date: date
    hours_per_week: Dec = Field(pattern=r"^\d{1,3}(\.\d{1,4})?$", examples=["24"])
    skills: list[Annotated[str, text(128, min_length=1)]] = Field(default_factory=list, max_length=50)
    requested_at: AwareDatetime | SkipJsonSchema[None] = Field(
        default=None, description="when it was raised (default: now); starts the time-to-staff clock"
    )
    proposed_resource_id: Annotated[str, Id] | SkipJsonSchema[None] = None
    proposed_at: AwareDatetime | SkipJsonSchema[None] = None


class ResourceRequestOut(BaseModel):
    request_id: str
    outcome: str = Field(description="inserted, updated, unchanged or rejected")
    staffing: Literal["queued", "waiting"] = Field(
        description="queued: the proposed resource is being checked; waiting: no resource named yet"
    )


class AssignmentIn(_In):
    resource_id: str = Id
    assigned_at: AwareDatetime | SkipJsonSchema[None] = Field(
        default=None, description="when the resource was named (default: now)"
    )


class CommandAccepted(BaseModel):
    command_id: str
    type: str
    correlation_id: str


class ExceptionActionIn(_In):
    reason: str = text(2000, min_length=1)


class ExceptionOut(BaseModel):
    id: int
    category: str
    state: str
    reason: str
    resolution: str | None
    work_requeued: bool = False


class InvoiceImpactOut(BaseModel):
    id: str
    change: str = Field(description="new, or status <before> -> <after>")
    project_id: str
    period: str
    currency: str
    total: Dec
    lines: list[dict[str, str]] = Field(description="id, kind, quantity, unit_price, amount")


class ReplayPreviewOut(BaseModel):
    """What replaying an exception's work would do; worked out in a rolled-back transaction."""

    exception_id: int
    runs: int
    steps: list[str]
    invoices: list[InvoiceImpactOut]
    invoiced: dict[str, Dec] = Field(description="money on new invoices, per currency")
    entries_priced: int
    priced_value: dict[str, Dec]
    entries_billed: int
    postings: list[str]
    failure: str | None


class ExceptionFilterIn(_In):
    """Which exceptions: every given criterion must match (see ``docs/api.md``)."""

    state: Literal["open", "in_progress", "retrying", "resolved", "ignored", ""] = ""
    category: str = text(40, default="")
    system: str = text(255, default="", description="e.g. harvest: the system the exception came from")
    project: str = text(128, default="")
    entity: str = text(128, default="", description="the legal entity id")
    older_than_days: Annotated[int, Field(ge=1, le=36500)] | SkipJsonSchema[None] = None
    q: str = text(200, default="", description="text in the reason, object id, source or payload")
    ids: list[int] = Field(default_factory=list, max_length=5000)


class ExceptionBatchIn(_In):
    """A bulk action on the exceptions a filter selects; ``dry_run`` only reports and previews."""

    action: Literal["retry", "ignore", "assign"]
    filter: ExceptionFilterIn
    reason: str = text(2000, default="")
    owner: str = text(128, default="")
    dry_run: bool = False


class ExceptionBatchOut(BaseModel):
    action: str
    selected: int
    changed: int = 0
    refused: int = 0
    selected_ids: list[int] = Field(default_factory=list)
    changed_items: list[dict[str, Any]] = Field(default_factory=list)
    refused_items: list[dict[str, Any]] = Field(default_factory=list)
    preview: dict[str, Any] | None = Field(
        default=None, description="for a dry-run retry: the replay previews of the selection, added up"
    )


class ReplayIn(_In):
    """At least one of ``correlation_id``, ``since`` and ``until`` (RFC 3339 times with an offset)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["correlation_id"]}, {"required": ["since"]}, {"required": ["until"]}]
        },
    )
    correlation_id: str | SkipJsonSchema[None] = text(160, default=None, min_length=1)
    since: AwareDatetime | SkipJsonSchema[None] = None
    until: AwareDatetime | SkipJsonSchema[None] = None

    @field_validator("correlation_id", "since", "until", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        if info.field_name != "correlation_id" and not isinstance(value, str):
            raise ValueError("must be an RFC 3339 date-time string with an offset")
        return value

    @model_validator(mode="after")
    def _something(self) -> ReplayIn:
        if self.correlation_id is None and self.since is None and self.until is None:
            raise ValueError("say what to replay: correlation_id, since, until, or a combination")
        return self


class ReplayOut(BaseModel):
    queued: int


class TimesheetEntry(BaseModel):
    id: str
    project_id: str
    work_date: date
    hours: Dec
    status: str
    billing_state: str


class Timesheet(BaseModel):
    resource_id: str
    period: str | None
    hours_by_status: dict[str, Dec]
    entries: list[TimesheetEntry]


class InvoiceStatus(BaseModel):
    id: str
    kind: str
    project_id: str
    period: str
    currency: str
    total: Dec
    status: str
    issue_date: date
    erp_ids: dict[str, str]


class ClientInvoices(BaseModel):
    customer_id: str
    invoices: list[InvoiceStatus]


class Kpis(BaseModel):
    approved_hours: Dec
    billed_hours: Dec
    unbilled_approved_hours: Dec
    invoices: int
    invoiced: dict[str, Dec]
    open_exceptions: int | None = Field(description="Firm-wide only; null for entity-scoped clients.")


class LineageSource(BaseModel):
    type: str
    id: str
    released_by: str | None
    source_system: str | None
    source_version: str | None
    external_ids: dict[str, str]
    status: str | None
    approved_by: str | None
    approved_at: datetime | None
    hours: Dec | None


class LineageDelivery(BaseModel):
    system: str
    status: str
    attempts: int
    external_id: str | None


class Lineage(BaseModel):
    invoice_id: str
    line_id: str
    line_no: int
    kind: str
    quantity: Dec
    unit_price: Dec
    amount: Dec
    currency: str
    role: str | None
    rate_card_version: int | None
    sources: list[LineageSource]
    deliveries: list[LineageDelivery]
    erp_ids: dict[str, str]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    scope: str


class CatalogEntry(BaseModel):
    name: str
    layer: str
    path: str
    owner: str
    version: str
    lifecycle: Literal["experimental", "stable", "deprecated", "retired"]
    description: str
    deprecation: str | None = None
    sunset: str | None = None
    successor: str | None = None


class WebhookSubscriptionIn(_In):
    kind: Literal["webhook"]
    target: str = Field(
        max_length=1000,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$",
        description="An http(s) URL.",
    )
    event_types: list[EventType] | None = Field(default=None, description="Omit for every type.")


class NatsSubscriptionIn(_In):
    kind: Literal["nats"]
    target: str = Field(
        max_length=200, pattern=r"^handoffs(\.[A-Za-z0-9_-]+)+$", description="A subject under handoffs."
    )
    event_types: list[EventType] | None = Field(default=None, description="Omit for every type.")


SubscriptionIn = Annotated[WebhookSubscriptionIn | NatsSubscriptionIn, Field(discriminator="kind")]


class SubscriptionOut(BaseModel):
    id: str
    kind: str
    target: str
    event_types: list[str] | None
    active: bool
    created_at: datetime
    secret: str | None = Field(
        default=None, description="The signing secret, shown only on creation (null on a replay)."
    )


class DeliveryOut(BaseModel):
    subscription_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None


class RedeliveryIn(_In):
    message_id: str = text(64, min_length=1)


class ReceiverSecretOut(BaseModel):
    system: str
    secret: str | None = Field(description="Shown once; null when a repeated Idempotency-Key replays.")


class WebhookIn(BaseModel):
    """Records a connected system pushes; each is that system's, so none may name a ``source_system``."""

    records: list[JsonObject] = Field(max_length=1000)

    @model_validator(mode="before")
    @classmethod
    def _shallow(cls, value: Any) -> Any:
        return check_depth(value, MAX_DEPTH + 2)  # the body and its records list are two levels more

    @field_validator("records")
    @classmethod
    def _no_source_system(cls, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any("source_system" in r for r in records):
            raise ValueError("source_system may not be sent: a webhook's records are its system's")
        return records


class WebhookOut(BaseModel):
    delivery_id: str
    duplicate: bool
    report: LoadReportOut | None
