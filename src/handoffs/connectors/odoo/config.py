"""Odoo settings: URL, database, login, password (or API key), and the RPC mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["OdooConfig"]


@dataclass(frozen=True, slots=True)
class OdooConfig:
    """``mode``: ``session`` (``/web/session/authenticate`` once, then ``call_kw`` with the
    cookie; avoids the slow password re-check) or ``jsonrpc`` (``/jsonrpc`` execute_kw)."""

    base_url: str
    db: str
    login: str
    password: Secret
    mode: str = "session"
    product_id: int = 1  # the service product invoice lines use
    analytic_plan_id: int = 1  # the analytic plan contracts' analytic accounts belong to

    def __post_init__(self) -> None:
        if self.mode not in ("session", "jsonrpc"):
            raise ValueError("odoo mode must be session or jsonrpc")

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> OdooConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        return cls(
            base_url=entry["base_url"],
            db=creds["db"],
            login=creds["login"],
            password=resolve_secret(creds["password"]),
            mode=options.get("mode", "session"),
            product_id=int(options.get("product_id", 1)),
            analytic_plan_id=int(options.get("analytic_plan_id", 1)),
        )
