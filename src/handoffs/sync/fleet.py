"""``handoffs.yaml`` for a running simulated fleet: every system, its role, limits and URL.

Credentials are ``value:`` references to the simulator's fixed, made-up credentials; a real
deployment writes ``env:`` or ``file:`` references instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from handoffs.config.systems import SystemsConfig, parse_systems
from handoffs.simulator.systems.credentials import credentials_for

__all__ = ["fleet_systems", "fleet_yaml"]

# role, connector type, documented limit as (rate per second, burst), resources to pull
_SYSTEMS: dict[str, tuple[str, str, tuple[float, float] | None, list[str]]] = {
    "workday": ("hris", "workday", None, ["workers"]),
    "salesforce": ("crm", "salesforce", (15000 / 86400 * 20, 200), ["accounts", "opportunities"]),
    "harvest": ("time", "harvest", (100 / 15, 100), ["users", "projects", "time_entries"]),
    "expenses": ("expense", "expenses", (2, 120), ["expenses"]),
    "netsuite": ("erp", "netsuite", (25, 15), []),
    "odoo": ("erp", "odoo", None, []),
}

# The simulated ERPs answer in milliseconds and finish a slow write within seconds, so an
# unanswered write is looked for for 5 s before it may be sent again (a real NetSuite's
# default is 30 s, a real Odoo's 120 s: see docs/connectors.md).
_SETTLE_SECONDS = 5


def _credentials(name: str) -> dict[str, str]:
    values = credentials_for(name)
    secret = ("token", "secret", "password", "key")
    return {
        k: f"value:{v}" if any(w in k for w in secret) or k == "client_id" else v for k, v in values.items()
    }


def fleet_yaml(
    endpoints: dict[str, dict[str, Any]], erps: tuple[str, ...] = ("netsuite", "odoo", "legacy_gl")
) -> str:
    """The configuration text for ``fleet.endpoints()``."""
    systems: dict[str, Any] = {}
    for name, (role, kind, limit, resources) in _SYSTEMS.items():
        if role == "erp" and name not in erps:
            continue
        entry: dict[str, Any] = {
            "role": role,
            "connector": kind,
            "base_url": endpoints[name]["url"],
            "credentials": _credentials(name),
        }
        if limit:
            entry["limits"] = {"rate": round(limit[0], 3), "burst": limit[1]}
        if resources:
            entry["resources"] = resources
        if role == "erp":
            entry["options"] = {"settle_seconds": _SETTLE_SECONDS}
        systems[name] = entry
    if "legacy_gl" in erps:
        folder = Path(endpoints["legacy_gl"]["inbox"]).parent
        systems["legacy_gl"] = {"role": "erp", "connector": "legacy_gl", "folder": str(folder)}
    config: dict[str, Any] = {"version": 1, "systems": systems}
    if "legacy_gl" in erps and "netsuite" in erps:  # the firm is moving its ledger to NetSuite
        config["migration"] = {"legacy": "legacy_gl", "new": "netsuite"}
    return yaml.safe_dump(config, sort_keys=False)


def fleet_systems(endpoints: dict[str, dict[str, Any]], path: Path | None = None, **kw: Any) -> SystemsConfig:
    """Parse (and optionally write) the fleet's ``handoffs.yaml``."""
    text = fleet_yaml(endpoints, **kw)
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return parse_systems(text, str(path or "handoffs.yaml"), Path("/"))
