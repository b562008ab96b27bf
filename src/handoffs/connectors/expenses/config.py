"""Expense tool settings: base URL, API key (sent as ``X-Api-Key``), page size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["ExpenseConfig"]


@dataclass(frozen=True, slots=True)
class ExpenseConfig:
    base_url: str
    api_key: Secret
    limit: int = 200  # the tool's maximum page size
    write_back: dict[str, str] = field(default_factory=dict)  # {invoiced: export}

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> ExpenseConfig:
        creds = entry.get("credentials") or {}
        return cls(
            entry["base_url"],
            resolve_secret(creds["api_key"]),
            int(entry.get("options", {}).get("limit", 200)),
            dict(entry.get("write_back") or {}),
        )
