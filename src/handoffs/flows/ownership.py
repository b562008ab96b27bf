"""Ownership: only the system of record may change an object or a field; no echo loops.

An ingest screen, run before anything is stored:

    record from system S --> no ownership policy for its type  -> stored as usual
                         --> identical to what is stored       -> kept (the store calls it
                             unchanged: a hub write coming back from its owner is an echo)
                         --> S is the hub                      -> stored (the hub's own write)
                         --> new object, S owns the object     -> stored
                         --> changed fields all owned by S     -> stored
                         --> otherwise                         -> rejected: an ``ownership``
                             exception naming the fields, their owners and the raw record

Ownership comes from the policy in force for the record's legal entity (when it has one) on
the hub's current date, so a policy version can move a field to a new system of record.
"""

from __future__ import annotations

import hashlib
from typing import Any

from handoffs.domain.codec import encode
from handoffs.flows.ingest import correlation_for_project
from handoffs.flows.ports import Ports
from handoffs.policies.model import ObjectOwnership, Ownership

__all__ = ["changed_fields", "screen", "violations"]

_IGNORED = frozenset({"id"})


def changed_fields(before: Any, after: Any) -> list[str]:
    """Canonical fields whose values differ (every field of a new object)."""
    new = encode(after)
    if before is None:
        return sorted(k for k in new if k not in _IGNORED and new[k] not in (None, [], {}, ""))
    old = encode(before)
    return sorted(k for k in new if k not in _IGNORED and old.get(k) != new[k])


def violations(rule: ObjectOwnership, system: str, before: Any, after: Any) -> list[tuple[str, str]]:
    """``(field, owner)`` for each change ``system`` may not make; creating needs the object owner."""
    if before is None and system != rule.owner:
        return [("*", rule.owner)]
    return [(f, rule.owner_of(f)) for f in changed_fields(before, after) if rule.owner_of(f) != system]


def _stored(uow: Any, type_: str, id_: str) -> Any:
    if type_ == "time_entry":
        found = uow.time_entries.get(id_)
        return found.entry if found is not None else None
    if type_ == "invoice":
        return uow.invoices.get(id_)
    return uow.objects.get(type_, id_)


def _ownership(ports: Ports, uow: Any, obj: Any) -> Ownership:
    entity_id = getattr(obj, "legal_entity_id", None)
    if entity_id is None and getattr(obj, "project_id", None):
        project = uow.objects.get("project", obj.project_id)
        entity_id = project.legal_entity_id if project is not None else None
    entity = uow.objects.get("legal_entity", entity_id) if entity_id else None
    return ports.policies.ownership(entity_id, entity.country if entity else None, ports.clock.now().date())  # type: ignore[no-any-return]


def screen(uow: Any, items: list[Any], ports: Ports, source: str) -> list[Any]:
    """Keep the records their senders may write; raise every other one as an exception."""
    if ports.policies is None:
        return items
    kept = []
    for where, raw, record in items:
        ownership = _ownership(ports, uow, record.obj)
        rule = ownership.objects.get(record.type)
        system = record.source_system
        if rule is None or system == ownership.hub_system:
            kept.append((where, raw, record))
            continue
        before = _stored(uow, record.type, record.obj.id)
        broken = [] if before == record.obj else violations(rule, system, before, record.obj)
        if not broken:
            kept.append((where, raw, record))
            continue
        _reject(uow, source, where, raw, record, broken)
    return kept


def _reject(uow: Any, source: str, where: Any, raw: str, record: Any, broken: list[tuple[str, str]]) -> None:
    fields = ", ".join(f"{f} (owned by {o})" for f, o in broken)
    what = "may not create" if broken[0][0] == "*" else "may not change"
    project_id = getattr(record.obj, "project_id", None)
    uow.exceptions.add(
        category="ownership",
        source=source,
        reason=f"{record.source_system} {what} {record.type} {record.obj.id}: "
        + (f"its system of record is {broken[0][1]}" if broken[0][0] == "*" else fields),
        raw=raw,
        detail={
            "record": where,
            "rule": "ownership",
            "system": record.source_system,
            "fields": {f: o for f, o in broken},
            "source_version": record.source_version,
        },
        object_type=record.type,
        object_id=record.obj.id,
        correlation_id=correlation_for_project(project_id) if project_id else None,
        fingerprint=hashlib.sha256(f"ownership\x1f{record.type}\x1f{raw}".encode()).hexdigest()[:32],
    )
