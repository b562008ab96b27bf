"""Odoo settings: URL, database, login, password or API key, the RPC mode, timeouts and the
references the hub writes by id (companies, taxes, product, analytic plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["OdooConfig"]


@dataclass(frozen=True, slots=True)
class OdooConfig:
    """``mode``: ``session`` (``/web/session/authenticate`` once, then ``call_kw`` with the
    cookie; the user's *password* only) or ``jsonrpc`` (``/jsonrpc`` ``execute_kw`` with the
    uid; the password or an *API key*). Odoo 17 accepts an API key only on ``/jsonrpc`` and
    ``/xmlrpc``, so ``credential: api_key`` requires ``mode: jsonrpc``.

    ``taxes`` maps the hub's tax code ids to ``account.tax`` ids (else the tax code's
    identity link) and ``companies`` the hub's legal entity ids to ``res.company`` ids
    (else the entity's identity link, else company 1); ``handoffs systems check`` proves
    each exists and each tax is a sales tax.
    """

    base_url: str
    db: str
    login: str
    password: Secret
    mode: str = "session"
    credential: str = "password"
    product_id: int = 1  # the service product invoice lines use
    analytic_plan_id: int = 1  # the analytic plan contracts' analytic accounts belong to
    taxes: dict[str, int] = field(default_factory=dict)
    companies: dict[str, int] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0  # an invoice create on a busy Odoo can take many seconds
    settle_seconds: float = 120.0  # how long an unanswered create may take to show up

    def __post_init__(self) -> None:
        if self.mode not in ("session", "jsonrpc"):
            raise ValueError("odoo mode must be session or jsonrpc")
        if self.credential not in ("password", "api_key"):
            raise ValueError("odoo credential must be password or api_key")
        if self.credential == "api_key" and self.mode != "jsonrpc":
            raise ValueError(
                "an Odoo API key is accepted only on /jsonrpc, not by /web/session/authenticate: "
                "set options.mode: jsonrpc (or give the user's password)"
            )

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> OdooConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        secret = creds.get("api_key") or creds["password"]
        return cls(
            base_url=entry["base_url"],
            db=creds["db"],
            login=creds["login"],
            password=resolve_secret(secret),
            mode=options.get("mode", "session"),
            credential="api_key" if creds.get("api_key") else "password",
            product_id=int(options.get("product_id", 1)),
            analytic_plan_id=int(options.get("analytic_plan_id", 1)),
            taxes={str(k): int(v) for k, v in (options.get("taxes") or {}).items()},
            companies={str(k): int(v) for k, v in (options.get("companies") or {}).items()},
            connect_timeout=float(options.get("connect_timeout", 5.0)),
            read_timeout=float(options.get("read_timeout", 30.0)),
            settle_seconds=float(options.get("settle_seconds", 120.0)),
        )
