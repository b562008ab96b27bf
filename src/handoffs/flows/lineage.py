"""Lineage of an invoice line: what it bills, why it costs what it costs, where it went."""

from __future__ import annotations

from typing import Any

from handoffs.domain.codec import encode
from handoffs.domain.contracts import Contract

__all__ = ["invoice_line_lineage"]


def invoice_line_lineage(uow: Any, line_id: str) -> dict[str, Any] | None:
    """Everything a controller asks about one invoice line, as plain data (None if unknown)."""
    invoice_id = uow.invoices.invoice_of_line(line_id)
    if invoice_id is None:
        return None
    invoice = uow.invoices.get(invoice_id)
    line = next(x for x in invoice.lines if x.id == line_id)
    contract: Contract | None = uow.objects.get("contract", invoice.contract_id)
    version = None
    if contract is not None and line.rate_card_version is not None:
        version = next((v for v in contract.rate_card if v.version == line.rate_card_version), None)
    tax = uow.objects.get("tax_code", line.tax_code_id) if line.tax_code_id else None
    journal = uow.finance.journal(f"JE-{invoice.id}")
    return {
        "line": encode(line),
        "invoice": {
            "id": invoice.id,
            "kind": invoice.kind,
            "status": uow.invoices.status(invoice.id),
            "period": invoice.period,
            "issue_date": invoice.issue_date.isoformat(),
            "currency": invoice.currency,
            "total": str(invoice.total.amount),
            "customer_id": invoice.customer_id,
            "contract_id": invoice.contract_id,
            "project_id": invoice.project_id,
        },
        "sources": [_source(uow, s.type, s.id) for s in line.sources],
        "billing_links": [
            {"type": t, "id": i, "released_by": r} for t, i, r in uow.invoices.sources_of_line(line_id)
        ],
        "rate_card_version": encode(version) if version else None,
        "fx": _fx(line),
        "tax_rule": encode(tax) if tax else {"rate": "0", "note": "no tax code applies"},
        "policy_version": None,  # policies (approval, billable, GL rules) arrive as versioned files
        "journal": encode(journal) if journal else None,
        "deliveries": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()}
            for d in uow.deliveries.for_object("invoice", invoice.id)
        ],
        "erp_ids": uow.xrefs.for_object("invoice", invoice.id),
    }


def _source(uow: Any, kind: str, source_id: str) -> dict[str, Any]:
    if kind == "time_entry":
        stored = uow.time_entries.get(source_id)
        meta = uow.time_entries.meta(source_id) or {}
        entry = stored.entry if stored else None
        return {
            "type": kind,
            "id": source_id,
            "source_system": meta.get("source_system"),
            "source_version": meta.get("source_version"),
            "system_ids": uow.xrefs.for_object("time_entry", source_id),
            "approval": {
                "status": entry.status,
                "approved_by": entry.approved_by,
                "approved_at": entry.approved_at.isoformat() if entry and entry.approved_at else None,
            }
            if entry
            else None,
            "work_date": entry.work_date.isoformat() if entry else None,
            "hours": str(entry.hours) if entry else None,
            "resource_id": entry.resource_id if entry else None,
            "priced_at": {"rate": str(meta.get("rate")), "rate_card_version": meta.get("rate_card_version")},
            "recognised_by": meta.get("recognised_by"),
        }
    obj = uow.objects.get(kind, source_id) if kind in ("expense",) else None
    found: dict[str, Any] = {
        "type": kind,
        "id": source_id,
        "record": encode(obj) if obj else None,
        "system_ids": uow.xrefs.for_object(kind, source_id),
    }
    if kind == "expense" and obj is not None:
        found |= {
            "amount": {"amount": str(obj.amount.amount), "currency": obj.amount.currency},
            "incurred_on": obj.incurred_on.isoformat(),
            "resource_id": obj.resource_id,
            "approval": {"status": obj.status, "has_receipt": obj.has_receipt},
        }
    return found


def _fx(line: Any) -> dict[str, Any] | None:
    """The conversion of an expense line: rate and record, cost, converted cost, markup."""
    if not line.fx_rate_id and line.cost is None:
        return None
    money = {k: getattr(line, k) for k in ("cost", "converted_cost")}
    return {
        "rate": str(line.fx_rate) if line.fx_rate_id else None,
        "rate_id": line.fx_rate_id,
        **{k: {"amount": str(v.amount), "currency": v.currency} if v else None for k, v in money.items()},
        "markup": str(line.markup) if line.markup is not None else None,
    }
