"""Mapping files: load YAML, validate every rule, and say which line is wrong.

A mapping file (``version: 1``) translates one system's records to canonical objects
(``direction: inbound``) or canonical objects to the system's records (``outbound``)::

    version: 1
    system: harvest
    mappings:
      - name: time_entries          # the resource it maps
        direction: inbound
        canonical: time_entry       # catalog type name
        key: id                     # the record's id in the system (a dotted path)
        updated: updated_at         # the field incremental pulls use as a cursor; or
                                    # {from: Changed, format: "%d/%m/%Y %H:%M", timezone: UTC}
        fields:
          id: {template: "hv-{id}"}
          resource_id: {from: user.id, lookup: {xref: resource}}
          hours: {from: hours, type: decimal}
          status: {from: is_closed, values: {true: approved, false: submitted}}
          notes: {from: notes, default: null}

Rules: ``from`` (dotted path, ``a[].b`` plucks from a list), ``template`` (``{path}``
placeholders), ``const``, ``default`` (used when the value is missing, null or a blank
cell; a field with no default is required), ``type`` (str, int, decimal, date, datetime,
bool, duration) read as ``format`` (strptime, or a list tried in order), ``decimal`` (``,``
for a decimal comma), ``unit`` (what a bare duration number counts) and ``timezone`` (of a
datetime without an offset), ``values`` (a table of value → value), ``lookup``
(``{xref: type}`` native id → canonical id, ``{external: type}`` canonical id → native id,
``{object: type, field: name}`` a field of a stored canonical object, ``{match: type, by:
field}`` the one stored object whose field equals the value, e.g. a person by e-mail,
``{table: {...}}``), ``each`` + ``fields`` (a list of sub-records), and ``money: {amount:
path, currency: path}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from handoffs.connectors.mapping.convert import DURATION_UNITS, TYPES, Conversion
from handoffs.domain.catalog import OBJECT_TYPES

__all__ = ["FieldRule", "MappingFile", "MappingSpec", "MappingSpecError", "load_mapping", "parse_mapping"]

SUPPORTED_VERSIONS = (1,)
RULE_KEYS = {
    "from",
    "template",
    "const",
    "default",
    "type",
    "format",
    "decimal",
    "unit",
    "timezone",
    "values",
    "lookup",
    "each",
    "fields",
    "money",
}
LOOKUP_KINDS = {"xref", "external", "object", "match", "table"}


class MappingSpecError(ValueError):
    """A mapping file that does not validate: names the file, the line and the problem."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source, self.line = source, line


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How one target field gets its value; ``line`` points back into the YAML file."""

    name: str
    source: str | None = None
    template: str | None = None
    const: Any = None
    has_const: bool = False
    default: Any = None
    has_default: bool = False
    type: str | None = None
    values: dict[str, Any] | None = None
    lookup: dict[str, Any] | None = None
    each: str | None = None
    fields: tuple[FieldRule, ...] = ()
    money: dict[str, str] | None = None
    line: int = 0
    conversion: Conversion | None = None  # how a typed value is read (formats, decimal comma...)

    def describe(self) -> str:
        """A short name for the rule, used in exception messages."""
        for label in ("lookup", "values", "money", "type", "template", "each"):
            if getattr(self, label):
                return label if label != "type" else f"type:{self.type}"
        return "required" if not self.has_default else "from"


@dataclass(frozen=True, slots=True)
class MappingSpec:
    name: str
    direction: str
    canonical: str
    key: str
    updated: str | None
    fields: tuple[FieldRule, ...]
    line: int
    link_only: bool = False  # only record the id link (the object belongs to another system)
    source: str = ""  # the mapping file, named in every failure with the field's line
    updated_as: Conversion | None = None  # how the update stamp is written, when not ISO 8601


@dataclass(frozen=True, slots=True)
class MappingFile:
    version: int
    system: str
    source: str
    mappings: dict[str, MappingSpec] = field(default_factory=dict)

    def get(self, name: str) -> MappingSpec:
        if name not in self.mappings:
            raise KeyError(f"{self.source} has no mapping named {name!r}")
        return self.mappings[name]


def _plain(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _items(node: yaml.Node, source: str, what: str) -> list[tuple[str, yaml.Node, int]]:
    if not isinstance(node, yaml.MappingNode):
        raise MappingSpecError(source, _line(node), f"{what} must be a mapping")
    return [(str(k.value), v, _line(k)) for k, v in node.value]


def _rule(
    name: str, node: yaml.Node, line: int, source: str, inbound: bool, canonical: str | None
) -> FieldRule:
    if isinstance(node, yaml.ScalarNode):  # shorthand: `hours: hours` means {from: hours}
        return FieldRule(name=name, source=str(node.value), line=line)
    parts = {k: (v, ln) for k, v, ln in _items(node, source, f"field {name!r}")}
    unknown = set(parts) - RULE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise MappingSpecError(
            source,
            parts[key][1],
            f"field {name!r}: unknown rule {key!r} (use {', '.join(sorted(RULE_KEYS))})",
        )
    value = {k: _plain(v) for k, (v, _) in parts.items() if k != "fields"}
    if not ({"from", "template", "const", "default", "money", "each"} & set(value)):
        raise MappingSpecError(source, line, f"field {name!r} needs one of from, template, const or default")
    conversion = _conversion(name, value, parts, source)
    lookup = value.get("lookup")
    if lookup is not None:
        if not isinstance(lookup, dict) or len(set(lookup) & LOOKUP_KINDS) != 1:
            raise MappingSpecError(
                source,
                parts["lookup"][1],
                f"field {name!r}: lookup needs one of {', '.join(sorted(LOOKUP_KINDS))}",
            )
        for kind in ("xref", "external", "object", "match"):
            if kind in lookup and lookup[kind] not in OBJECT_TYPES:
                raise MappingSpecError(
                    source, parts["lookup"][1], f"field {name!r}: {lookup[kind]!r} is not a canonical type"
                )
        if "match" in lookup:
            known = {f.name for f in dataclasses.fields(OBJECT_TYPES[lookup["match"]])}
            if lookup.get("by") not in known:
                raise MappingSpecError(
                    source,
                    parts["lookup"][1],
                    f"field {name!r}: match needs by: one of the {lookup['match']} fields "
                    f"({', '.join(sorted(known))})",
                )
    money = value.get("money")
    if money is not None and (not isinstance(money, dict) or set(money) != {"amount", "currency"}):
        raise MappingSpecError(source, parts["money"][1], f"field {name!r}: money needs amount and currency")
    subs: tuple[FieldRule, ...] = ()
    if "each" in value:
        if "fields" not in parts:
            raise MappingSpecError(source, line, f"field {name!r}: each needs fields")
        subs = tuple(
            _rule(n, v, ln, source, inbound, None)
            for n, v, ln in _items(parts["fields"][0], source, "fields")
        )
    values = value.get("values")
    return FieldRule(
        name=name,
        source=value.get("from"),
        template=value.get("template"),
        const=value.get("const"),
        has_const="const" in value,
        default=value.get("default"),
        has_default="default" in value,
        type=value.get("type"),
        values={str(k).lower(): v for k, v in values.items()} if isinstance(values, dict) else None,
        lookup=lookup,
        each=value.get("each"),
        fields=subs,
        money=money,
        line=line,
        conversion=conversion,
    )


def _conversion(
    name: str, value: dict[str, Any], parts: dict[str, tuple[yaml.Node, int]], source: str
) -> Conversion | None:
    """The declared way to read a typed value, checked here so a pull never meets a bad rule."""
    kind = value.get("type")

    def bad(key: str, message: str) -> MappingSpecError:
        return MappingSpecError(source, parts[key][1], f"field {name!r}: {message}")

    if kind is not None and kind not in TYPES:
        raise bad("type", f"type must be one of {', '.join(TYPES)}")
    for key, types in (
        ("format", ("date", "datetime")),
        ("timezone", ("datetime",)),
        ("unit", ("duration",)),
        ("decimal", ("decimal", "duration", "int")),
    ):
        if key in value and kind not in types:
            raise bad(key, f"{key} applies to type {' or '.join(types)}, not {kind}")
    formats = value.get("format") or ()
    formats = (formats,) if isinstance(formats, str) else formats
    if not isinstance(formats, list | tuple) or not all(isinstance(f, str) and "%" in f for f in formats):
        raise bad("format", "format must be a strptime format such as %d/%m/%Y, or a list of them")
    decimal = str(value.get("decimal", "."))
    if decimal not in (".", ","):
        raise bad("decimal", 'decimal must be "." or ","')
    unit = str(value.get("unit", "hours"))
    if unit not in DURATION_UNITS:
        raise bad("unit", f"unit must be one of {', '.join(DURATION_UNITS)}")
    zone = value.get("timezone")
    if zone is not None and str(zone).upper() != "UTC":
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise bad("timezone", f"{zone!r} is not a timezone name such as Europe/London") from None
    if kind is None:
        return None
    return Conversion(kind, tuple(formats), decimal, unit, None if zone is None else str(zone))


def _spec(node: yaml.Node, source: str) -> MappingSpec:
    parts = {k: (v, ln) for k, v, ln in _items(node, source, "a mapping")}
    for required in ("name", "direction", "canonical", "key", "fields"):
        if required not in parts:
            raise MappingSpecError(source, _line(node), f"a mapping needs {required!r}")
    name = str(_plain(parts["name"][0]))
    direction = _plain(parts["direction"][0])
    if direction not in ("inbound", "outbound"):
        raise MappingSpecError(source, parts["direction"][1], "direction must be inbound or outbound")
    canonical = _plain(parts["canonical"][0])
    if canonical not in OBJECT_TYPES:
        raise MappingSpecError(source, parts["canonical"][1], f"{canonical!r} is not a canonical type")
    inbound = direction == "inbound"
    rules = tuple(
        _rule(n, v, ln, source, inbound, canonical)
        for n, v, ln in _items(parts["fields"][0], source, "fields")
    )
    if inbound and "id" not in {r.name for r in rules}:
        raise MappingSpecError(source, parts["fields"][1], f"mapping {name!r} must set the canonical id")
    updated, updated_as = _updated(parts, source)
    link_only = bool(_plain(parts["link_only"][0])) if "link_only" in parts else False
    key = str(_plain(parts["key"][0]))
    return MappingSpec(
        name, direction, canonical, key, updated, rules, _line(node), link_only, source, updated_as
    )


def _updated(parts: dict[str, tuple[yaml.Node, int]], source: str) -> tuple[str | None, Conversion | None]:
    """``updated: column`` (ISO 8601 stamps) or ``updated: {from: column, format, timezone}``."""
    if "updated" not in parts:
        return None, None
    node, line = parts["updated"]
    if not isinstance(node, yaml.MappingNode):
        return str(_plain(node)), None
    rule = {k: (v, ln) for k, v, ln in _items(node, source, "updated")}
    unknown = set(rule) - {"from", "format", "timezone"}
    if unknown or "from" not in rule:
        raise MappingSpecError(source, line, "updated needs from, and may have format and timezone")
    value = {"type": "datetime", **{k: _plain(v) for k, (v, _) in rule.items()}}
    return str(value["from"]), _conversion("updated", value, {**rule, "type": (node, line)}, source)


def parse_mapping(text: str, source: str = "<mapping>") -> MappingFile:
    """Parse and validate mapping YAML; raise :class:`MappingSpecError` with a line number."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise MappingSpecError(source, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from None
    if root is None:
        raise MappingSpecError(source, None, "the file is empty")
    top = {k: (v, ln) for k, v, ln in _items(root, source, "the file")}
    version = _plain(top["version"][0]) if "version" in top else None
    if version not in SUPPORTED_VERSIONS:
        raise MappingSpecError(
            source,
            top["version"][1] if "version" in top else 1,
            f"version must be one of {SUPPORTED_VERSIONS}",
        )
    if "system" not in top or "mappings" not in top:
        raise MappingSpecError(source, 1, "a mapping file needs system and mappings")
    seq = top["mappings"][0]
    if not isinstance(seq, yaml.SequenceNode):
        raise MappingSpecError(source, top["mappings"][1], "mappings must be a list")
    specs: dict[str, MappingSpec] = {}
    for item in seq.value:
        spec = _spec(item, source)
        if spec.name in specs:
            raise MappingSpecError(source, spec.line, f"mapping {spec.name!r} is defined twice")
        specs[spec.name] = spec
    return MappingFile(int(version), str(_plain(top["system"][0])), source, specs)


def load_mapping(path: str | Path) -> MappingFile:
    """Load and validate a mapping file."""
    p = Path(path)
    return parse_mapping(p.read_text(encoding="utf-8"), str(p))
