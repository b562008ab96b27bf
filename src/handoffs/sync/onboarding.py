"""Set a hub up for a simulated firm: its master data and the identity links of onboarding.

The hub's own master data (legal entities, currencies, FX rates, tax codes, GL accounts,
cost centres, customers, the contract register and its projects) is loaded from the
generated firm, as a firm would load it once when it adopts Handoffs. Operational records
(workers, time, expenses, CRM changes) then arrive only through the connectors.

The identity links (which Workday worker or Harvest user is which resource) are the
result of the one-off identity match done at onboarding; the simulator's crosswalk holds it.
"""

from __future__ import annotations

from typing import Any

from handoffs.flows.ingest import LoadReport, ingest_lines
from handoffs.simulator.firm.files import canonical_lines, crosswalk
from handoffs.simulator.firm.model import Firm

__all__ = ["MASTER_TYPES", "link_identities", "load_master_data"]

MASTER_TYPES = frozenset(
    {
        "legal_entity",
        "currency",
        "fx_rate",
        "tax_code",
        "gl_account",
        "cost_centre",
        "customer",
        "contract",
        "project",
    }
)


def load_master_data(hub: Any, firm: Firm, types: frozenset[str] = MASTER_TYPES) -> LoadReport:
    """Load the firm's master data into the hub (one ingest, as an onboarding import)."""
    lines = [line for line in canonical_lines(firm) if _type_of(line) in types]
    return ingest_lines(lines, hub.uow, hub.ports, source="onboarding:master-data")


def _type_of(line: str) -> str:
    start = line.index('"type":"') + 8
    return line[start : line.index('"', start)]


def link_identities(hub: Any, firm: Firm) -> int:
    """Record which worker in Workday and which user in Harvest is which resource."""
    walk = crosswalk(firm)
    links = [
        *(("resource", cid, "workday", ext) for cid, ext in walk["workday"]["resource"].items()),
        *(("resource", cid, "harvest", str(ext)) for cid, ext in walk["harvest"]["resource"].items()),
        *(("project", cid, "harvest", str(ext)) for cid, ext in walk["harvest"]["project"].items()),
        *(("customer", cid, "harvest", str(ext)) for cid, ext in walk["harvest"]["customer"].items()),
        # the ERP's tax records, matched once by name when the ERP was set up
        *(("tax_code", t.id, "odoo", str(i)) for i, t in enumerate(firm.tax_codes, start=1)),
        # and each legal entity's company in Odoo
        *(("legal_entity", le.id, "odoo", str(i)) for i, le in enumerate(firm.legal_entities, start=1)),
    ]
    with hub.uow() as uow:
        for kind, cid, system, ext in links:
            uow.xrefs.link(kind, cid, system, ext)
        uow.commit()
    return len(links)
