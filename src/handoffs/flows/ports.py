"""Ports the flows depend on. The store and the connectors implement them; flows never
import a concrete store or connector (an import-linter contract keeps it so)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from handoffs.domain.billing import Invoice
from handoffs.domain.messages import Message
from handoffs.domain.ports import Clock, ErpPort, ExternalRef, Guard, IdFactory, WriteBackPort
from handoffs.domain.pricing import PricedEntry
from handoffs.domain.routing import ONLY_WHEN_ROUTED, Cutover, Routing

__all__ = [
    "ErpPort",
    "ExternalRef",
    "Guard",
    "Ports",
    "UnitOfWork",
    "WriteBackPort",
    "business_today",
    "erp_targets",
]

T = TypeVar("T")


class _NoGuard:
    def call(self, system: str, fn: Callable[[], T]) -> T:
        return fn()


class Objects(Protocol):
    def get(self, type_: str, id_: str) -> Any | None: ...
    def prime(self, type_: str, ids: Iterable[str]) -> None: ...


class TimeEntries(Protocol):
    def get(self, entry_id: str) -> Any | None: ...
    def get_many(self, entry_ids: list[str]) -> dict[str, Any]: ...
    def set_priced(self, entry_id: str, priced: PricedEntry) -> None: ...
    def set_priced_many(self, priced: list[PricedEntry]) -> None: ...
    def set_state(self, entry_ids: list[str], state: str) -> None: ...


class Invoices(Protocol):
    def add(self, invoice: Invoice, correlation_id: str) -> None: ...
    def count_for(self, project_id: str, period: str) -> int: ...
    def get(self, invoice_id: str) -> Invoice | None: ...
    def status(self, invoice_id: str) -> str | None: ...
    def set_status(self, invoice_id: str, status: str) -> None: ...


class Deliveries(Protocol):
    def ensure(self, key: str, system: str, operation: str, object_type: str, object_id: str) -> bool: ...
    def get(self, key: str) -> Any | None: ...
    def confirm(self, key: str, external_id: str) -> None: ...
    def failed_attempt(self, key: str, error: str, *, final: bool) -> None: ...


class Xrefs(Protocol):
    def link(self, canonical_type: str, canonical_id: str, system: str, external_id: str) -> None: ...


class Exceptions(Protocol):
    def add(self, **fields: Any) -> int | None: ...


class UnitOfWork(Protocol):
    objects: Objects
    time_entries: TimeEntries
    invoices: Invoices
    deliveries: Deliveries
    xrefs: Xrefs
    exceptions: Exceptions

    @property
    def now(self) -> datetime: ...
    def publish(self, *messages: Message) -> None: ...


@dataclass(slots=True)
class Ports:
    """What handlers may use beyond their unit of work."""

    clock: Clock
    ids: IdFactory
    erps: dict[str, ErpPort] = field(default_factory=dict)
    guard: Guard = field(default_factory=_NoGuard)
    # Policies in force (a handoffs.policies.PolicyBook); None: no policy checks at all.
    policies: Any = None
    # The policy decision log of a unit of work: ``decisions(uow).get/record(...)``.
    decisions: Callable[[Any], Any] | None = None
    # Screens every inbound batch passes before it is stored (ownership, expense validation):
    # ``screen(uow, items, ports, source) -> items kept``; each rejection is raised as an exception.
    screens: list[Callable[..., list[Any]]] = field(default_factory=list)
    # Which ERPs receive which postings (handoffs.yaml ``routing``); None: every ERP gets all.
    routing: Routing | None = None
    # The ERP cut-overs in force, read in a unit of work: ``cutovers(uow) -> (Cutover, ...)``.
    cutovers: Callable[[Any], tuple[Cutover, ...]] | None = None
    # Source systems told what became of their records (handoffs.yaml ``write_back``).
    write_backs: dict[str, WriteBackPort] = field(default_factory=dict)
    # The business date billing decides with (``--as-of``, HANDOFFS_AS_OF); None: the clock's.
    business_date: date | None = None


def business_today(ports: Ports) -> date:
    """The business date: the one set for the run, else today by the clock."""
    return ports.business_date or ports.clock.now().date()


def erp_targets(
    ports: Ports,
    object_type: str,
    legal_entity: Callable[[], str | None],
    *,
    uow: Any = None,
    period: str | None = None,
) -> list[str]:
    """The ERPs a posting goes to; ``legal_entity`` is asked only when a route depends on it.

    With ``uow``, the ERP cut-overs in force change the targets by ``period`` (the
    posting's period; now's for one without, such as a contract).
    """
    if ports.routing is None:
        targets = [] if object_type in ONLY_WHEN_ROUTED else sorted(ports.erps)
    else:
        entity = legal_entity() if ports.routing.by_entity(object_type) else None
        targets = ports.routing.targets(object_type, entity, ports.erps)
    if uow is not None and ports.cutovers is not None and len(ports.erps) > 1:
        when = period or ports.clock.now().strftime("%Y-%m")
        for cutover in ports.cutovers(uow):
            targets = [t for t in cutover.apply(targets, when) if t in ports.erps]
    return targets
