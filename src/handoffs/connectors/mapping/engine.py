"""Apply a mapping to one record: paths, templates, value tables, types, lookups, defaults.

A record that cannot be mapped raises :class:`MappingFailure`, which names the system, the
record id, the field and the rule, so the pull can turn it into an exception that keeps the
raw record (nothing is dropped).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from handoffs.connectors.mapping.convert import Conversion, convert
from handoffs.connectors.mapping.spec import FieldRule, MappingSpec

__all__ = [
    "MISSING",
    "UNDECODABLE",
    "Lookups",
    "MappingFailure",
    "NoLookups",
    "apply_mapping",
    "get_path",
    "record_key",
    "record_updated",
]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


# Set by a file source on a row whose bytes are not in the file's encoding: the row's text with
# the bad bytes escaped (``caf\\xe9``). The row is then held as an exception, never mapped.
UNDECODABLE = "_undecodable"


class MappingFailure(Exception):
    """One record failed one rule of one field.

    ``where`` names the mapping file and the field's line in it (``mappings/x.yaml:14``),
    ``at`` the record's place in its export when it has one (``march.csv line 7``).
    """

    def __init__(
        self,
        system: str,
        mapping: str,
        record_id: str,
        field: str,
        rule: str,
        reason: str,
        where: str = "",
        at: str = "",
    ) -> None:
        text = f"{system} {mapping} {record_id}: field {field!r} failed rule {rule}: {reason}"
        places = "; ".join(p for p in (f"mapping {where}" if where else "", at) if p)
        super().__init__(f"{text} ({places})" if places else text)
        self.system, self.mapping, self.record_id = system, mapping, record_id
        self.field, self.rule, self.reason = field, rule, reason
        self.where, self.at = where, at


class Lookups(Protocol):
    """What mappings may look up: the xref table and stored canonical objects."""

    def xref(self, system: str, canonical_type: str, external_id: str) -> str | None: ...
    def external(self, system: str, canonical_type: str, canonical_id: str) -> str | None: ...
    def object_field(self, canonical_type: str, canonical_id: str, field: str) -> Any: ...
    def match(self, canonical_type: str, field: str, value: str) -> list[str]: ...


class NoLookups:
    """Lookups that find nothing (mappings without xref or object lookups)."""

    def xref(self, system: str, canonical_type: str, external_id: str) -> str | None:
        return None

    def external(self, system: str, canonical_type: str, canonical_id: str) -> str | None:
        return None

    def object_field(self, canonical_type: str, canonical_id: str, field: str) -> Any:
        return MISSING

    def match(self, canonical_type: str, field: str, value: str) -> list[str]:
        return []


def get_path(record: Any, path: str) -> Any:
    """``a.b.c`` into nested dicts; ``a[].b`` plucks ``b`` from every item of list ``a``."""
    head, sep, rest = path.partition("[]")
    value: Any = record
    for part in head.split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    if not sep:
        return value
    if not isinstance(value, list):
        return MISSING
    tail = rest.lstrip(".")
    return [get_path(item, tail) if tail else item for item in value]


def _convert(kind: str, value: Any) -> Any:
    return convert(Conversion(kind), value)


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


class _Run:
    def __init__(self, spec: MappingSpec, system: str, record_id: str, lookups: Lookups, at: str) -> None:
        self.spec, self.system, self.record_id, self.lookups = spec, system, record_id, lookups
        self.at = at

    def fail(self, rule: FieldRule, label: str, reason: str) -> MappingFailure:
        where = f"{self.spec.source}:{rule.line}" if self.spec.source else ""
        return MappingFailure(
            self.system, self.spec.name, self.record_id, rule.name, label, reason, where, self.at
        )

    def raw_value(self, rule: FieldRule, record: Any) -> Any:
        if rule.has_const:
            return rule.const
        if rule.template is not None:
            missing: list[str] = []

            def fill(match: re.Match[str]) -> str:
                found = get_path(record, match.group(1))
                if found is MISSING or found is None:
                    missing.append(match.group(1))
                    return ""
                return str(found)

            text = _PLACEHOLDER.sub(fill, rule.template)
            return MISSING if missing else text
        if rule.money is not None:
            amount = get_path(record, rule.money["amount"])
            currency = get_path(record, rule.money["currency"])
            if amount in (MISSING, None) or currency in (MISSING, None):
                return MISSING
            try:
                return {"amount": _convert("decimal", amount), "currency": str(currency)}
            except ValueError as exc:
                raise self.fail(rule, "money", str(exc)) from None
        if rule.each is not None:
            items = get_path(record, rule.each)
            if items is MISSING or items is None:
                return MISSING
            if not isinstance(items, list):
                raise self.fail(rule, "each", f"{rule.each} is not a list")
            return [self.map_fields(rule.fields, item) for item in items]
        if rule.source is not None:
            return get_path(record, rule.source)
        return MISSING

    def value(self, rule: FieldRule, record: Any) -> Any:
        value = self.raw_value(rule, record)
        if value is MISSING or value is None or (rule.has_default and _blank(value)):
            if rule.has_default:
                return rule.default
            what = rule.source or rule.template or rule.each or "value"
            reason = f"{what} is missing from the record" if value is MISSING else f"{what} is null"
            raise self.fail(rule, "required", reason)
        if rule.values is not None:
            key = str(value).lower()
            if key not in rule.values:
                raise self.fail(rule, "values", f"{value!r} is not one of {', '.join(rule.values)}")
            value = rule.values[key]
        if rule.type is not None:
            try:
                value = convert(rule.conversion or Conversion(rule.type), value)
            except (ValueError, TypeError) as exc:
                raise self.fail(rule, f"type:{rule.type}", str(exc)) from None
        if rule.lookup is not None:
            value = self.look_up(rule, value)
        return value

    def look_up(self, rule: FieldRule, value: Any) -> Any:
        spec = rule.lookup or {}
        if "table" in spec:
            table = {str(k): v for k, v in (spec["table"] or {}).items()}
            if str(value) in table:
                return table[str(value)]
            if "default" in spec:
                return spec["default"]
            raise self.fail(rule, "lookup:table", f"{value!r} is not in the lookup table")
        if "xref" in spec:
            found = self.lookups.xref(spec.get("system", self.system), spec["xref"], str(value))
            kind, label = spec["xref"], "lookup:xref"
        elif "external" in spec:
            found = self.lookups.external(spec.get("system", self.system), spec["external"], str(value))
            kind, label = spec["external"], "lookup:external"
        elif "match" in spec:
            matches = self.lookups.match(spec["match"], spec["by"], str(value).strip())
            if len(matches) > 1:
                raise self.fail(
                    rule, "lookup:match", f"{value!r} matches {len(matches)} {spec['match']}s by {spec['by']}"
                )
            if not matches and "default" not in spec:
                raise self.fail(rule, "lookup:match", f"no {spec['match']} has {spec['by']} {value!r}")
            found = matches[0] if matches else None
            kind, label = spec["match"], "lookup:match"
        else:
            found = self.lookups.object_field(spec["object"], str(value), spec.get("field", "id"))
            found = None if found is MISSING else found
            kind, label = spec["object"], "lookup:object"
        if found is None:
            if "default" in spec:
                return spec["default"]
            raise self.fail(rule, label, f"no {kind} is known for {value!r}")
        return found

    def map_fields(self, rules: tuple[FieldRule, ...], record: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for rule in rules:
            value = self.value(rule, record)
            target = out
            *parents, leaf = rule.name.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        return out


def apply_mapping(
    spec: MappingSpec, record: dict[str, Any], system: str, lookups: Lookups | None = None
) -> dict[str, Any]:
    """Map one record; raises :class:`MappingFailure` naming the field and rule that failed."""
    key = get_path(record, spec.key)
    record_id = "?" if key is MISSING or key is None else str(key)
    at = f"{record['_file']} line {record['_line']}" if "_file" in record and "_line" in record else ""
    if record.get(UNDECODABLE):  # a file source could not read its bytes: held whole, not guessed at
        raise MappingFailure(
            system, spec.name, record_id, "_line", "encoding", str(record[UNDECODABLE]), "", at
        )
    return _Run(spec, system, record_id, lookups or NoLookups(), at).map_fields(spec.fields, record)


def to_canonical_json(value: Any) -> Any:
    """Decimals as strings and dates as ISO text, as the canonical codec expects."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_canonical_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_canonical_json(v) for v in value]
    return value


def record_updated(spec: MappingSpec, record: dict[str, Any]) -> datetime | None:
    """The record's update stamp as an aware datetime, read as the mapping declares it.

    ``updated: {from: Changed, format: ..., timezone: ...}`` reads ``14/01/2026 18:05``;
    otherwise the stamp must be ISO 8601 with an offset. None when the record has no stamp
    or it cannot be read.
    """
    if not spec.updated:
        return None
    value = get_path(record, spec.updated)
    if value is MISSING or value is None or _blank(value):
        return None
    try:
        moment: datetime = convert(spec.updated_as or Conversion("datetime"), value)
    except (ValueError, TypeError):
        return None
    return moment


def record_key(spec: MappingSpec, record: dict[str, Any]) -> str | None:
    key = get_path(record, spec.key)
    return None if key is MISSING or key is None else str(key)
