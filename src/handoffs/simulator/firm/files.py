"""Write a firm as files: canonical JSON Lines, native seeds per system, timeline, stats.

Every file is written with sorted keys and a stable record order, so one seed always gives
byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from handoffs.domain.catalog import type_name_of
from handoffs.domain.codec import encode
from handoffs.simulator.firm.model import Firm
from handoffs.simulator.firm.native_crm_psa import crm_seed, harvest_ids, harvest_seed, sf_id
from handoffs.simulator.firm.native_finance import erp_seeds, expense_seed, workday_seed
from handoffs.simulator.firm.stats import firm_stats

__all__ = ["SOURCE_SYSTEMS", "canonical_lines", "dumps", "native_seeds", "write_firm"]

# Which simulated system is the system of record for each canonical type.
SOURCE_SYSTEMS = {
    "customer": "salesforce",
    "contract": "salesforce",
    "resource": "workday",
    "time_entry": "harvest",
    "project": "harvest",
    "resource_request": "harvest",
    "assignment": "harvest",
    "expense": "expenses",
}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__}")


def dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, decimals as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def canonical_lines(firm: Firm) -> list[str]:
    """One ``{"type": ..., **encode(obj)}`` line per canonical object."""
    versions: dict[str, str] = {}
    for ev in firm.time_events:
        versions[ev.entry_id] = max(versions.get(ev.entry_id, ""), ev.at.isoformat())
    for info in firm.expense_info.values():
        versions[info.expense_id] = (info.decided_at or info.submitted_at).isoformat()
    lines = []
    for obj in firm.canonical_objects():
        kind = type_name_of(obj)
        record: dict[str, Any] = {"type": kind, **encode(obj)}
        record["source_system"] = SOURCE_SYSTEMS.get(kind, "erp")
        version = versions.get(record["id"])
        if version is not None:
            record["source_version"] = version
        lines.append(dumps(record))
    return lines


def native_seeds(firm: Firm) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The records each simulated system starts with, keyed by system then collection."""
    return {
        "salesforce": crm_seed(firm),
        "harvest": harvest_seed(firm),
        "workday": workday_seed(firm),
        "expenses": expense_seed(firm),
        **erp_seeds(firm),
    }


def crosswalk(firm: Firm) -> dict[str, Any]:
    """Canonical id -> native id in each system, so tests can match what arrives."""
    harvest = harvest_ids(firm)
    return {
        "harvest": harvest,
        "salesforce": {
            "customer": {c.id: sf_id("001", i) for i, c in enumerate(firm.customers, start=1)},
            "contract": {
                o.contract_id: sf_id("006", i)
                for i, o in enumerate(firm.opportunities, start=1)
                if o.contract_id
            },
        },
        "workday": {"resource": {r.id: f"{21000 + i}" for i, r in enumerate(firm.resources, start=1)}},
    }


def write_firm(firm: Firm, out: Path) -> dict[str, Path]:
    """Write the firm under ``out`` and return the written paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds").mkdir(exist_ok=True)
    paths: dict[str, Path] = {}

    def put(name: str, rel: str, text: str) -> None:
        path = out / rel
        path.write_text(text, encoding="utf-8")
        paths[name] = path

    put("firm", "firm.jsonl", "\n".join(canonical_lines(firm)) + "\n")
    put("timeline", "timeline.jsonl", "".join(dumps(asdict(ev)) + "\n" for ev in firm.time_events))
    put("calendar", "calendar.json", dumps([asdict(c) for c in firm.close_calendar]) + "\n")
    put("ids", "ids.json", dumps(crosswalk(firm)) + "\n")
    for system, seed in native_seeds(firm).items():
        put(f"seed:{system}", f"seeds/{system}.json", dumps(seed) + "\n")
    put("stats", "stats.json", json.dumps(firm_stats(firm), sort_keys=True, indent=2) + "\n")
    return paths
