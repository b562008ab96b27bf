"""Salesforce settings: login URL, connected-app client credentials, API version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["SalesforceConfig"]


@dataclass(frozen=True, slots=True)
class SalesforceConfig:
    base_url: str  # the login host; API calls go to the instance_url the token response names
    client_id: str
    client_secret: Secret
    api_version: str = "v60.0"
    batch_size: int = 2000  # Sforce-Query-Options batchSize: 200-2000
    write_back: dict[str, str] = field(default_factory=dict)  # {project_id: Opportunity.Field__c}

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> SalesforceConfig:
        creds = entry.get("credentials") or {}
        return cls(
            base_url=entry["base_url"],
            client_id=str(resolve_secret(creds["client_id"]).reveal()),
            client_secret=resolve_secret(creds["client_secret"]),
            batch_size=int(entry.get("options", {}).get("batch_size", 2000)),
            write_back=dict(entry.get("write_back") or {}),
        )
