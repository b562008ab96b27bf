"""Start every simulated system for a generated firm, and stop them again."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoffs.simulator.faults import FaultSettings
from handoffs.simulator.firm.files import native_seeds
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.server import SimServer
from handoffs.simulator.systems import credentials
from handoffs.simulator.systems.common import SimSystem
from handoffs.simulator.systems.expenses import ExpenseSim
from handoffs.simulator.systems.harvest import HarvestSim
from handoffs.simulator.systems.legacy_gl import LegacyGl
from handoffs.simulator.systems.netsuite import NetSuiteSim
from handoffs.simulator.systems.odoo import OdooSim
from handoffs.simulator.systems.salesforce import SalesforceSim
from handoffs.simulator.systems.workday import WorkdaySim

__all__ = ["Fleet", "start_fleet"]

_HTTP: dict[str, type[Any]] = {
    "salesforce": SalesforceSim,
    "harvest": HarvestSim,
    "workday": WorkdaySim,
    "expenses": ExpenseSim,
    "netsuite": NetSuiteSim,
    "odoo": OdooSim,
}


@dataclass
class Fleet:
    """Running systems: HTTP ones with their servers, and the file-drop ERP."""

    systems: dict[str, SimSystem]
    servers: dict[str, SimServer]
    legacy: LegacyGl
    extra: dict[str, Any] = field(default_factory=dict)

    def endpoints(self) -> dict[str, dict[str, Any]]:
        """Where each system listens (no secrets)."""
        found: dict[str, dict[str, Any]] = {
            name: {"kind": "http", "url": server.base_url} for name, server in self.servers.items()
        }
        found["legacy_gl"] = {
            "kind": "folder",
            "inbox": str(self.legacy.inbox),
            "outbox": str(self.legacy.outbox),
        }
        return found

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.legacy.stop()


def start_fleet(firm: Firm, workdir: Path, faults: str | FaultSettings = "none", poll: float = 0.5) -> Fleet:
    """Build every system from ``firm``'s native seeds and start it on a free local port."""
    seeds = native_seeds(firm)
    systems = {name: cls(seeds[name], faults=faults, seed=firm.seed) for name, cls in _HTTP.items()}
    servers: dict[str, SimServer] = {}
    try:
        for name, system in systems.items():
            servers[name] = system.serve().start()
    except Exception:
        for server in servers.values():
            server.stop()
        raise
    legacy = LegacyGl(seeds["legacy_gl"], workdir / "legacy_gl", faults=faults, seed=firm.seed)
    legacy.start_polling(poll)
    return Fleet(
        systems,
        servers,
        legacy,
        {"credentials": {n: credentials.credentials_for(n) for n in credentials.ALL}},
    )
