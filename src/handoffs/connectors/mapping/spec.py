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
        updated: updated_at         # the field incremental pulls use as a cursor
        fields:
          id: {template: "hv-{id}"}
          resource_id: {from: user.id, lookup: {xref: resource}}
          hours: {from: hours, type: decimal}
          status: {from: is_closed, values: {true: approved, false: submitted}}
          notes: {from: notes, default: null}

Rules: ``from`` (dotted path, ``a[].b`` plucks from a list), ``template`` (``{path}``
placeholders), ``const``, ``default`` (used when the value is missing or null; a field
with no default is required), ``type`` (str, int, decimal, date, datetime, bool),
``values`` (a table of value → value), ``lookup`` (``{xref: type}`` native id → canonical
id, ``{external: type}`` canonical id → native id, ``{object: type, field: name}`` a
field of a stored canonical object, ``{table: {...}}``), ``each`` + ``fields`` (a list
of sub-records), and ``money: {amount: path, currency: path}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handoffs.domain.catalog import OBJECT_TYPES

__all__ = ["FieldRule", "MappingFile", "MappingSpec", "MappingSpecError", "load_mapping", "parse_mapping"]

SUPPORTED_VERSIONS = (1,)
TYPES = ("str", "int", "decimal", "date", "datetime", "bool")
RULE_KEYS = {"from", "template", "const", "default", "type", "values", "lookup", "each", "fields", "money"}
LOOKUP_KINDS = {"xref", "external", "object", "table"}


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
    if value.get("type") is not None and value["type"] not in TYPES:
        raise MappingSpecError(
            source, parts["type"][1], f"field {name!r}: type must be one of {', '.join(TYPES)}"
        )
    lookup = value.get("lookup")
    if lookup is not None:
        if not isinstance(lookup, dict) or len(set(lookup) & LOOKUP_KINDS) != 1:
            raise MappingSpecError(
                source,
                parts["lookup"][1],
                f"field {name!r}: lookup needs one of {', '.join(sorted(LOOKUP_KINDS))}",
            )
        for kind in ("xref", "external", "object"):
            if kind in lookup and lookup[kind] not in OBJECT_TYPES:
                raise MappingSpecError(
                    source, parts["lookup"][1], f"field {name!r}: {lookup[kind]!r} is not a canonical type"
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
    )


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
    updated = _plain(parts["updated"][0]) if "updated" in parts else None
    link_only = bool(_plain(parts["link_only"][0])) if "link_only" in parts else False
    key = str(_plain(parts["key"][0]))
    return MappingSpec(name, direction, canonical, key, updated, rules, _line(node), link_only)


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
