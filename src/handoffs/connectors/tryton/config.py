"""Tryton settings: URL, database, login, password, and what the hub's codes are called there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["TrytonConfig"]


@dataclass(frozen=True, slots=True)
class TrytonConfig:
    """How to reach one Tryton database and which of its records the hub's invoices use.

    ``taxes`` maps the hub's tax code ids to ``account.tax`` names and ``revenue_account``
    names the ``account.account`` (by code, else by name) invoice lines are booked to; both
    are looked up once by name and checked by ``handoffs systems check``. An invoice whose
    create was never answered is looked for (by its ``reference``) every ``settle_poll``
    seconds for up to ``settle_seconds`` before it may be sent again.
    """

    base_url: str
    database: str
    login: str
    password: Secret
    taxes: Mapping[str, str] = field(default_factory=dict)
    revenue_account: str = "4.2.2"  # "Services" recognised over time in Tryton's universal chart
    journal: str = "REV"
    settle_seconds: float = 30.0
    settle_poll: float = 1.0

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> TrytonConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        return cls(
            base_url=entry["base_url"],
            database=creds["database"],
            login=creds["login"],
            password=resolve_secret(creds["password"]),
            taxes={str(k): str(v) for k, v in (options.get("taxes") or {}).items()},
            revenue_account=str(options.get("revenue_account", "4.2.2")),
            journal=str(options.get("journal", "REV")),
            settle_seconds=float(options.get("settle_seconds", 30.0)),
            settle_poll=float(options.get("settle_poll", 1.0)),
        )
