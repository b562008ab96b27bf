"""``handoffs.yaml``: the systems the hub talks to, validated at load with line numbers.

::

    version: 1
    systems:
      harvest:
        role: time                      # crm, psa, hris, time, expense, billing, erp
        connector: harvest              # a connector type (see CONNECTOR_TYPES)
        base_url: https://api.harvestapp.com
        credentials:                    # references only: env:NAME, file:/path (value: for simulators)
          token: env:HARVEST_TOKEN
          account_id: "424242"
        limits: {rate: 6.6, burst: 100} # requests per second and burst, from the API's documented limit
        mapping: builtin                # or a path to a mapping file (relative to handoffs.yaml)
        resources: [users, projects, time_entries]
        schedule: {every: 15m}          # optional: ``handoffs worker`` pulls it this often (or {cron: ...})
    routing:                            # optional; without a matching route every ERP gets it
      - {object: invoice, to: [legacy_gl, netsuite]}      # an ERP migration: both, each its own delivery
      - {object: journal, to: [legacy_gl, netsuite]}      # journals go only where a route sends them
      - {object: contract, legal_entity: LE-DE, to: [odoo]}
    migration: {legacy: legacy_gl, new: netsuite}         # what ``handoffs erp compare`` compares

Credentials are never written in the file itself except for ``value:`` references, which
exist for the simulated systems' fixed, made-up credentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from handoffs.config.schedule import parse_interval, parse_schedule
from handoffs.config.write_back import parse_write_back
from handoffs.domain.routing import ROUTED_OBJECTS, Route, Routing

__all__ = [
    "CONNECTOR_TYPES",
    "ROLES",
    "SystemConfig",
    "SystemsConfig",
    "SystemsConfigError",
    "load_systems",
    "parse_overlap",
    "parse_systems",
]

ROLES = ("crm", "psa", "hris", "time", "expense", "billing", "erp")
CONNECTOR_TYPES = (
    "salesforce",
    "harvest",
    "workday",
    "expenses",
    "netsuite",
    "odoo",
    "tryton",
    "csv_time",
    "legacy_gl",
)
_KEYS = {
    "role",
    "connector",
    "base_url",
    "credentials",
    "limits",
    "mapping",
    "resources",
    "options",
    "folder",
    "overlap",
    "schedule",
    "write_back",
}


def parse_overlap(value: object) -> timedelta | None:
    """``overlap: 10m`` (units as a schedule's interval), a number of seconds, or 0; else None."""
    text = str(value).strip()
    try:
        return parse_interval(text)
    except ValueError:
        return timedelta(0) if text.rstrip("smhd") in {"0", "0.0"} else None


class SystemsConfigError(ValueError):
    def __init__(self, source: str, line: int | None, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class SystemConfig:
    name: str
    role: str
    connector: str
    entry: dict[str, Any]  # the whole entry, as connectors' ``from_entry`` read it
    base_dir: Path = Path(".")
    line: int = 0

    @property
    def base_url(self) -> str | None:
        url = self.entry.get("base_url")
        return str(url) if url else None

    @property
    def limits(self) -> dict[str, float] | None:
        return self.entry.get("limits")

    @property
    def overlap(self) -> timedelta | None:
        """How far before its cursor each pull starts again (``overlap:``); None for the default."""
        value = self.entry.get("overlap")
        return None if value is None else parse_overlap(value)

    @property
    def resources(self) -> list[str]:
        return list(self.entry.get("resources") or [])

    def mapping_path(self, builtin: Path) -> Path:
        """The mapping file to use: the connector's own, or the one the entry names."""
        chosen = self.entry.get("mapping", "builtin")
        return builtin if chosen == "builtin" else (self.base_dir / str(chosen))


@dataclass(frozen=True, slots=True)
class SystemsConfig:
    source: str
    systems: dict[str, SystemConfig] = field(default_factory=dict)
    routing: Routing = field(default_factory=Routing)

    def by_role(self, role: str) -> list[SystemConfig]:
        return [s for s in self.systems.values() if s.role == role]


def _fail(source: str, node: yaml.Node | None, message: str) -> SystemsConfigError:
    return SystemsConfigError(source, node.start_mark.line + 1 if node is not None else None, message)


def _entry(name: str, key: yaml.Node, node: yaml.Node, source: str, base_dir: Path) -> SystemConfig:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(source, key, f"system {name!r} must be a mapping")
    keys = {str(k.value): (k, v) for k, v in node.value}
    for unknown in sorted(set(keys) - _KEYS):
        raise _fail(source, keys[unknown][0], f"system {name!r}: unknown key {unknown!r}")
    data = yaml.safe_load(yaml.serialize(node))
    for required in ("role", "connector"):
        if required not in data:
            raise _fail(source, key, f"system {name!r} needs {required!r}")
    if data["role"] not in ROLES:
        raise _fail(source, keys["role"][1], f"system {name!r}: role must be one of {', '.join(ROLES)}")
    if data["connector"] not in CONNECTOR_TYPES:
        raise _fail(
            source,
            keys["connector"][1],
            f"system {name!r}: connector must be one of {', '.join(CONNECTOR_TYPES)}",
        )
    if data["connector"] not in ("csv_time", "legacy_gl") and not data.get("base_url"):
        raise _fail(source, key, f"system {name!r} needs base_url")
    for cred, value in (data.get("credentials") or {}).items():
        text = str(value)
        secretish = any(w in cred for w in ("token", "secret", "password", "key"))
        if secretish and not text.startswith(("env:", "file:", "value:")):
            raise _fail(
                source,
                keys["credentials"][1],
                f"system {name!r}: credential {cred!r} must be a reference (env:NAME or file:PATH)",
            )
    if "overlap" in data and parse_overlap(data["overlap"]) is None:
        raise _fail(
            source, keys["overlap"][1], f"system {name!r}: overlap must be like 10m, 2h, 1d or seconds"
        )
    limits = data.get("limits")
    if limits is not None:
        ok = isinstance(limits, dict) and all(
            isinstance(limits.get(k), int | float) and limits[k] > 0 for k in ("rate", "burst")
        )
        if not ok:
            raise _fail(source, keys["limits"][1], f"system {name!r}: limits needs positive rate and burst")
    if "schedule" in data:
        try:
            parse_schedule(data["schedule"])
        except ValueError as exc:
            raise _fail(source, keys["schedule"][1], f"system {name!r}: {exc}") from None
    if "write_back" in data:
        try:
            data["write_back"] = parse_write_back(data["connector"], data["write_back"])
        except ValueError as exc:
            raise _fail(source, keys["write_back"][1], f"system {name!r}: {exc}") from None
    return SystemConfig(name, data["role"], data["connector"], data, base_dir, key.start_mark.line + 1)


def parse_systems(text: str, source: str = "handoffs.yaml", base_dir: Path | None = None) -> SystemsConfig:
    """Parse and validate; raise :class:`SystemsConfigError` naming the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SystemsConfigError(source, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from None
    if not isinstance(root, yaml.MappingNode):
        raise SystemsConfigError(source, None, "the file must be a mapping with version and systems")
    top = {str(k.value): (k, v) for k, v in root.value}
    version = yaml.safe_load(yaml.serialize(top["version"][1])) if "version" in top else None
    if version != 1:
        raise _fail(source, top["version"][1] if "version" in top else None, "version must be 1")
    if "systems" not in top or not isinstance(top["systems"][1], yaml.MappingNode):
        raise _fail(source, root, "systems must be a mapping of name -> system")
    base = base_dir or Path(source).parent
    systems = {str(k.value): _entry(str(k.value), k, v, source, base) for k, v in top["systems"][1].value}
    for unknown in sorted(set(top) - {"version", "systems", "routing", "migration"}):
        raise _fail(source, top[unknown][0], f"unknown key {unknown!r}")
    erps = {name for name, cfg in systems.items() if cfg.role == "erp"}
    routes = _routes(top["routing"][1], source, erps) if "routing" in top else ()
    legacy, new = _migration(top["migration"][1], source, erps) if "migration" in top else (None, None)
    return SystemsConfig(source, systems, Routing(routes, legacy, new))


def _routes(node: yaml.Node, source: str, erps: set[str]) -> tuple[Route, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(source, node, "routing must be a list of {object, legal_entity, to}")
    routes = []
    for item in node.value:
        data = yaml.safe_load(yaml.serialize(item))
        if not isinstance(data, dict) or set(data) - {"object", "legal_entity", "to"}:
            raise _fail(source, item, "a route has object, to and optionally legal_entity")
        if data.get("object") not in ROUTED_OBJECTS:
            raise _fail(source, item, f"a route's object must be one of {', '.join(ROUTED_OBJECTS)}")
        to = data.get("to")
        if not isinstance(to, list) or not to:
            raise _fail(source, item, "a route's to must list one or more ERP systems")
        for name in to:
            if name not in erps:
                raise _fail(source, item, f"route target {name!r} is not a system with role erp")
        entity = data.get("legal_entity")
        routes.append(Route(data["object"], tuple(str(n) for n in to), str(entity) if entity else None))
    return tuple(routes)


def _migration(node: yaml.Node, source: str, erps: set[str]) -> tuple[str, str]:
    data = yaml.safe_load(yaml.serialize(node))
    if not isinstance(data, dict) or set(data) != {"legacy", "new"}:
        raise _fail(source, node, "migration must be {legacy: ERP, new: ERP}")
    for side in ("legacy", "new"):
        if data[side] not in erps:
            raise _fail(source, node, f"migration {side} {data[side]!r} is not a system with role erp")
    if data["legacy"] == data["new"]:
        raise _fail(source, node, "migration compares two different ERPs")
    return str(data["legacy"]), str(data["new"])


def load_systems(path: str | Path) -> SystemsConfig:
    p = Path(path)
    if not p.exists():
        raise SystemsConfigError(
            str(p),
            None,
            "not found. It is the file that names the systems the hub talks to and how to reach them "
            "(docs/connectors.md);\nmake one with `handoffs init`, or name another with --file PATH.",
        )
    return parse_systems(p.read_text(encoding="utf-8"), str(p), p.parent)
