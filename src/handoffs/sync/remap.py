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

__all__ = ["REMAPPABLE", "RetryOutcome", "remappable", "retry_exception"]

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
    where = remappable(systems or app.systems, record)
    if where is None:
        raise ValueError(
            f"Exception {exception_id} ({record.category}, from {record.source}) is not a record a "
            "configured system's pull held; nothing to map again (is the system in handoffs.yaml?)."
        )
    cfg, resource = where
    mapping = load_system_mapping(cfg)
    if mapping is None or resource not in mapping.mappings:
        raise ValueError(f"{cfg.name} has no mapping for {resource!r}.")
    spec = mapping.get(resource)
    raw = orjson.loads(record.raw)
    lookups = StoreLookups(app.engine)  # fresh: links and people added since the pull are seen
    try:
        mapped = apply_mapping(spec, raw, cfg.name, lookups)
    except MappingFailure as failure:
        detail = {**record.detail, "field": failure.field, "rule": failure.rule}
        return _hold(app, record, "mapping", str(failure), detail, actor, reason)
    item = source_record(spec, raw, mapped, cfg.name, resource, record_updated(spec, raw))
    try:
        decode_record(item.data, record.source)
    except DomainError as exc:
        error = exc if isinstance(exc, ValidationError) else ValidationError("", str(exc))
        detail = {**record.detail, "field": error.field, "rule": error.reason}
        text = f"{item.ref}: field {error.field!r} broke rule: {error.reason}"
        return _hold(app, record, "validation", text, detail, actor, reason)
    with app.uow() as uow:
        report = store_records(uow, [item], app.ports, source=record.source, report=LoadReport())
        outcome = next(iter(report.outcomes), "linked")
        kind, oid = str(item.data["type"]), str(item.data["id"])
        note = f"re-mapped from the stored record through {spec.source or cfg.name}: {kind} {oid} {outcome}"
        uow.exceptions.set_state(exception_id, "resolved", note)
        _audit(uow, actor, exception_id, record.state, {"state": "resolved", "note": note, "reason": reason})
        uow.commit()
    return RetryOutcome(exception_id, "stored", "resolved", note, kind, oid, outcome)


def _hold(
    app: Any,
    record: Any,
    category: str,
    text: str,
    detail: dict[str, Any],
    actor: str,
    reason: str | None,
) -> RetryOutcome:
    with app.uow() as uow:
        uow.exceptions.hold_again(record.id, category=category, reason=text, detail=detail)
        after = {"state": "open", "held": text, "reason": reason}
        _audit(uow, actor, record.id, record.state, after)
        uow.commit()
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
