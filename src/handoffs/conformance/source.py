"""Checks for a source system: per resource, a full read, an incremental read, the mapping.

All read-only: records are fetched, never acknowledged (a folder source keeps its files).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from handoffs.config.systems import SystemConfig
from handoffs.conformance.checks import Check, answers, refuses_wrong_credential
from handoffs.connectors.mapping import (
    Lookups,
    MappingFailure,
    MappingSpec,
    apply_mapping,
    get_path,
    record_key,
)
from handoffs.connectors.registry import build_source, build_write_back, load_system_mapping
from handoffs.engine.errors import HandoffsFailure
from handoffs.sync.pull import parse_version

__all__ = ["resource_checks", "source_checks"]


def source_checks(cfg: SystemConfig, lookups: Lookups, **http: Any) -> list[Check]:
    """Every check of a source system, resource by resource, in the configured order."""
    connector = build_source(cfg, **http)
    if connector is None:
        return [Check("pulls records", False, f"connector type {cfg.connector!r} has nothing to pull")]
    mapping = load_system_mapping(cfg)
    try:
        found = [answers(connector, cfg.name)]
        for resource in cfg.resources or connector.resources():
            spec = mapping.mappings.get(resource) if mapping else None
            if spec is None:
                found.append(Check(f"{resource}: mapping", False, f"no mapping named {resource!r}"))
                continue
            found += resource_checks(connector, resource, spec, lookups)
        found.append(refuses_wrong_credential(cfg, lambda c: build_source(c, **http)))
        found += _write_back(cfg, **http)
    finally:
        close = getattr(connector, "close", None)
        if close:
            close()
    return found


def _write_back(cfg: SystemConfig, **http: Any) -> list[Check]:
    """Read-only: where ``write_back`` is configured, its target exists and may be written."""
    port: Any = build_write_back(cfg, **http)
    if port is None:
        return []
    try:
        found = port.check_write_back()
    finally:
        port.close()
    return [Check("write-back target is writable", found.ok, found.detail)]


def _read(connector: Any, resource: str, since: datetime | None) -> tuple[list[dict[str, Any]], int]:
    records: list[dict[str, Any]] = []
    pages = 0
    for page in connector.fetch(resource, since):
        pages += 1
        records.extend(page)
    return records, pages


def _stamp(spec: MappingSpec, record: dict[str, Any]) -> datetime | None:
    return parse_version(get_path(record, spec.updated)) if spec.updated else None


def resource_checks(connector: Any, resource: str, spec: MappingSpec, lookups: Lookups) -> list[Check]:
    """Full read, incremental read and mapping of one resource."""
    try:
        records, pages = _read(connector, resource, None)
    except HandoffsFailure as exc:
        return [Check(f"{resource}: full read", False, str(exc))]
    keyless = sum(1 for r in records if record_key(spec, r) is None)
    stamps = [_stamp(spec, r) for r in records]
    unstamped = sum(1 for s in stamps if s is None) if spec.updated else 0
    problems = [f"{keyless} without {spec.key!r}"] * bool(keyless) + [
        f"{unstamped} without a readable {spec.updated!r} (ISO 8601 with a zone)"
    ] * bool(unstamped)
    full = Check(
        f"{resource}: full read",
        not problems,
        f"{len(records)} records in {pages} page{'s' * (pages != 1)}"
        + (": " + "; ".join(problems) if problems else ""),
    )
    return [
        full,
        _incremental(connector, resource, spec, records, stamps),
        _maps(spec, records, lookups, connector.system),
    ]


def _incremental(
    connector: Any,
    resource: str,
    spec: MappingSpec,
    records: list[dict[str, Any]],
    stamps: list[datetime | None],
) -> Check:
    name = f"{resource}: incremental read"
    known = [s for s in stamps if s is not None]
    if not spec.updated or not known:
        why = "no update stamp: every pull reads everything" if not spec.updated else "no records to read"
        return Check(name, True, why)
    newest = max(known)
    boundary = {record_key(spec, r) for r, s in zip(records, stamps, strict=True) if s == newest}
    try:
        again, _pages = _read(connector, resource, newest)
    except HandoffsFailure as exc:
        return Check(name, False, str(exc))
    got = {record_key(spec, r) for r in again}
    older = sum(1 for r in again if (s := _stamp(spec, r)) is not None and s < newest)
    missed = boundary - got
    reason = f"since {newest.isoformat()}: {len(again)} records"
    if missed:
        return Check(name, False, f"{reason}; {len(missed)} stamped exactly then are missing (a bare '>')")
    return Check(name, True, reason + (f" ({older} older, dropped by key)" if older else ""))


def _maps(spec: MappingSpec, records: list[dict[str, Any]], lookups: Lookups, system: str) -> Check:
    failures: list[MappingFailure] = []
    for record in records:
        try:
            apply_mapping(spec, record, system, lookups)
        except MappingFailure as problem:
            failures.append(problem)
    reason = f"{len(records) - len(failures)} of {len(records)} map to {spec.canonical}"
    if failures:
        fields = ", ".join(f"{f} ({n})" for f, n in Counter(p.field for p in failures).most_common(3))
        first = failures[0]
        reason += (
            f"; failing fields: {fields}; first: field {first.field!r} rule {first.rule}: {first.reason}"
        )
    return Check(f"{resource_name(spec)}: mapping", not failures, reason)


def resource_name(spec: MappingSpec) -> str:
    return spec.name
