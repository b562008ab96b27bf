"""Canonical invoice records for API tests: an issued invoice as a client would import it."""

from __future__ import annotations

from typing import Any

__all__ = ["invoice"]


def invoice(
    id_: str, sources: list[tuple[str, str]], *, entity: str = "LE-US", project: str = "P-001"
) -> dict[str, Any]:
    """An issued invoice of one time line billing ``sources``, as a client would import it."""
    usd = "USD"
    customer, contract = ("C-001", "K-001") if project == "P-001" else ("C-901", "K-901")

    def money(amount: str) -> dict[str, str]:
        return {"amount": amount, "currency": usd}

    return {
        "type": "invoice",
        "id": id_,
        "kind": "invoice",
        "legal_entity_id": entity,
        "customer_id": customer,
        "contract_id": contract,
        "project_id": project,
        "period": "2026-01",
        "issue_date": "2026-01-31",
        "currency": usd,
        "lines": [
            {
                "id": f"{id_}-L1",
                "kind": "time",
                "description": "legacy time",
                "quantity": "1.00",
                "unit_price": money("100.00"),
                "amount": money("100.00"),
                "tax": money("0.00"),
                "sources": [{"type": t, "id": i} for t, i in sources],
            }
        ],
        "subtotal": money("100.00"),
        "tax": money("0.00"),
        "total": money("100.00"),
    }
