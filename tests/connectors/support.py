"""Helpers for connector tests: pulls, what the hub accounts for, invoices from the firm."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import select

from handoffs.bootstrap import App
from handoffs.connectors.http import HttpPolicy
from handoffs.connectors.mapping import MappingSpec
from handoffs.domain.billing import Invoice
from handoffs.domain.pricing import build_time_invoice, price_entry
from handoffs.simulator.firm import Firm
from handoffs.store.tables import exceptions, xrefs
from handoffs.sync import PullReport, PullRunner, StoreLookups

# Quick retries so tests stay fast; Retry-After up to 3 s is still honoured in-process.
FAST = HttpPolicy(connect_timeout=2, read_timeout=4, attempts=8, backoff=0.01, max_wait=3.0)


def pull(hub: App, connector: Any, resource: str, spec: MappingSpec) -> PullReport:
    return PullRunner(hub.uow, hub.ports, StoreLookups(hub.engine)).pull(connector, resource, spec)


def accounted(hub: App, system: str, resource: str) -> set[str]:
    """Native ids the hub holds: linked in the xref table, or kept raw in an exception."""
    with hub.engine.connect() as conn:
        found = {
            r.external_id for r in conn.execute(select(xrefs.c.external_id).where(xrefs.c.system == system))
        }
        rows = conn.execute(
            select(exceptions.c.detail, exceptions.c.raw).where(exceptions.c.source == f"{system}:{resource}")
        )
        for r in rows:
            found.add(str(orjson.loads(r.detail).get("record_id")))
            raw = orjson.loads(r.raw)  # a whole record held as one (e.g. a report with its lines)
            found |= {str(x["id"]) for x in raw.get("lines") or raw.get("line_items") or [] if "id" in x}
    return found


def exception_rows(hub: App) -> list[Any]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(exceptions)))


def firm_invoice(firm: Firm, entity: str = "le-uk", n: int = 4) -> Invoice:
    """A real T&M invoice for the first hourly project of ``entity`` with approved time."""
    contracts = {c.id: c for c in firm.contracts if c.billing_model == "time_and_materials"}
    people = {r.id: r for r in firm.resources}
    taxes = {t.id: t for t in firm.tax_codes}
    for project in firm.projects:
        contract = contracts.get(project.contract_id or "")
        if contract is None or contract.legal_entity_id != entity:
            continue
        entries = [e for e in firm.time_entries if e.project_id == project.id and e.is_billable_approved][:n]
        priced = []
        for e in entries:
            try:
                priced.append(price_entry(e, contract, e.role or people[e.resource_id].role))
            except Exception:
                continue
        if not priced:
            continue
        tax = taxes.get(contract.tax_code_id or "")
        return build_time_invoice(
            invoice_id=f"INV-{project.id}-{priced[0].work_date:%Y-%m}-01",
            contract=contract,
            project_id=project.id,
            period=f"{priced[0].work_date:%Y-%m}",
            entries=priced,
            tax_rate=tax.rate if tax else Decimal(0),
            tax_code_id=tax.id if tax else None,
        )
    raise LookupError(f"no hourly project with approved time in {entity}")
