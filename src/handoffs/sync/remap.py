"""Re-map a held record from its stored raw payload, after its mapping or reference data was fixed.

A record a pull could not map (``mapping``, ``schema_drift``) or that broke a canonical rule
(``validation``) is held as an exception keeping the system's record whole, with its system
and resource in ``source`` (``studio_time:time_entries``). :func:`retry_exception` maps that
raw record again through the system's *current* mapping file and the store's *current*
reference data:

    stored raw ──► current mapping ──► canonical record ──► stored (inserted / updated / ...)
                        │                     │               + exception resolved, audited
                        └── fails ────────────┴──► exception stays open with the new reason,
                                                   one more attempt counted, audited

Bulk retry by filter builds on this one-record path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from handoffs.audit import append
from handoffs.config.systems import SystemConfig, SystemsConfig
from handoffs.connectors.mapping import MappingFailure, apply_mapping, record_updated
from handoffs.connectors.registry import load_system_mapping
from handoffs.domain.catalog import decode_record
from handoffs.domain.errors import DomainError, ValidationError
from handoffs.flows.ingest import LoadReport, store_records
from handoffs.sync.lookups import StoreLookups
from handoffs.sync.pull import source_record

__all__ = ["REMAPPABLE", "Remap", "RetryOutcome", "remap_record", "remappable", "remapper", "retry_exception"]

REMAPPABLE = ("mapping", "schema_drift", "validation")
_OPEN = ("open", "in_progress", "retrying")


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What a retry did: ``stored`` (the exception is resolved) or ``held`` (still open, new reason)."""

    exception_id: int
    outcome: Literal["stored", "held"]
    state: str
    reason: str  # the resolution when stored, the new reason when held
    object_type: str | None = None
    object_id: str | None = None
    load_outcome: str | None = None  # inserted, updated, unchanged, rejected or locked

    def as_dict(self) -> dict[str, Any]:
        return {
            "exception_id": self.exception_id,
            "outcome": self.outcome,
            "state": self.state,
            "reason": self.reason,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "load_outcome": self.load_outcome,
        }


def remappable(systems: SystemsConfig | None, record: Any) -> tuple[SystemConfig, str] | None:
    """The system and resource a held record came from, if it can be re-mapped from its payload."""
    if record.category not in REMAPPABLE or systems is None:
        return None
    system, _, resource = str(record.source).partition(":")
    cfg = systems.systems.get(system)
    if cfg is None or not resource:
        return None
    return cfg, resource


def retry_exception(
    app: Any,
    exception_id: int,
    actor: str,
    *,
    reason: str | None = None,
    systems: SystemsConfig | None = None,
) -> RetryOutcome:
    """Map the exception's stored record again through its system's current mapping, and store it.

    Args:
        app: the application (its ``uow``, ``ports``, and ``systems`` unless given).
        exception_id: an open ``mapping``, ``schema_drift`` or ``validation`` exception that a
            pull of a configured system raised.
        actor: who retries, for the audit log (``cli:ana``, ``console:ana``, an API client).
        reason: why, kept in the audit row.
        systems: the ``handoffs.yaml`` naming the system's mapping file (default: ``app.systems``).

    Raises:
        LookupError: there is no such exception.
        ValueError: it is not open, or not a record a configured system's pull held; or the
            system's mapping file does not load (a ``MappingSpecError`` naming its line).
    """
    with app.uow() as uow:
        record = uow.exceptions.get(exception_id)
        if record is None:
            raise LookupError(f"No exception {exception_id}.")
        if record.state not in _OPEN:
            raise ValueError(f"Exception {exception_id} is {record.state}; only an open one can be retried.")
        if remappable(systems or app.systems, record) is None:
            raise ValueError(
                f"Exception {exception_id} ({record.category}, from {record.source}) is not a record a "
                "configured system's pull held; nothing to map again (is the system in handoffs.yaml?)."
            )
        outcome = remap_record(uow, app, record, actor, reason, systems)
        uow.commit()
    return outcome


def remapper(app: Any, actor: str, systems: SystemsConfig | None = None) -> Remap:
    """For the single and bulk retry commands: re-map a held record in their unit of work.

    The function answers None for an exception that is not a pull's held record (a dead
    letter, a record of a system not in ``handoffs.yaml``): those are retried as before.
    """

    def run(uow: Any, record: Any, reason: str | None) -> RetryOutcome | None:
        if record.state not in _OPEN or remappable(systems or app.systems, record) is None:
            return None
        return remap_record(uow, app, record, actor, reason, systems)

    return run


Remap = Callable[[Any, Any, "str | None"], "RetryOutcome | None"]


def remap_record(
    uow: Any, app: Any, record: Any, actor: str, reason: str | None, systems: SystemsConfig | None = None
) -> RetryOutcome:
    """Re-map one held record inside ``uow`` (the caller commits); stored, or held again."""
    where = remappable(systems or app.systems, record)
    assert where is not None, "the caller checks remappable() first"
    cfg, resource = where
    mapping = load_system_mapping(cfg)
    if mapping is None or resource not in mapping.mappings:
        raise ValueError(f"{cfg.name} has no mapping for {resource!r}.")
    spec = mapping.get(resource)
    raw = orjson.loads(record.raw)
    lookups = StoreLookups(uow.connection)  # fresh, in this transaction: people added since are seen
    try:
        mapped = apply_mapping(spec, raw, cfg.name, lookups)
    except MappingFailure as failure:
        detail = {**record.detail, "field": failure.field, "rule": failure.rule}
        return _hold(uow, record, "mapping", str(failure), detail, actor, reason)
    item = source_record(spec, raw, mapped, cfg.name, resource, record_updated(spec, raw))
    try:
        decode_record(item.data, record.source)
    except DomainError as exc:
        error = exc if isinstance(exc, ValidationError) else ValidationError("", str(exc))
        detail = {**record.detail, "field": error.field, "rule": error.reason}
        text = f"{item.ref}: field {error.field!r} broke rule: {error.reason}"
        return _hold(uow, record, "validation", text, detail, actor, reason)
    report = store_records(uow, [item], app.ports, source=record.source, report=LoadReport())
    outcome = next(iter(report.outcomes), "linked")
    kind, oid = str(item.data["type"]), str(item.data["id"])
    note = f"re-mapped from the stored record through {spec.source or cfg.name}: {kind} {oid} {outcome}"
    uow.exceptions.set_state(record.id, "resolved", note)
    _audit(uow, actor, record.id, record.state, {"state": "resolved", "note": note, "reason": reason})
    return RetryOutcome(record.id, "stored", "resolved", note, kind, oid, outcome)


def _hold(
    uow: Any,
    record: Any,
    category: str,
    text: str,
    detail: dict[str, Any],
    actor: str,
    reason: str | None,
) -> RetryOutcome:
    uow.exceptions.hold_again(record.id, category=category, reason=text, detail=detail)
    _audit(uow, actor, record.id, record.state, {"state": "open", "held": text, "reason": reason})
    return RetryOutcome(record.id, "held", "open", text)


def _audit(uow: Any, actor: str, exception_id: int, before: str, after: dict[str, Any]) -> None:
    append(
        uow.connection,
        at=uow.now,
        actor=actor,
        action="exceptions.remap",
        target=f"exception:{exception_id}",
        before={"state": before},
        after=after,
    )
