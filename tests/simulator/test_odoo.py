"""The Odoo 17-like ERP over JSON-RPC and session mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from handoffs.simulator.systems.odoo import OdooSim

CREDS = ["handoffs", 2, "sim-odoo-password"]


def _rpc(
    url: str,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    creds: list[Any] | None = None,
) -> dict[str, Any]:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [*(creds or CREDS), model, method, args, kwargs or {}],
        },
    }
    body: dict[str, Any] = httpx.post(f"{url}/jsonrpc", json=payload).json()
    return body


def test_login_and_access_denied(serve: Any, seeds: Any) -> None:
    url = serve(OdooSim(seeds["odoo"]))
    login = httpx.post(
        f"{url}/jsonrpc",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "common",
                "method": "authenticate",
                "args": ["handoffs", "integration@firm.example", "sim-odoo-password", {}],
            },
        },
    ).json()
    assert login["result"] == 2
    denied = _rpc(url, "res.partner", "search_read", [[]], creds=["handoffs", 2, "wrong"])
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_invoice_with_line_commands_posts_and_reads_back_totals(serve: Any, seeds: Any) -> None:
    system = OdooSim(seeds["odoo"])
    url = serve(system)
    partner = _rpc(url, "res.partner", "create", [{"name": "Acme", "is_company": True, "customer_rank": 1}])
    tax = next(t for t in seeds["odoo"]["account.tax"] if t["amount"] == "20.00")
    tax_id = tax["id"]
    move = _rpc(
        url,
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner["result"],
                "company_id": tax["company_id"],  # taxes only of the invoice's own company
                "invoice_date": "2025-03-31",
                "ref": "inv-1",
                "invoice_line_ids": [
                    [
                        0,
                        0,
                        {
                            "name": "Consulting",
                            "product_id": 1,
                            "quantity": 10,
                            "price_unit": 150.5,
                            "tax_ids": [[6, 0, [tax_id]]],
                        },
                    ]
                ],
            }
        ],
    )
    move_id = move["result"]
    assert _rpc(url, "account.move", "action_post", [[move_id]])["result"] is True
    read = _rpc(
        url,
        "account.move",
        "read",
        [[move_id]],
        {"fields": ["name", "state", "amount_untaxed", "amount_tax", "amount_total", "payment_state"]},
    )
    row = read["result"][0]
    assert row["state"] == "posted" and row["name"].startswith("INV/2025/")
    assert (row["amount_untaxed"], row["amount_tax"], row["amount_total"]) == (1505.0, 301.0, 1806.0)
    again = _rpc(url, "account.move", "action_post", [[move_id]])
    assert again["error"]["data"]["name"] == "odoo.exceptions.UserError"
    assert [r["operation"] for r in system.received] == ["create", "create", "action_post"]


def test_validation_errors_use_odoo_error_objects(serve: Any, seeds: Any) -> None:
    url = serve(OdooSim(seeds["odoo"]))
    missing = _rpc(url, "res.partner", "create", [{"email": "x@example.com"}])
    assert missing["error"]["code"] == 200 and missing["error"]["message"] == "Odoo Server Error"
    assert missing["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
    unknown = _rpc(url, "res.partner", "create", [{"name": "A", "colour": "red"}])
    assert "Invalid field 'colour'" in unknown["error"]["data"]["message"]


def test_session_mode_needs_the_cookie(serve: Any, seeds: Any) -> None:
    url = serve(OdooSim(seeds["odoo"]))
    call = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 2,
        "params": {
            "model": "hr.employee",
            "method": "search_read",
            "args": [[]],
            "kwargs": {"fields": ["name"], "limit": 3},
        },
    }
    expired = httpx.post(f"{url}/web/dataset/call_kw/hr.employee/search_read", json=call).json()
    assert expired["error"]["code"] == 100
    with httpx.Client(base_url=url) as client:
        auth = client.post(
            "/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "db": "handoffs",
                    "login": "integration@firm.example",
                    "password": "sim-odoo-password",
                },
            },
        )
        assert auth.json()["result"]["uid"] == 2
        rows = client.post("/web/dataset/call_kw/hr.employee/search_read", json=call).json()["result"]
    assert len(rows) == 3 and set(rows[0]) == {"id", "name"}


def test_plain_jsonrpc_rechecks_the_password_after_a_cache_invalidation(serve: Any, seeds: Any) -> None:
    seed = {**seeds["odoo"], "product.product": []}
    system = OdooSim(seed)
    url = serve(system)
    _rpc(url, "res.partner", "search_read", [[]])
    _rpc(url, "res.partner", "search_read", [[]])
    assert system.slow_password_checks == 1
    system.store.tables["product.product"] = {}
    system._cache_valid = False  # what a create on product.product does in Odoo
    _rpc(url, "res.partner", "search_count", [[["name", "ilike", "x"]]])
    assert system.slow_password_checks == 2


def test_strict_as_odoo_17_keys_sessions_private_methods_and_rounding(serve: Any, seeds: Any) -> None:
    """API keys only on /jsonrpc; an HTML 404 for a lost session on a multi-database server;
    private methods refused; quantities rounded to 2 decimals; a negative invoice not posted."""
    from handoffs.simulator.systems.odoo import ODOO_API_KEY

    system = OdooSim(seeds["odoo"], multi_db=True)
    url = serve(system)
    with_key = _rpc(url, "res.partner", "create", [{"name": "Acme"}], creds=["handoffs", 2, ODOO_API_KEY])
    assert isinstance(with_key["result"], int)
    session = httpx.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": "handoffs", "login": "integration@firm.example", "password": ODOO_API_KEY}},
    ).json()
    assert session["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    lost = httpx.post(f"{url}/web/dataset/call_kw/res.partner/search", json={"params": {"args": [[]]}})
    assert lost.status_code == 404 and lost.headers["content-type"].startswith("text/html")
    private = _rpc(url, "account.move", "_post", [[1]])
    assert "Private methods (such as _post)" in private["error"]["data"]["message"]
    line = {"name": "x", "product_id": 1, "quantity": 11.3333, "price_unit": -150}
    move = _rpc(
        url,
        "account.move",
        "create",
        [{"move_type": "out_invoice", "partner_id": 1, "invoice_line_ids": [[0, 0, line]]}],
    )["result"]
    held = system.store.tables["account.move"][move]
    assert held["_lines"][0]["quantity"] == Decimal("11.33") and held["amount_total"] == Decimal("-1699.50")
    refused = _rpc(url, "account.move", "action_post", [[move]])
    assert "negative total amount" in refused["error"]["data"]["message"]
    missing = _rpc(
        url,
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": 1,
                "invoice_line_ids": [[0, 0, {**line, "product_id": 99}]],
            }
        ],
    )
    assert missing["error"]["data"]["name"] == "odoo.exceptions.MissingError"
