"""NetSuite settings: account URL, token, whether to post asynchronously, service item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoffs.connectors.secrets import Secret, resolve_secret

__all__ = ["NetSuiteConfig"]


@dataclass(frozen=True, slots=True)
class NetSuiteConfig:
    """``respond_async`` sends ``Prefer: respond-async`` and polls the job (202 + Location)."""

    base_url: str
    token: Secret
    respond_async: bool = True
    poll_interval: float = 0.05
    max_polls: int = 40

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> NetSuiteConfig:
        creds = entry.get("credentials") or {}
        options = entry.get("options") or {}
        return cls(
            base_url=entry["base_url"],
            token=resolve_secret(creds["token"]),
            respond_async=bool(options.get("respond_async", True)),
        )
