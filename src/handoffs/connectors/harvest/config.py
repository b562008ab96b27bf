"""Harvest connection settings, from a ``handoffs.yaml`` system entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["HarvestConfig"]

MAX_PER_PAGE = 2000  # Harvest's cap: a larger per_page answers 422


@dataclass(frozen=True, slots=True)
class HarvestConfig:
    """Args: base_url (``https://api.harvestapp.com``), account_id, token (personal access
    token or OAuth2 access token), per_page (at most 2000)."""

    base_url: str
    account_id: str
    token: Secret
    per_page: int = MAX_PER_PAGE

    def __post_init__(self) -> None:
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"harvest per_page must be 1-{MAX_PER_PAGE}")

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> HarvestConfig:
        creds = entry.get("credentials") or {}
        return cls(
            base_url=entry["base_url"],
            account_id=str(creds.get("account_id") or entry.get("account_id")),
            token=resolve_secret(creds["token"]),
            per_page=int(entry.get("options", {}).get("per_page", MAX_PER_PAGE)),
        )
