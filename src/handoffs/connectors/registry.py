"""Build connectors from ``handoffs.yaml`` entries: one factory per connector type.

Adding a product means adding a package and one line here; onboarding another instance of a
known type (say a second firm's CSV time export) needs only a config entry and a mapping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handoffs.config.systems import SystemConfig, SystemsConfig, SystemsConfigError
from handoffs.connectors.base import SourceConnector
from handoffs.connectors.csvdrop import CsvFolderConfig, CsvFolderSource, LegacyGlConfig, LegacyGlErp
from handoffs.connectors.expenses import ExpenseConfig, ExpenseConnector
from handoffs.connectors.harvest import HarvestConfig, HarvestConnector
from handoffs.connectors.mapping import Lookups, MappingFile, load_mapping
from handoffs.connectors.netsuite import NetSuiteConfig, NetSuiteErp
from handoffs.connectors.odoo import OdooConfig, OdooErp
from handoffs.connectors.salesforce import SalesforceConfig, SalesforceConnector
from handoffs.connectors.tryton import TrytonConfig, TrytonErp
from handoffs.connectors.workday import WorkdayConfig, WorkdayConnector
from handoffs.domain.ports import ErpPort, Guard, WriteBackPort
from handoffs.engine.buckets import RateLimit
from handoffs.engine.uncertain import PendingWrites

__all__ = [
    "build_erp",
    "build_source",
    "build_write_back",
    "builtin_mapping",
    "load_system_mapping",
    "rate_limits",
]

_HERE = Path(__file__).parent
_PACKAGES = {
    "salesforce": "salesforce",
    "harvest": "harvest",
    "workday": "workday",
    "expenses": "expenses",
    "netsuite": "netsuite",
    "odoo": "odoo",
}
DEFAULT_LIMIT = RateLimit(rate=50, burst=100)


def builtin_mapping(connector_type: str) -> Path | None:
    package = _PACKAGES.get(connector_type)
    return _HERE / package / "mapping.yaml" if package else None


def load_system_mapping(cfg: SystemConfig) -> MappingFile | None:
    """The mapping file a system uses (validated); None for a type that needs none."""
    builtin = builtin_mapping(cfg.connector)
    if builtin is None and cfg.entry.get("mapping", "builtin") == "builtin":
        return None
    return load_mapping(cfg.mapping_path(builtin or Path("-")))


def _lacking(cfg: SystemConfig, exc: KeyError) -> SystemsConfigError:
    """A key the connector needs and the entry lacks, said as a configuration error."""
    key = str(exc.args[0]) if exc.args else "?"
    return SystemsConfigError(
        "the systems file",
        cfg.line or None,
        f"system {cfg.name!r} ({cfg.connector}) has no {key!r}: add it under credentials "
        f"(`handoffs init {cfg.connector}` writes an entry with every key it needs)",
    )


def build_source(cfg: SystemConfig, guard: Guard | None = None, **http: Any) -> SourceConnector | None:
    """A pull connector for ``cfg``, or None when the type only receives (an ERP)."""
    try:
        return _source(cfg, guard, **http)
    except KeyError as exc:
        raise _lacking(cfg, exc) from None


def _source(cfg: SystemConfig, guard: Guard | None = None, **http: Any) -> SourceConnector | None:
    kind, entry = cfg.connector, cfg.entry
    if kind == "harvest":
        return HarvestConnector(cfg.name, HarvestConfig.from_entry(entry), guard=guard, **http)
    if kind == "workday":
        return WorkdayConnector(cfg.name, WorkdayConfig.from_entry(entry), guard=guard, **http)
    if kind == "expenses":
        return ExpenseConnector(cfg.name, ExpenseConfig.from_entry(entry), guard=guard, **http)
    if kind == "salesforce":
        return SalesforceConnector(cfg.name, SalesforceConfig.from_entry(entry), guard=guard, **http)
    if kind == "csv_time":
        return CsvFolderSource(cfg.name, CsvFolderConfig.from_entry(entry, cfg.base_dir))
    return None


def build_write_back(cfg: SystemConfig, **http: Any) -> WriteBackPort | None:
    """The port that writes back to ``cfg`` when its entry has ``write_back``; else None.

    The flow guards each write (rate limit, breaker), so no guard is passed here."""
    if not cfg.entry.get("write_back"):
        return None
    if cfg.connector == "salesforce":
        return SalesforceConnector(cfg.name, SalesforceConfig.from_entry(cfg.entry), **http)
    if cfg.connector == "expenses":
        return ExpenseConnector(cfg.name, ExpenseConfig.from_entry(cfg.entry), **http)
    return None


def build_erp(
    cfg: SystemConfig, lookups: Lookups, pending: PendingWrites | None = None, **http: Any
) -> ErpPort | None:
    """An ErpPort for ``cfg``. The flow already guards each post, so no guard is passed here.

    ``pending`` keeps writes whose answer never came, and running asynchronous jobs, where
    every worker sees them (the hub's ``pending_writes`` table); by default this process only.
    """
    try:
        return _erp(cfg, lookups, pending, **http)
    except KeyError as exc:
        raise _lacking(cfg, exc) from None


def _erp(cfg: SystemConfig, lookups: Lookups, pending: PendingWrites | None, **http: Any) -> ErpPort | None:
    kind, entry = cfg.connector, cfg.entry
    mapping = load_system_mapping(cfg)
    specs = mapping.mappings if mapping else {}
    if kind == "netsuite":
        return NetSuiteErp(
            cfg.name, NetSuiteConfig.from_entry(entry), specs, lookups, pending=pending, **http
        )
    if kind == "odoo":
        return OdooErp(cfg.name, OdooConfig.from_entry(entry), specs, lookups, pending=pending, **http)
    if kind == "tryton":
        return TrytonErp(cfg.name, TrytonConfig.from_entry(entry), specs, lookups, pending=pending, **http)
    if kind == "legacy_gl":
        return LegacyGlErp(cfg.name, LegacyGlConfig.from_entry(entry, cfg.base_dir))
    return None


def rate_limits(systems: SystemsConfig) -> dict[str, RateLimit]:
    """Each system's documented limit as a shared token bucket (a default for ERPs without one)."""
    found: dict[str, RateLimit] = {}
    for name, cfg in systems.systems.items():
        if cfg.limits:
            found[name] = RateLimit(rate=float(cfg.limits["rate"]), burst=float(cfg.limits["burst"]))
        elif cfg.role == "erp":
            found[name] = DEFAULT_LIMIT
    return found
