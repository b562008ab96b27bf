"""Workday RaaS connection settings: tenant, report owner and name, integration user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["WorkdayConfig"]


@dataclass(frozen=True, slots=True)
class WorkdayConfig:
    """The report URL is ``{base_url}/ccx/service/customreport2/{tenant}/{owner}/{report}``;
    basic auth as ``{user}@{tenant}``."""

    base_url: str
    tenant: str
    user: str
    password: Secret
    report: str
    since_prompt: str = "Updated_From"  # the report's own prompt for incremental runs

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> WorkdayConfig:
        creds = entry.get("credentials") or {}
        return cls(
            base_url=entry["base_url"],
            tenant=creds["tenant"],
            user=creds["user"],
            password=resolve_secret(creds["password"]),
            report=creds["report"],
        )
